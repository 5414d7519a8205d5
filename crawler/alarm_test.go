package crawler

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"go.yaml.in/yaml/v3"
)

// zaobaoSite is a fake zaobao for the alarm tests: an RSS feed at /rss
// listing its stories, and their pages. page renders a story; a test
// swaps it to change the site under the runner.
type zaobaoSite struct {
	mu      sync.Mutex
	stories []fakesite.Story
	page    func(fakesite.Story) string
}

func (z *zaobaoSite) set(stories []fakesite.Story, page func(fakesite.Story) string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.stories, z.page = stories, page
}

func (z *zaobaoSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if r.URL.Path == "/rss" {
		io.WriteString(w, fakesite.FeedXML("china", z.stories, "http://"+r.Host))
		return
	}
	for _, st := range z.stories {
		if st.Path() == r.URL.Path {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, z.page(st))
			return
		}
	}
	http.NotFound(w, r)
}

// alarmRunner is testRunner with metrics and a log the test reads, built
// by New as cmd builds it, and the zaobao rules extended to the test
// server's host, as the end-to-end tests extend them to the fake site.
func alarmRunner(t *testing.T, h http.Handler, cfgs ...config.Feed) (*Runner, *Metrics, *lockedLog) {
	t.Helper()
	r, _, _, srv := testRunner(t, h, cfgs...)
	host := strings.TrimPrefix(srv.URL, "http://")
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Sites []config.Site `yaml:"sites"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Sites[0].Hosts = append(cfg.Sites[0].Hosts, host)
	cfg.Sites[0].CanonicalHost, cfg.Sites[0].CanonicalScheme = host, "http"
	sites, errs := site.Compile("sites", cfg.Sites)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	d := r.dep
	d.Sites = sites
	d.Metrics = watch.NewMetrics(watch.BuildInfo{})
	logs := &lockedLog{}
	d.Log = slog.New(slog.NewTextHandler(logs, nil))
	return New(r.cfg, d), d.Metrics, logs
}

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count is how many lines of the log hold all of subs.
func (l *lockedLog) count(subs ...string) int {
	n := 0
	for line := range strings.Lines(l.String()) {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
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

// metric is the value of one series in m's exposition, or -1 when m does
// not show it.
func metric(t *testing.T, m *Metrics, series string) float64 {
	t.Helper()
	var b strings.Builder
	m.WriteTo(&b)
	for line := range strings.Lines(b.String()) {
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

// TestAlarmSeriesAtZero: the alarm series of every configured feed, site,
// layout and watched field are in the metrics before anything happened,
// at zero, so that an alert on them sees 0 and not "absent".
func TestAlarmSeriesAtZero(t *testing.T) {
	r, _, _, _ := testRunner(t, http.NotFoundHandler(), config.Feed{Name: "china", URL: "/rss"}, config.Feed{Name: "world", URL: "/world"})
	d := r.dep
	m := watch.NewMetrics(watch.BuildInfo{})
	d.Metrics = m
	New(r.cfg, d)
	for _, s := range []string{
		`newsmd_feed_items{feed="china"}`,
		`newsmd_feed_items{feed="world"}`,
		`newsmd_feed_consecutive_empty_polls{feed="china"}`,
		`newsmd_feed_consecutive_failures{feed="world"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/sg-hydration"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/hk"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="generic"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="feed"}`,
		// The feeds are on 127.0.0.1, which no rule covers: their own
		// stories are written without rules.
		`newsmd_articles_written_total{site="",extractor="generic"}`,
		`newsmd_generic_fallback_total{site="zaobao"}`,
		`newsmd_articles_truncated_total{site="zaobao"}`,
		`newsmd_articles_missing_field_total{site="zaobao",layout="sg-hydration",field="author"}`,
		`newsmd_articles_missing_field_total{site="zaobao",layout="sg-ldjson",field="section"}`,
		// hk has no section rule, but the site's URL pattern fills it.
		`newsmd_articles_missing_field_total{site="zaobao",layout="hk",field="section"}`,
		`newsmd_articles_missing_field_total{site="zaobao",layout="hk",field="image"}`,
	} {
		if got := metric(t, m, s); got != 0 {
			t.Errorf("%s: got %v, want 0 before any poll (-1: absent)", s, got)
		}
	}
	// modified is not watched: an unedited story has none.
	if got := metric(t, m, `newsmd_articles_missing_field_total{site="zaobao",layout="sg-hydration",field="modified"}`); got != -1 {
		t.Errorf("modified is counted (%v), want it left out", got)
	}
	// When every feed is on a ruled host, no story is written without
	// rules: no series for it.
	_, m, _ = alarmRunner(t, http.NotFoundHandler(), config.Feed{Name: "china", URL: "/rss"})
	if got := metric(t, m, `newsmd_articles_written_total{site="",extractor="generic"}`); got != -1 {
		t.Errorf("feeds all on ruled hosts: a series of stories without rules (%v), want none", got)
	}
}

func stories(from, n int, author string) []fakesite.Story {
	out := fakesite.Stories(from+n, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[from:]
	for i := range out {
		out[i].Section, out[i].Layout, out[i].Author = "china", "sg", author
	}
	return out
}

// movedPage is the SG page after a redesign the rules do not know: the
// body is no longer .articleBody, so no zaobao layout matches, and the
// generic extractor takes the story.
func movedPage(st fakesite.Story) string {
	return strings.ReplaceAll(fakesite.ArticleHTML(st), `class="articleBody"`, `class="story-text"`)
}

// TestAlarmLayoutStopsMatching: the site changes its markup under the
// runner. The stories after the change are written by the generic
// extractor: newsmd_generic_fallback_total counts each, one WARN (not one
// per story) says to run newsmd doctor on the first, and the summary
// counts the stories by layout.
func TestAlarmLayoutStopsMatching(t *testing.T) {
	z := &zaobaoSite{}
	r, m, logs := alarmRunner(t, z, config.Feed{Name: "china", URL: "/rss"})

	before := stories(0, 3, "记者甲")
	z.set(before, fakesite.ArticleHTML)
	sum, err := r.Once(t.Context())
	if err != nil || sum.Written != 3 {
		t.Fatalf("before the change: %v, %v; want 3 written", sum, err)
	}
	if !strings.Contains(sum.String(), "; layouts: sg-ldjson=3") {
		t.Errorf("summary %q: want layouts: sg-ldjson=3", sum)
	}
	if got := metric(t, m, `newsmd_articles_written_total{site="zaobao",extractor="zaobao/sg-ldjson"}`); got != 3 {
		t.Errorf("written by sg-ldjson: got %v, want 3", got)
	}
	if got := metric(t, m, `newsmd_generic_fallback_total{site="zaobao"}`); got != 0 {
		t.Errorf("fallbacks before the change: got %v, want 0", got)
	}

	after := stories(3, 4, "记者甲")
	z.set(append(before, after...), movedPage)
	sum, err = r.Once(t.Context())
	if err != nil || sum.Written != 4 {
		t.Fatalf("after the change: %v, %v; want 4 written", sum, err)
	}
	if !strings.Contains(sum.String(), "; layouts: generic=4") {
		t.Errorf("summary %q: want layouts: generic=4", sum)
	}
	for s, want := range map[string]float64{
		`newsmd_generic_fallback_total{site="zaobao"}`:                                         4,
		`newsmd_articles_written_total{site="zaobao",extractor="generic"}`:                     4,
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/sg-ldjson"}`:            3,
		`newsmd_articles_missing_field_total{site="zaobao",layout="sg-ldjson",field="author"}`: 0,
	} {
		if got := metric(t, m, s); got != want {
			t.Errorf("%s: got %v, want %v", s, got, want)
		}
	}
	first := strings.TrimSuffix(r.dep.Feeds[0].URL(), "/rss") + after[0].Path()
	if n := logs.count("level=WARN", "no layout of its site matched"); n != 1 {
		t.Errorf("%d fallback warnings, want 1:\n%s", n, logs)
	}
	if n := logs.count("level=WARN", "no layout of its site matched", "newsmd doctor --url "+first); n != 1 {
		t.Errorf("the fallback warning does not point newsmd doctor at %s:\n%s", first, logs)
	}

	// The rules are fixed (here: the site goes back): the next story is
	// extracted by its layout and the alarm clears.
	z.set(append(append(before, after...), stories(7, 1, "记者甲")...), fakesite.ArticleHTML)
	if sum, err = r.Once(t.Context()); err != nil || sum.Written != 1 {
		t.Fatalf("after the fix: %v, %v; want 1 written", sum, err)
	}
	if n := logs.count("level=INFO", "a layout of the site matches again", "generic_stories=4"); n != 1 {
		t.Errorf("%d lines saying the layout matches again, want 1:\n%s", n, logs)
	}
}

