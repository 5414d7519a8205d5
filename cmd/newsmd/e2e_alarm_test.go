package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// metricValue is the value of one series in a /metrics answer, or -1 when
// the answer lacks it.
func metricValue(t *testing.T, metrics, series string) float64 {
	t.Helper()
	for line := range strings.Lines(metrics) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), canonSeries(series)+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// canonSeries writes a series as the exposition does, its labels sorted
// by name: name{b="2",a="1"} → name{a="1",b="2"}.
func canonSeries(series string) string {
	name, labels, ok := strings.Cut(series, "{")
	if !ok {
		return series
	}
	pairs := strings.Split(strings.TrimSuffix(labels, "}"), ",")
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// sumSeries adds the values of every series of metric name.
func sumSeries(t *testing.T, metrics, name string) float64 {
	t.Helper()
	var sum float64
	for line := range strings.Lines(metrics) {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			_, v, _ := strings.Cut(strings.TrimSpace(line), "} ")
			if !strings.Contains(line, "{") {
				_, v, _ = strings.Cut(strings.TrimSpace(line), " ")
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			sum += f
		}
	}
	return sum
}

// TestRunAlarmLayoutGone: a real newsmd run whose zaobao rules no longer
// match the site's pages (every layout's selector names markup the pages
// lack, as the day the site is redesigned). Before any poll, /metrics
// already shows the alarm series at zero for every feed, site, layout and
// watched field. Then every story is written by the generic extractor:
// newsmd_generic_fallback_total{site="zaobao"} counts them, and one WARN
// line, not one per story, says to run newsmd doctor.
func TestRunAlarmLayoutGone(t *testing.T) {
	stories := fakesite.Stories(6, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	for i := range stories {
		stories[i].Layout = "sg"
	}
	site := fakesite.New(stories)
	defer site.Close()
	// The feeds go through a gate that holds every request until
	// released: /metrics is read before anything happened, whatever the
	// speed of the machine.
	release := make(chan struct{})
	siteURL, _ := url.Parse(site.URL())
	proxy := httputil.NewSingleHostReverseProxy(siteURL)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	defer gate.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = "127.0.0.1:0"
	c.Server.Tick = 200 * time.Millisecond
	c.Fetch.Timeout = 5 * time.Minute // the gate holds the first poll
	c.Feeds = nil
	for _, sec := range fakesite.Sections {
		c.Feeds = append(c.Feeds, yamlFeed(sec, "rss", gate.URL+strings.TrimPrefix(site.FeedURL(sec), site.URL())))
	}
	for i := range c.Sites[0].Layouts {
		l := &c.Sites[0].Layouts[i]
		if l.When != "" {
			l.When = ".markup-of-before-the-redesign"
		}
		if l.Hydration != nil {
			l.Hydration.Variable = "__dataOfBeforeTheRedesign"
		}
	}
	cfg := writeYAMLConfig(t, c, dir)

	cmd, exited, alive, stderr := startRun(t, cfg)
	base := "http://" + boundAddr(t, alive, stderr)
	code, metrics := httpGet(base + "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, metrics)
	}
	var zero []string
	for _, sec := range fakesite.Sections {
		zero = append(zero, `newsmd_feed_items{feed="`+sec+`"}`, `newsmd_feed_consecutive_empty_polls{feed="`+sec+`"}`,
			`newsmd_feed_consecutive_failures{feed="`+sec+`"}`)
	}
	for _, l := range []string{"sg-hydration", "sg-ldjson", "hk", "sg-2019"} {
		zero = append(zero, `newsmd_articles_written_total{site="zaobao",extractor="zaobao/`+l+`"}`,
			`newsmd_articles_missing_field_total{site="zaobao",layout="`+l+`",field="author"}`)
	}
	zero = append(zero, `newsmd_articles_written_total{site="zaobao",extractor="generic"}`,
		`newsmd_generic_fallback_total{site="zaobao"}`, `newsmd_articles_truncated_total{site="zaobao"}`)
	for _, s := range zero {
		if got := metricValue(t, metrics, s); got != 0 {
			t.Errorf("before any poll: %s: got %v, want 0 (-1: absent)\n%s", s, got, metrics)
		}
	}
	if n := countMD(dir); n != 0 {
		t.Fatalf("%d posts written while the gate held the feeds", n)
	}

	close(release)
	released = true
	waitFor(t, "the stories to be written", alive, func() bool {
		return countMD(dir) == len(stories)
	}, stderr)
	_, metrics = httpGet(base + "/metrics")
	for s, want := range map[string]float64{
		`newsmd_generic_fallback_total{site="zaobao"}`:                       float64(len(stories)),
		`newsmd_articles_written_total{site="zaobao",extractor="generic"}`:   float64(len(stories)),
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/hk"}`: 0,
		`newsmd_feed_items{feed="china"}`:                                    2, // stories 0 and 4
		`newsmd_feed_consecutive_failures{feed="china"}`:                     0,
	} {
		if got := metricValue(t, metrics, s); got != want {
			t.Errorf("%s: got %v, want %v\n%s", s, got, want, metrics)
		}
	}
	warn := stderr.lines("no layout of its site matched")
	if n := strings.Count(warn, "\n"); n != 1 || !strings.Contains(warn, `"level":"WARN"`) || !strings.Contains(warn, "newsmd doctor --url http://"+site.Host()+"/realtime/") {
		t.Errorf("got %d fallback lines, want one WARN pointing newsmd doctor at a story:\n%s", n, warn)
	}
	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
}

// TestOnceLayoutsChange: once prints the written stories by layout; when
// the site serves its next stories in markup the rules do not know, the
// next once writes them with the generic extractor, says so in its
// summary, and logs one WARN with a hint.
func TestOnceLayoutsChange(t *testing.T) {
	stories := fakesite.Stories(6, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out, errOut)
	}
	// Stories.go alternates layouts: 1 and 4 are HK, the others SG.
	if !strings.Contains(out, "; layouts: sg-ldjson=4 hk=2\n") {
		t.Errorf("once printed %q, want layouts: sg-ldjson=4 hk=2", out)
	}
	if strings.Contains(errOut, "no layout of its site matched") {
		t.Errorf("a fallback warning while the rules match:\n%s", errOut)
	}

	// The redesign: three new stories, their pages in markup no layout
	// knows (.articleBody renamed).
	more := fakesite.Stories(9, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	for _, st := range more[6:] {
		st.Layout = "sg"
		site.AddPage(st.Path(), fakesite.Page{ContentType: "text/html; charset=utf-8",
			Body: strings.ReplaceAll(fakesite.ArticleHTML(st), `class="articleBody"`, `class="story-text"`)})
	}
	site.SetStories(more)
	code, out, errOut = run1(t, "once", "--config", cfg)
	if code != 0 {
		t.Fatalf("second once: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "3 written") || !strings.Contains(out, "; layouts: generic=3\n") {
		t.Errorf("second once printed %q, want 3 written, layouts: generic=3", out)
	}
	if n := strings.Count(errOut, "no layout of its site matched"); n != 1 || !strings.Contains(errOut, "newsmd doctor --url") {
		t.Errorf("%d fallback warnings, want one with a newsmd doctor hint:\n%s", n, errOut)
	}
}
