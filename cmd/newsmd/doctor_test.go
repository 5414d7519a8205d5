package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// reportHas reports whether the report out holds want, with any run of
// spaces in either standing for one: the columns are for people.
func reportHas(out, want string) bool {
	squeeze := func(s string) string {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
	}
	return strings.Contains(squeeze(out), squeeze(want))
}

// noStateWritten checks that doctor left the store and the archive alone.
func noStateWritten(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"state.db", "_posts"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("doctor created %s; it must write nothing", name)
		}
	}
}

// TestDoctorHealthy: on a site its rules fit, doctor polls every feed,
// fetches each feed's newest story once, names each feed OK and exits 0.
func TestDoctorHealthy(t *testing.T) {
	stories := fakesite.Stories(16, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)

	code, out, errOut := run1(t, "doctor", "--config", cfg)
	if code != 0 {
		t.Fatalf("doctor: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{"china", "world", "singapore", "finance", "china-listing", "world-json"} {
		if !strings.Contains(out, "verdict      OK: feed "+name) {
			t.Errorf("the report does not name feed %s OK:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "overall: OK (6 of 6 healthy)") || strings.Contains(out, "BROKEN") {
		t.Errorf("overall verdict:\n%s", out)
	}
	for _, want := range []string{"extractor    zaobao/sg-ldjson", "extractor    zaobao/hk", "title          ← ldjson:headline", "title          ← css:h1.article-title"} {
		if !reportHas(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	// The newest story of each section, once for the section's three
	// feeds (china: RSS and listing, world: RSS and JSON listing).
	for _, sec := range fakesite.Sections {
		var newest fakesite.Story
		for _, st := range stories {
			if st.Section == sec && st.Published.After(newest.Published) {
				newest = st
			}
		}
		want := 1
		if sec == "china" || sec == "world" {
			want = 2
		}
		if got := site.Hits(newest.Path()); got != want {
			t.Errorf("%s's newest story fetched %d times, want %d", sec, got, want)
		}
	}
	noStateWritten(t, dir)

	code, out, _ = run1(t, "doctor", "--config", cfg, "--feed", "world-json")
	if code != 0 || !strings.Contains(out, "feed world-json") || strings.Contains(out, "feed china") {
		t.Errorf("doctor --feed world-json: exit %d\n%s", code, out)
	}
	code, _, errOut = run1(t, "doctor", "--config", cfg, "--feed", "nope")
	if code != 2 || !strings.Contains(errOut, `no feed named "nope"`) || !strings.Contains(errOut, "china-listing") {
		t.Errorf("doctor --feed nope: exit %d, want 2 and the feed names\n%s", code, errOut)
	}
}

// TestDoctorBroken: one feed's stories moved to a page shape no layout
// matches (the hk layout's `when` selector names a class the pages no
// longer have) and one feed is gone (404). Doctor exits 1 and names
// exactly those two problems, and the healthy feed OK.
func TestDoctorBroken(t *testing.T) {
	stories := fakesite.Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	for i := range stories {
		stories[i].Layout = "sg"
		if stories[i].Section == "china" {
			stories[i].Layout = "hk"
		}
	}
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	path := e2eConfig(t, site, dir)
	var c config.Config
	readYAMLConfig(t, path, &c)
	c.Feeds = []config.Feed{
		yamlFeed("china", "rss", site.FeedURL("china")),
		yamlFeed("world", "rss", site.FeedURL("world")),
		yamlFeed("gone", "rss", site.FeedURL("gone")),
	}
	hk := slices.IndexFunc(c.Sites[0].Layouts, func(l config.Layout) bool { return l.Name == "hk" })
	c.Sites[0].Layouts[hk].When = "article.article-body-v2"
	cfg := writeYAMLConfig(t, &c, dir)

	code, out, errOut := run1(t, "doctor", "--config", cfg)
	if code != 1 {
		t.Fatalf("doctor: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "2 problem(s) found") {
		t.Errorf("stderr: %s", errOut)
	}
	_, summary, ok := strings.Cut(out, "overall: BROKEN (1 of 3 healthy)\n")
	if !ok {
		t.Fatalf("no overall verdict BROKEN (1 of 3 healthy):\n%s", out)
	}
	wantSummary := []string{
		"  china: no zaobao layout matched the story page; the generic extractor was used",
		"  gone: feed unreachable: HTTP 404 Not Found",
	}
	if got := strings.Split(strings.TrimRight(summary, "\n"), "\n"); !slices.Equal(got, wantSummary) {
		t.Errorf("problems: got\n%s\nwant\n%s", summary, strings.Join(wantSummary, "\n"))
	}
	for _, want := range []string{
		"verdict      OK: feed world",
		`hk             ✗ page does not match "article.article-body-v2"`,
		"extractor    none: fell to generic (no zaobao layout matched)",
		"fix: the layouts above say why each does not apply: fix the `when` selector or `hydration` of the one meant for this page under sites[0].layouts",
		"fix: open " + site.FeedURL("gone") + " in a browser; if the site moved the feed, fix feeds[2].url",
	} {
		if !reportHas(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run1(t, "doctor", "--config", cfg, "--json")
	if code != 1 {
		t.Errorf("doctor --json: exit %d, want 1", code)
	}
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	problems := map[string][]string{}
	for _, f := range rep.Feeds {
		for _, p := range f.Problems {
			problems[f.Name] = append(problems[f.Name], p.What)
		}
	}
	if rep.OK || len(rep.Feeds) != 3 || len(problems) != 2 || len(problems["china"]) != 1 || len(problems["gone"]) != 1 {
		t.Errorf("doctor --json: ok %v, %d feeds, problems %q", rep.OK, len(rep.Feeds), problems)
	}
	if rep.Feeds[2].Status != 404 {
		t.Errorf("gone: status %d, want 404", rep.Feeds[2].Status)
	}
	noStateWritten(t, dir)
}

// TestDoctorURL: --url checks one story page, polling no feed.
func TestDoctorURL(t *testing.T) {
	stories := fakesite.Stories(2, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	hk := stories[1] // Stories makes every third story, from the second, hk.
	if hk.Layout != "hk" {
		t.Fatalf("story 1 has layout %q, want hk", hk.Layout)
	}

	code, out, errOut := run1(t, "doctor", "--config", cfg, "--url", site.StoryURL(hk))
	if code != 0 {
		t.Fatalf("doctor --url: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"story        " + site.StoryURL(hk),
		"fetched      HTTP 200",
		"hk             ✓ gave the article",
		"extractor    zaobao/hk",
		`title          ← css:h1.article-title         "` + hk.Title + `"`,
		"published      ← ldjson:datePublished",
		"author         ← css:.author-info span | re:作者[：:]\\s*(\\S.*) \"" + hk.Author + `"`,
		"body           ← css:article.article-body",
		"modified       ✗ missing (tried ldjson:dateModified)",
		"image_caption ✗ missing (no image)",
		"verdict      OK: story (missing modified",
		"overall: OK (1 of 1 healthy)",
	} {
		if !reportHas(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if n := len(site.Requests()); n != 2 { // robots.txt and the page
		t.Errorf("doctor --url made %d requests, want 2 (robots.txt, the page)", n)
	}

	code, out, _ = run1(t, "doctor", "--config", cfg, "--url", site.StoryURL(hk), "--json")
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || len(rep.Feeds) != 1 || rep.Feeds[0].Story == nil ||
		rep.Feeds[0].Story.Diagnosis == nil || rep.Feeds[0].Story.Diagnosis.Extractor != "zaobao/hk" {
		t.Errorf("doctor --url --json: exit %d, %v\n%s", code, err, out)
	}

	code, out, _ = run1(t, "doctor", "--config", cfg, "--url", site.URL()+"/realtime/china/story20240301-9")
	if code != 1 || !strings.Contains(out, "story page fetch failed: HTTP 404 Not Found") {
		t.Errorf("doctor --url on a missing page: exit %d, want 1\n%s", code, out)
	}
	noStateWritten(t, dir)
}

// TestDoctorLayoutLacksField: the layout meant for the pages still
// matches them, but its title sources find nothing. Doctor names that
// layout and its title key, shows which of its fields still work, and
// exits 1.
func TestDoctorLayoutLacksField(t *testing.T) {
	stories := fakesite.Stories(4, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	for i := range stories {
		stories[i].Layout = "sg"
	}
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	path := e2eConfig(t, site, dir)
	var c config.Config
	readYAMLConfig(t, path, &c)
	c.Feeds = []config.Feed{yamlFeed("world", "rss", site.FeedURL("world"))}
	sg := slices.IndexFunc(c.Sites[0].Layouts, func(l config.Layout) bool { return l.Name == "sg-ldjson" })
	c.Sites[0].Layouts[sg].Title = []string{"css:h1.headline-v2"}
	cfg := writeYAMLConfig(t, &c, dir)

	code, out, errOut := run1(t, "doctor", "--config", cfg)
	if code != 1 {
		t.Fatalf("doctor: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	_, summary, ok := strings.Cut(out, "overall: BROKEN (0 of 1 healthy)\n")
	want := "  world: layout zaobao/sg-ldjson matches the story page but gives no article: no title; the generic extractor was used\n"
	if !ok || summary != want {
		t.Errorf("problems: got\n%s\nwant\n%s", summary, want)
	}
	for _, want := range []string{
		"sg-ldjson ✗ matches, but no title",
		"title ✗ missing (tried css:h1.headline-v2)",
		"published ← ldjson:datePublished 2024-03-01T14:07:00+08:00",
		fmt.Sprintf("fix: fix the sources of sites[0].layouts[%d].title", sg),
	} {
		if !reportHas(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	noStateWritten(t, dir)
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"doctor", "--config", "../../config.yaml", "--feed", "zaobao-china", "--url", "https://www.zaobao.com/realtime/china/story20240301-1"},
		{"doctor", "--config", "../../config.yaml", "--url", "ftp://www.zaobao.com/x"},
		{"doctor", "--config", "../../config.yaml", "extra"},
	} {
		if code, _, errOut := run(t, args...); code != exitUsage || !strings.Contains(errOut, "newsmd: error: doctor: ") {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, errOut)
		}
	}
	code, _, errOut := run(t, "doctor", "-h")
	if code != 0 || !strings.Contains(errOut, "read-only") {
		t.Errorf("doctor -h: exit %d, want 0 and the word read-only\n%s", code, errOut)
	}
}

// TestDoctorFeedURLs: after the site moved /realtime/ to /news/, a feed
// of the shipped shape (the old JSON listing, then the new section page)
// and a feed of the old section page, which now redirects, are healthy:
// doctor tries the URLs in order, as a poll does, and says which answered
// and what to change in the config. A feed none of whose URLs answers
// names them all.
func TestDoctorFeedURLs(t *testing.T) {
	site := fakesite.New(fakesite.Stories(8, time.Date(2026, 7, 28, 6, 0, 0, 0, time.UTC)))
	defer site.Close()
	site.Restructure()
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	shipped := config.Default().Feeds[0]
	moved := shipped
	moved.Name = "moved"
	moved.URLs = []string{
		site.URL() + "/_plat/api/v2/page-content/realtime/china?page={page}",
		site.NewsListingURL("china"),
	}
	old := yamlFeed("old-page", "listing", site.ListingURL("china"))
	old.Links = shipped.Links
	dead := yamlFeed("dead", "listing", site.URL()+"/realtime/gone?page={page}")
	dead.URLs = []string{site.URL() + "/news/gone"}
	dead.Links = shipped.Links
	c.Feeds = []config.Feed{moved, old, dead}
	cfg := writeYAMLConfig(t, c, dir)

	code, out, errOut := run1(t, "doctor", "--config", cfg)
	if code != 1 {
		t.Fatalf("doctor: exit %d, want 1 (the dead feed)\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"feed moved (listing) " + site.NewsListingURL("china"),
		"url 1 " + site.URL() + "/_plat/api/v2/page-content/realtime/china?page=0: HTTP 404 Not Found",
		"url 2 " + site.NewsListingURL("china") + ": HTTP 200",
		"note answered by URL 2 of 2 (" + site.NewsListingURL("china") + ")",
		"verdict OK: feed moved",
		"note " + site.ListingURL("china") + " redirects to " + site.NewsListingURL("china") + ": put the new address in feeds[1].urls",
		"verdict OK: feed old-page",
		"verdict BROKEN: feed dead",
		"feed unreachable: HTTP 404 Not Found (and " + site.URL() + "/news/gone: HTTP 404 Not Found)",
		"overall: BROKEN (2 of 3 healthy)",
	} {
		if !reportHas(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	noStateWritten(t, dir)
}