// TestAlarmFieldLost: the layout still matches, but the byline moved:
// stories are written without an author. Each is counted in
// newsmd_articles_missing_field_total, and one WARN says so once five in
// a row lack it, since the layout found it before. A field the layout
// never found raises no alarm.
func TestAlarmFieldLost(t *testing.T) {
	z := &zaobaoSite{}
	r, m, logs := alarmRunner(t, z, config.Feed{Name: "china", URL: "/rss"})

	// The feed lists newest first: the two with a byline were first.
	list := append(stories(2, watch.MissingFieldAlarm+2, ""), stories(0, 2, "记者甲")...)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	z.set(list, fakesite.ArticleHTML)
	sum, err := r.Once(t.Context())
	if err != nil || sum.Written != len(list) {
		t.Fatalf("%v, %v; want %d written", sum, err, len(list))
	}
	if got := metric(t, m, `newsmd_articles_missing_field_total{site="zaobao",layout="sg-ldjson",field="author"}`); got != watch.MissingFieldAlarm+2 {
		t.Errorf("stories without an author: got %v, want %d", got, watch.MissingFieldAlarm+2)
	}
	if n := logs.count("level=WARN", "no longer finds a field", "field=author", "layout=sg-ldjson", "hint="); n != 1 {
		t.Errorf("%d warnings of the lost author, want 1:\n%s", n, logs)
	}
	// The fake pages carry a section, keywords and an image: no alarm.
	if n := logs.count("no longer finds a field"); n != 1 {
		t.Errorf("%d field warnings, want only the author's:\n%s", n, logs)
	}

	// A site whose stories never had a byline: counted, never a WARN.
	z2 := &zaobaoSite{}
	r2, m2, logs2 := alarmRunner(t, z2, config.Feed{Name: "china", URL: "/rss"})
	z2.set(stories(0, watch.MissingFieldAlarm+1, ""), fakesite.ArticleHTML)
	if _, err := r2.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, m2, `newsmd_articles_missing_field_total{site="zaobao",layout="sg-ldjson",field="author"}`); got != watch.MissingFieldAlarm+1 {
		t.Errorf("never found: got %v stories without an author, want %d", got, watch.MissingFieldAlarm+1)
	}
	if n := logs2.count("no longer finds a field"); n != 0 {
		t.Errorf("a field the layout never found raised %d warnings:\n%s", n, logs2)
	}
}

