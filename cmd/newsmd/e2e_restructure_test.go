package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// TestRestructureEndToEnd: the site moves /realtime/ to /news/ between two
// runs of once, as zaobao did around 2026-07-29. With the shipped feeds'
// shape (the JSON listing's pages 0 and 1, else the /news/ section page)
// the second run finds the new stories on the new pages; every story is
// written exactly once, and the move is logged with what to change.
func TestRestructureEndToEnd(t *testing.T) {
	all := fakesite.Stories(24, time.Date(2026, 7, 28, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(all[:16]) // 4 a section
	defer site.Close()
	site.SetPageSize(2) // two pages hold a section's 4 newest stories
	dir := t.TempDir()

	shipped := config.Default().Feeds
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Feeds = nil
	for i, sec := range fakesite.Sections {
		f := shipped[i] // zaobao-<section>, the shipped shape
		if f.Name != "zaobao-"+sec || len(f.URLs) != 2 || f.Pages != 2 {
			t.Fatalf("shipped feed %d: got %+v, want zaobao-%s with 2 URLs and 2 pages", i, f, sec)
		}
		f.URLs = []string{
			site.URL() + "/_plat/api/v2/page-content/realtime/" + sec + "?page={page}",
			site.NewsListingURL(sec),
		}
		c.Feeds = append(c.Feeds, f)
	}
	// A feed of the old HTML section page, which starts redirecting.
	old := yamlFeed("china-page", "listing", site.ListingURL("china"))
	old.Links = append(shipped[0].Links, `[data-testid="article-list"] article a`)
	c.Feeds = append(c.Feeds, old)
	cfg := writeYAMLConfig(t, c, dir)

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "16 written") {
		t.Fatalf("first once: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(errOut, `"level":"WARN"`) {
		t.Errorf("first once: warnings before the move:\n%s", errOut)
	}

	site.Restructure()
	site.SetStories(all) // 2 new stories a section, the newest
	hitsBefore := map[string]int{}
	for _, st := range all[:16] {
		hitsBefore[st.Path()] = site.Hits(st.Path()) + site.Hits(st.NewsPath())
	}

	code, out, errOut = run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "8 written") || !strings.Contains(out, "0 failed") {
		t.Fatalf("second once: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`"msg":"feed answered by a fallback URL"`,
		`"answered_url":"` + site.NewsListingURL("china") + `"`,
		`"msg":"feed URL redirects: update the config"`,
		`"location":"` + site.NewsListingURL("china") + `"`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("second once: log lacks %s:\n%s", want, errOut)
		}
	}

	// Every story exactly once on disk, the new ones included.
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != len(all) || len(ids) != len(all) {
		t.Errorf("got %d posts for %d stories, want %d each", len(ps), len(ids), len(all))
	}
	for _, st := range all {
		if n := ids[strconv.Itoa(st.ID)]; n != 1 {
			t.Errorf("story %d written %d times, want 1", st.ID, n)
		}
	}
	// The stories written before the move, listed again under both paths,
	// were not fetched again.
	for _, st := range all[:16] {
		if n := site.Hits(st.Path()) + site.Hits(st.NewsPath()); n != hitsBefore[st.Path()] {
			t.Errorf("story %d fetched again after the move (%d requests, had %d)", st.ID, n, hitsBefore[st.Path()])
		}
	}
}
