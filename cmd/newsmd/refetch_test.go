package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"github.com/newsmd/newsmd/store"
)

// paywalled is st's page as zaobao serves it to a reader without a
// subscription: the first paragraph, then the prompt to buy the story.
func paywalled(t *testing.T, st fakesite.Story) fakesite.Page {
	t.Helper()
	cut := st
	cut.Paragraphs = st.Paragraphs[:1]
	page := fakesite.ArticleHTML(cut)
	const end = `<button>分享</button></div></main>` // the end of the SG layout's body
	if st.Layout == "hk" || !strings.Contains(page, end) {
		t.Fatalf("story %d: want a story of the SG layout", st.ID)
	}
	page = strings.Replace(page, end, `<div class="article-microtransaction"><p>购买此文章</p><a href="/subscribe">以继续阅读全文</a></div>`+end, 1)
	return fakesite.Page{ContentType: "text/html; charset=utf-8", Body: page}
}

// TestRefetchTruncated: with the real store (SQLite, posts on disk) and
// the runner's fake clock, a story first paywalled and later whole is
// re-fetched once its time has come and its post rewritten in place with
// the full text, once; a story that stays paywalled is re-fetched at most
// crawl.refetch_truncated_times times, with growing waits, and its post
// left as it was.
func TestRefetchTruncated(t *testing.T) {
	ctx := t.Context()
	all := fakesite.Stories(9, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	later, stays := all[0], all[8] // both in the china section, SG layout
	site := fakesite.New([]fakesite.Story{later, stays})
	t.Cleanup(site.Close)
	site.AddPage(later.Path(), paywalled(t, later))
	site.AddPage(stays.Path(), paywalled(t, stays))

	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Feeds = []config.Feed{yamlFeed("china", "rss", site.FeedURL("china"))}
	c.Output.Extra = []string{"story_id", "truncated"}
	c.Crawl.RefetchTruncatedAfter = 24 * time.Hour
	c.Crawl.RefetchTruncatedTimes = 3
	path := writeYAMLConfig(t, c, dir)

	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Env: []string{}}
	fl, configPath := newFlags(m, "once", "")
	if err := parseFlags(fl, []string{"--config", path}); err != nil {
		t.Fatal(err)
	}
	cr, err := openCrawl(ctx, m, fl, *configPath, "once")
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	now := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	cr.deps.Now = func() time.Time { return now }
	// The fake clock stands for the store's too: leases and due times
	// are decided at it.
	cr.deps.Claims.(*storeAdapter).at = func(now time.Time) time.Time { return now }
	metrics := watch.NewMetrics(watch.BuildInfo{})
	cr.deps.Metrics = metrics
	r := cr.runner()
	once := func(when time.Time) crawler.Summary {
		t.Helper()
		now = when
		sum, err := r.Once(ctx)
		if err != nil {
			t.Fatalf("once at %v: %v", when, err)
		}
		return sum
	}

	start := now
	if sum := once(start); sum.Written != 2 {
		t.Fatalf("first run: %v; want both stories written", sum)
	}
	first := posts(t, dir)
	if len(first) != 2 {
		t.Fatalf("first run: %d posts, want 2", len(first))
	}
	name := postOf(t, first, later)
	if p := first[name]; !strings.Contains(p, later.Paragraphs[0]) || strings.Contains(p, later.Paragraphs[2]) ||
		!strings.Contains(p, "truncated: true") || strings.Contains(p, "购买此文章") {
		t.Fatalf("paywalled post: want the first paragraph, truncated: true, no prompt:\n%s", p)
	}

	// The full text appears; the post is not re-fetched before its time.
	site.AddPage(later.Path(), fakesite.Page{ContentType: "text/html; charset=utf-8", Body: fakesite.ArticleHTML(later)})
	once(start.Add(23 * time.Hour))
	if n := site.Hits(later.Path()); n != 1 {
		t.Errorf("before crawl.refetch_truncated_after: %d fetches of the page, want 1", n)
	}
	if sum := once(start.Add(25 * time.Hour)); sum.Rewritten != 1 || !strings.Contains(sum.String(), "1 truncated rewritten") {
		t.Errorf("re-fetch run: %v; want 1 truncated post rewritten", sum)
	}
	second := posts(t, dir)
	if len(second) != 2 {
		t.Errorf("after the re-fetch: %d posts, want 2 (rewritten in place)", len(second))
	}
	full := second[name]
	for _, p := range later.Paragraphs {
		if !strings.Contains(full, p) {
			t.Errorf("rewritten post lacks %q:\n%s", p, full)
		}
	}
	if strings.Contains(full, "truncated: true") {
		t.Errorf("rewritten post still says truncated:\n%s", full)
	}
	stayName := postOf(t, second, stays)
	if second[stayName] != first[stayName] {
		t.Errorf("the post still paywalled changed:\n%s", second[stayName])
	}
	rec := lookup(t, cr.store, site, later)
	sum := sha256.Sum256([]byte(full))
	if rec.Path != name || rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Truncated || !rec.RefetchAt.IsZero() || rec.Refetches != 1 {
		t.Errorf("store after the rewrite: got %+v; want %s with the new file's checksum, whole, 1 re-fetch", rec, name)
	}

	// The waits grow: 48h after the first re-fetch, then 96h; then none.
	stayed := lookup(t, cr.store, site, stays)
	if want := start.Add(25*time.Hour + 48*time.Hour); !stayed.RefetchAt.Equal(want) || stayed.Refetches != 1 || !stayed.Truncated {
		t.Errorf("story still paywalled: got %+v; want truncated, 1 re-fetch, the next at %v", stayed, want)
	}
	once(start.Add(25*time.Hour + 47*time.Hour))
	if n := site.Hits(stays.Path()); n != 2 {
		t.Errorf("before the second wait ended: %d fetches, want 2", n)
	}
	for day := 4; day <= 60; day += 4 {
		once(start.Add(time.Duration(day) * 24 * time.Hour))
	}
	if n := site.Hits(stays.Path()); n != 1+3 {
		t.Errorf("story that stays paywalled: fetched %d times, want 1 + crawl.refetch_truncated_times (3)", n)
	}
	if n := site.Hits(later.Path()); n != 2 {
		t.Errorf("story whose full text appeared: fetched %d times, want 2", n)
	}
	end := posts(t, dir)
	if len(end) != 2 || end[name] != full || end[stayName] != first[stayName] {
		t.Errorf("after every re-fetch: want the same two posts, the whole one and the paywalled one")
	}
	if stayed := lookup(t, cr.store, site, stays); stayed.Refetches != 3 || !stayed.RefetchAt.IsZero() || !stayed.Truncated {
		t.Errorf("story still paywalled at the end: got %+v; want truncated, 3 re-fetches, none waiting", stayed)
	}
	var b bytes.Buffer
	metrics.WriteTo(&b)
	for _, want := range []string{`newsmd_truncated_refetched_total{result="complete"} 1`, `newsmd_truncated_refetched_total{result="unchanged"} 3`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
	if n := len(posts(t, dir)); n != 2 {
		t.Errorf("archive holds %d posts, want 2", n)
	}
}

// postOf returns the name of st's post among ps.
func postOf(t *testing.T, ps map[string]string, st fakesite.Story) string {
	t.Helper()
	for name, p := range ps {
		info, err := converter.ReadPost([]byte(p))
		if err == nil && strings.HasSuffix(st.Path(), "-"+info.StoryID) {
			return name
		}
	}
	t.Fatalf("no post of story %d among %d", st.ID, len(ps))
	return ""
}

// lookup returns the store's record of the fake site's story s.
func lookup(t *testing.T, st *store.Store, site *fakesite.Site, s fakesite.Story) store.Record {
	t.Helper()
	rec, ok, err := st.Lookup(t.Context(), store.Identity{URL: site.StoryURL(s), SiteKey: fmt.Sprintf("zaobao:%d", s.ID)})
	if err != nil || !ok {
		t.Fatalf("lookup of story %d: %v, %v", s.ID, ok, err)
	}
	return rec
}

// TestRefetchConfig: the re-fetch keys are checked with their paths; 0
// turns re-fetching off.
func TestRefetchConfig(t *testing.T) {
	_, err := parseConfig(strings.NewReader("crawl:\n  refetch_truncated_after: 30s\n  refetch_truncated_times: -1\n"))
	for _, p := range []string{"crawl.refetch_truncated_after:", "crawl.refetch_truncated_times:"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %s: %v", p, err)
		}
	}
	c, err := parseConfig(strings.NewReader("crawl:\n  refetch_truncated_after: 0s\n"))
	if err != nil || c.Crawl.RefetchTruncatedAfter != 0 || c.Crawl.RefetchTruncatedTimes != 4 {
		t.Errorf("re-fetching off: got %+v, %v; want after 0, times kept at the default 4", c.Crawl, err)
	}
}