// TestAlarmFeedStreaks: a feed that answers with nothing to fetch, and a
// feed that fails, poll after poll. Their gauges count the streaks; each
// raises one WARN when its streak reaches the threshold, not one per
// poll; a good poll resets the gauges and says so.
func TestAlarmFeedStreaks(t *testing.T) {
	var (
		mu   sync.Mutex
		good bool
	)
	empty := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>`
	mux := http.NewServeMux()
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if good {
			io.WriteString(w, fakesite.FeedXML("china", stories(0, 1, "记者甲"), "http://"+r.Host))
			return
		}
		io.WriteString(w, empty)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if good {
			io.WriteString(w, empty)
			return
		}
		http.Error(w, "down", http.StatusInternalServerError)
	})
	z := &zaobaoSite{}
	z.set(stories(0, 1, "记者甲"), fakesite.ArticleHTML)
	mux.Handle("/", z)
	r, m, logs := alarmRunner(t, mux, config.Feed{Name: "quiet", URL: "/empty"}, config.Feed{Name: "dead", URL: "/down"})

	polls := watch.EmptyPollsAlarm + 2
	for i := 1; i <= polls; i++ {
		if _, err := r.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, m, `newsmd_feed_consecutive_empty_polls{feed="quiet"}`); got != float64(i) {
			t.Errorf("poll %d: empty polls of quiet: got %v, want %d", i, got, i)
		}
		if got := metric(t, m, `newsmd_feed_consecutive_failures{feed="dead"}`); got != float64(i) {
			t.Errorf("poll %d: failures of dead: got %v, want %d", i, got, i)
		}
	}
	if n := logs.count("level=WARN", "feed lists no story", "feed=quiet", "newsmd doctor --feed quiet"); n != 1 {
		t.Errorf("%d warnings of the empty feed after %d polls, want 1:\n%s", n, polls, logs)
	}
	if n := logs.count("level=WARN", "feed keeps failing", "feed=dead", "newsmd doctor --feed dead"); n != 1 {
		t.Errorf("%d warnings of the failing feed after %d polls, want 1:\n%s", n, polls, logs)
	}
	if got := metric(t, m, `newsmd_feed_items{feed="quiet"}`); got != 0 {
		t.Errorf("items of quiet: got %v, want 0", got)
	}

	mu.Lock()
	good = true
	mu.Unlock()
	if _, err := r.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]float64{
		`newsmd_feed_items{feed="quiet"}`:                   1,
		`newsmd_feed_consecutive_empty_polls{feed="quiet"}`: 0,
		`newsmd_feed_consecutive_failures{feed="dead"}`:     0,
		// dead answers now, with nothing in it: a new empty streak.
		`newsmd_feed_consecutive_empty_polls{feed="dead"}`: 1,
	} {
		if got := metric(t, m, s); got != want {
			t.Errorf("after a good poll: %s: got %v, want %v", s, got, want)
		}
	}
	if n := logs.count("level=INFO", "feed lists stories again", fmt.Sprintf("empty_polls=%d", polls)); n != 1 {
		t.Errorf("%d lines of quiet listing again, want 1:\n%s", n, logs)
	}
	if n := logs.count("level=INFO", "feed answers again", fmt.Sprintf("failed_polls=%d", polls)); n != 1 {
		t.Errorf("%d lines of dead answering again, want 1:\n%s", n, logs)
	}

	// Down again: the streaks start over.
	mu.Lock()
	good = false
	mu.Unlock()
	if _, err := r.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]float64{
		`newsmd_feed_consecutive_empty_polls{feed="quiet"}`: 1,
		`newsmd_feed_consecutive_failures{feed="dead"}`:     1,
	} {
		if got := metric(t, m, s); got != want {
			t.Errorf("a new streak: %s: got %v, want %v", s, got, want)
		}
	}
}

// TestTruncatedCounted: a story cut short by a paywall prompt is written
// marked truncated, and counted per site.
func TestTruncatedCounted(t *testing.T) {
	z := &zaobaoSite{}
	r, m, _ := alarmRunner(t, z, config.Feed{Name: "china", URL: "/rss"})
	paywalled := func(st fakesite.Story) string {
		page := fakesite.ArticleHTML(st)
		if st.ID%2 == 0 {
			page = strings.Replace(page, "<button>分享</button>", `<div class="cta-subscribe">订阅以继续阅读全文</div>`, 1)
		}
		return page
	}
	z.set(stories(0, 3, "记者甲"), paywalled)
	if sum, err := r.Once(t.Context()); err != nil || sum.Written != 3 {
		t.Fatalf("%v, %v; want 3 written", sum, err)
	}
	if got := metric(t, m, `newsmd_articles_truncated_total{site="zaobao"}`); got != 2 {
		t.Errorf("truncated: got %v, want 2 (stories 3000000 and 3000002)", got)
	}
}

// TestAlarmSiteWithoutLayouts: a site named by its hosts alone is read by
// the generic extractor. Its stories are counted under its name as
// "generic"; that is its rule, not a fallback: no fallback series, no
// warning to fix layouts it does not have.
func TestAlarmSiteWithoutLayouts(t *testing.T) {
	z := &zaobaoSite{}
	r, _, _, srv := testRunner(t, z, config.Feed{Name: "other", URL: "/rss"})
	host := strings.TrimPrefix(srv.URL, "http://")
	sites, errs := site.Compile("sites", []config.Site{{Name: "other", Title: "Other News", Hosts: []string{host}}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	d := r.dep
	d.Sites, d.Metrics = sites, watch.NewMetrics(watch.BuildInfo{})
	logs := &lockedLog{}
	d.Log = slog.New(slog.NewTextHandler(logs, nil))
	r = New(r.cfg, d)
	m := d.Metrics
	if got := metric(t, m, `newsmd_articles_written_total{site="other",extractor="generic"}`); got != 0 {
		t.Errorf("generic series before any poll: got %v, want 0", got)
	}
	if got := metric(t, m, `newsmd_generic_fallback_total{site="other"}`); got != -1 {
		t.Errorf("fallback series of a site without layouts: got %v, want none (-1)", got)
	}

	z.set(stories(0, 3, "记者甲"), movedPage)
	sum, err := r.Once(t.Context())
	if err != nil || sum.Written != 3 {
		t.Fatalf("once: %v, %v; want 3 written", sum, err)
	}
	if !strings.Contains(sum.String(), "; layouts: generic=3") {
		t.Errorf("summary %q: want layouts: generic=3", sum)
	}
	if got := metric(t, m, `newsmd_articles_written_total{site="other",extractor="generic"}`); got != 3 {
		t.Errorf("written by generic: got %v, want 3", got)
	}
	if got := metric(t, m, `newsmd_generic_fallback_total{site="other"}`); got != -1 {
		t.Errorf("fallbacks: got %v, want no series", got)
	}
	if n := logs.count("level=WARN"); n != 0 {
		t.Errorf("%d warnings, want none:\n%s", n, logs)
	}
}