// TestAdapterRefetchClaimLost: on a real SQLite store, a worker whose
// re-fetch claim was taken over gets ErrClaimLost from KeepTruncated and
// PublishTruncated and writes nothing; the worker holding it rewrites the
// post, and a story the store does not know has nothing to re-fetch.
func TestAdapterRefetchClaimLost(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db, dir)
	const lease = time.Minute
	a := testAdapter(st, "host-a/1@x", lease)
	b := testAdapter(st, "host-b/2@x", lease)
	k := crawler.Key{URL: "https://example.com/news/1"}
	now := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	cut := []byte("cut\n")

	if c, err := a.ClaimRefetch(t.Context(), k, now); err != nil || c.Status != crawler.Done {
		t.Errorf("re-fetch claim of an unknown story: got %+v, %v; want done", c, err)
	}
	if _, err := a.Claim(t.Context(), k, false, now); err != nil {
		t.Fatal(err)
	}
	path, err := a.PublishTruncated(t.Context(), k, "post.md", cut, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := a.ClaimRefetch(t.Context(), k, now); err != nil || c.Status != crawler.NotDue {
		t.Errorf("re-fetch claim before its time: got %+v, %v; want not due", c, err)
	}
	if c, err := a.ClaimRefetch(t.Context(), k, now.Add(time.Hour)); err != nil || c.Status != crawler.Claimed || c.PostSize != int64(len(cut)) {
		t.Fatalf("a's re-fetch claim: got %+v, %v; want claimed with the post's size %d", c, err, len(cut))
	}
	if c, err := b.ClaimRefetch(t.Context(), k, now.Add(time.Hour+2*lease)); err != nil || c.Status != crawler.Claimed {
		t.Fatalf("b's re-fetch claim after a's lease: got %+v, %v", c, err)
	}
	if err := a.KeepTruncated(t.Context(), k, now.Add(48*time.Hour)); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's KeepTruncated after the takeover: %v; want ErrClaimLost", err)
	}
	if _, err := a.PublishTruncated(t.Context(), k, "post.md", []byte("a's longer copy\n"), time.Time{}); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's PublishTruncated after the takeover: %v; want ErrClaimLost", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(cut) {
		t.Errorf("post after a lost its claim: got %q, want %q", got, cut)
	}
	if _, err := b.Publish(t.Context(), k, "another.md", []byte("b's full copy\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "b's full copy\n" {
		t.Errorf("post after b's rewrite: got %q, want b's full copy in place", got)
	}
}
