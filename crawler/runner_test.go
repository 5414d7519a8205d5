package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/internal/config"
)

// memClaims is an in-memory Claims, Failures and FeedStates for one
// worker: enough of the store to follow the runner's decisions.
type memClaims struct {
	mu       sync.Mutex
	attempts map[string]int
	state    map[string]string // "written", "failed", "permanent"
	retryAt  map[string]time.Time
	posts    map[string]string // URL → content
	since    map[string]time.Time
	copies   map[string][]byte
	feeds    map[string]FeedState
	lost     map[string]bool // URLs whose claim another worker took over
}

func newMemClaims() *memClaims {
	return &memClaims{attempts: map[string]int{}, state: map[string]string{}, retryAt: map[string]time.Time{},
		posts: map[string]string{}, since: map[string]time.Time{}, copies: map[string][]byte{}, feeds: map[string]FeedState{},
		lost: map[string]bool{}}
}

func (m *memClaims) Claim(_ context.Context, k Key, force bool, now time.Time) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Claim{Attempts: m.attempts[k.URL]}
	switch st := m.state[k.URL]; {
	case !force && (st == "written" || st == "permanent"):
		c.Status = Done
	case !force && st == "failed" && m.retryAt[k.URL].After(now):
		c.Status = NotDue
	}
	return c, nil
}

func (m *memClaims) Publish(_ context.Context, k Key, name string, content []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[k.URL] {
		return "", fmt.Errorf("publish %s: %w", k.URL, ErrClaimLost)
	}
	m.state[k.URL], m.posts[k.URL] = "written", string(content)
	return name, nil
}

func (m *memClaims) Fail(_ context.Context, k Key, reason string, permanent bool, retryAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[k.URL] {
		return fmt.Errorf("mark failed %s: %w", k.URL, ErrClaimLost)
	}
	m.attempts[k.URL]++
	m.state[k.URL], m.retryAt[k.URL] = "failed", retryAt
	if permanent {
		m.state[k.URL] = "permanent"
	}
	return nil
}

func (m *memClaims) Renew(_ context.Context, k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[k.URL] {
		return fmt.Errorf("renew %s: %w", k.URL, ErrClaimLost)
	}
	return nil
}

func (m *memClaims) Release(_ context.Context, k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[k.URL] {
		return fmt.Errorf("release %s: %w", k.URL, ErrClaimLost)
	}
	return nil
}

func (m *memClaims) NoteFailure(_ context.Context, url string, now time.Time, feedCopy []byte) (time.Time, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.since[url]; !ok {
		m.since[url] = now
	}
	if len(feedCopy) > 0 {
		m.copies[url] = feedCopy
	}
	return m.since[url], m.copies[url], nil
}

func (m *memClaims) PeekFeed(_ context.Context, feedURL string) (FeedState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.feeds[feedURL], nil
}

func (m *memClaims) ClaimFeed(_ context.Context, feedURL string, _ time.Time) (FeedState, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.feeds[feedURL], true, nil
}

func (m *memClaims) ReleaseFeed(_ context.Context, feedURL string, st FeedState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[feedURL] {
		return fmt.Errorf("release feed %s: %w", feedURL, ErrClaimLost)
	}
	m.feeds[feedURL] = st
	return nil
}

// testRunner is a Runner over the project's zaobao rules with the site
// served by handler at zaobao's canonical host mapped to the test
// server, a fake clock, and the in-memory store.
func testRunner(t *testing.T, handler http.Handler, feeds ...config.Feed) (*Runner, *memClaims, *time.Time, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	sites := testSites(t)
	now := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := config.Default().Fetch
	cfg.Delay, cfg.Retries, cfg.RobotsTxt = 0, 0, false
	f, err := fetch.New(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range feeds {
		feeds[i].URL = srv.URL + feeds[i].URL
	}
	compiled, errs := feed.Compile("feeds", feeds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	mem := newMemClaims()
	r := New(Config{Crawl: config.Crawl{RetryDelay: time.Minute, RetryDelayMax: time.Hour, MaxWait: 2 * time.Hour, MaxAttempts: 3, GiveUpAfter: 24 * time.Hour}},
		Deps{Fetcher: f, Sites: sites, Feeds: compiled, Converter: testConverter(t, sites, "jekyll"),
			Claims: mem, States: mem, Failures: mem, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock})
	return r, mem, &now, srv
}

func TestRetryAt(t *testing.T) {
	r, _, now, _ := testRunner(t, http.NotFoundHandler())
	plain := errors.New("connection reset")
	for _, c := range []struct {
		err      error
		attempts int
		low, max time.Duration
	}{
		{plain, 1, 54 * time.Second, time.Minute},
		{plain, 2, 108 * time.Second, 2 * time.Minute},
		{plain, 4, 432 * time.Second, 8 * time.Minute},
		{plain, 30, 54 * time.Minute, time.Hour}, // RetryDelayMax
		{&fetch.HTTPError{Status: 429, RetryAfter: 10 * time.Minute}, 1, 10 * time.Minute, 10 * time.Minute},
		{&fetch.HTTPError{Status: 503, RetryAfter: 365 * 24 * time.Hour}, 1, 2 * time.Hour, 2 * time.Hour}, // MaxWait
		{&fetch.HostBackoffError{Host: "x", Until: now.Add(5 * time.Minute)}, 7, 5 * time.Minute, 5 * time.Minute},
		{&fetch.HostBackoffError{Host: "x", Until: now.Add(100 * time.Hour)}, 1, 2 * time.Hour, 2 * time.Hour},
	} {
		got := r.retryAt(c.err, c.attempts, "https://www.zaobao.com/x").Sub(*now)
		if got < c.low || got > c.max {
			t.Errorf("retryAt(%v, attempt %d): in %v, want %v to %v", c.err, c.attempts, got, c.low, c.max)
		}
	}
}

func TestScope(t *testing.T) {
	r, _, _, srv := testRunner(t, http.NotFoundHandler(), config.Feed{Name: "cna", URL: "/rss"})
	var items []feed.Item
	for _, u := range []string{
		"https://www.zaobao.com/realtime/china/story20240301-1",      // a site rule
		"https://www.zaobao.com:8443/realtime/china/story20240301-2", // its host, another port
		"http://169.254.169.254/latest/meta-data/",
		"https://evil.example/realtime/china/story20240301-3",
		srv.URL + "/news/1", // the feed's own host and port
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/news/2",
	} {
		items = append(items, feed.Item{URL: u})
	}
	var sum Summary
	got := r.scope(r.dep.Feeds[0], items, &sum)
	if len(got) != 2 || got[0].URL != items[0].URL || got[1].URL != items[4].URL {
		t.Errorf("kept %v, want %s and %s", got, items[0].URL, items[4].URL)
	}
	if sum.OutOfScope != 4 {
		t.Errorf("out of scope: got %d, want 4", sum.OutOfScope)
	}

	r.cfg.FeedItems = 2
	dated := []feed.Item{
		{URL: "https://www.zaobao.com/realtime/china/story20240301-1", Published: time.Unix(100, 0)},
		{URL: "https://www.zaobao.com/realtime/china/story20240301-2", Published: time.Unix(300, 0)},
		{URL: "https://www.zaobao.com/realtime/china/story20240301-3", Published: time.Unix(200, 0)},
	}
	got = r.scope(r.dep.Feeds[0], dated, &sum)
	if len(got) != 2 || got[0].URL != dated[1].URL || got[1].URL != dated[2].URL {
		t.Errorf("capped: kept %v, want the two newest, newest first", got)
	}
}

func TestInterleave(t *testing.T) {
	it := func(s string) feed.Item { return feed.Item{URL: s} }
	got := interleave([][]feed.Item{{it("a1"), it("a2"), it("a3")}, {it("b1")}, nil, {it("c1"), it("c2")}})
	var urls []string
	for _, i := range got {
		urls = append(urls, i.URL)
	}
	if want := "a1 b1 c1 a2 c2 a3"; strings.Join(urls, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(urls, " "), want)
	}
}

// TestGiveUp: a story whose page keeps failing is retried with a growing
// wait, then, after MaxAttempts over GiveUpAfter, written from the copy
// its feed carried on the first poll, though the feed no longer lists it.
func TestGiveUp(t *testing.T) {
	var mu sync.Mutex
	listed := true
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		item := ""
		if listed {
			item = `<item><title>被放弃的新闻</title><link>https://www.zaobao.com/realtime/china/story20240301-77</link>
<pubDate>Fri, 01 Mar 2024 07:00:00 GMT</pubDate><description><![CDATA[<p>第一段。</p><p>第二段。</p>]]></description></item>`
		}
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`+item+`</channel></rss>`)
	})
	r, mem, now, _ := testRunner(t, mux, config.Feed{Name: "china", URL: "/rss"})
	// The story's page is on the test server (the site rule's canonical
	// URL stays www.zaobao.com): always 500.
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(pages.Close)
	r.dep.Fetcher.SetBaseTransport(rewriteTransport{to: pages.URL, base: http.DefaultTransport})
	k := "https://www.zaobao.com/realtime/china/story20240301-77"

	sum, err := r.Once(t.Context())
	if err != nil || sum.Failed != 1 {
		t.Fatalf("first run: %v, %v; want one failure", sum, err)
	}
	mu.Lock()
	listed = false // the story drops off its feed
	mu.Unlock()
	r.dep.Retries = dueAll{mem}
	var waits []time.Duration
	for i := 2; i <= 3; i++ {
		waits = append(waits, mem.retryAt[k].Sub(*now))
		*now = mem.retryAt[k].Add(25 * time.Hour) // past its retry time and GiveUpAfter
		if _, err := r.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if waits[1] <= waits[0] {
		t.Errorf("retry waits %v: want them growing", waits)
	}
	if mem.state[k] != "written" || !strings.Contains(mem.posts[k], "第二段。") {
		t.Fatalf("after %d attempts: state %q, post %q; want written from the feed's copy", mem.attempts[k]+1, mem.state[k], mem.posts[k])
	}
	if !strings.Contains(mem.posts[k], "source: feed") {
		t.Errorf("post from the feed's copy has no source: feed marker:\n%s", mem.posts[k])
	}
}

// TestKeptCopyWhenGone: a story that failed transiently while its feed
// carried it, then left the feed, is written from the kept copy when its
// page turns out gone for good (404).
func TestKeptCopyWhenGone(t *testing.T) {
	var mu sync.Mutex
	listed, status := true, http.StatusServiceUnavailable
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		item := ""
		if listed {
			item = `<item><title>消失的新闻</title><link>https://www.zaobao.com/realtime/china/story20240301-78</link>
<pubDate>Fri, 01 Mar 2024 07:00:00 GMT</pubDate><description><![CDATA[<p>唯一的一段。</p>]]></description></item>`
		}
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`+item+`</channel></rss>`)
	})
	r, mem, now, _ := testRunner(t, mux, config.Feed{Name: "china", URL: "/rss"})
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		http.Error(w, "no", status)
	}))
	t.Cleanup(pages.Close)
	r.dep.Fetcher.SetBaseTransport(rewriteTransport{to: pages.URL, base: http.DefaultTransport})
	r.dep.Retries = dueAll{mem}
	k := "https://www.zaobao.com/realtime/china/story20240301-78"
	if sum, err := r.Once(t.Context()); err != nil || sum.Failed != 1 {
		t.Fatalf("first run: %v, %v; want one failure", sum, err)
	}
	mu.Lock()
	listed, status = false, http.StatusNotFound
	mu.Unlock()
	*now = mem.retryAt[k].Add(time.Second)
	if _, err := r.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mem.state[k] != "written" || !strings.Contains(mem.posts[k], "唯一的一段。") || !strings.Contains(mem.posts[k], "source: feed") {
		t.Errorf("after a 404: state %q, post %q; want written from the kept feed copy", mem.state[k], mem.posts[k])
	}
}

// dueAll lists every failed story as due, as the store does once their
// time has come.
type dueAll struct{ m *memClaims }

func (d dueAll) Due(context.Context, time.Time, int) ([]Key, error) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	var keys []Key
	for u, st := range d.m.state {
		if st == "failed" {
			keys = append(keys, Key{URL: u})
		}
	}
	return keys, nil
}

// rewriteTransport sends the requests for www.zaobao.com to the test
// server to.
type rewriteTransport struct {
	to   string
	base http.RoundTripper
}

func (t rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != "www.zaobao.com" {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(t.to, "http://")
	return t.base.RoundTrip(req)
}

// TestClaimLostStopsNothing: a story whose claim another worker took over
// (its lease ran out) is left to that worker, whether it was being
// written or marked failed, and the run goes on; so does a feed whose
// lease was lost before its state was saved.
func TestClaimLostStopsNothing(t *testing.T) {
	const base = "https://www.zaobao.com/realtime/china/story20240301-"
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		var items strings.Builder
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&items, `<item><title>新闻%d</title><link>%s%d</link><pubDate>Fri, 01 Mar 2024 07:00:00 GMT</pubDate>
<description><![CDATA[<p>第%d则的全文。</p>]]></description></item>`, i, base, i, i)
		}
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`+items.String()+`</channel></rss>`)
	})
	r, mem, _, srv := testRunner(t, mux, config.Feed{Name: "china", URL: "/rss"})
	// Pages 1 and 3 are gone (written from the feed's copy); page 2
	// fails transiently (marked failed).
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "-2") {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(pages.Close)
	r.dep.Fetcher.SetBaseTransport(rewriteTransport{to: pages.URL, base: http.DefaultTransport})
	d := r.dep
	metrics := watch.NewMetrics(watch.BuildInfo{})
	d.Metrics = metrics
	var logs strings.Builder
	d.Log = slog.New(slog.NewTextHandler(&logs, nil))

	// The first poll's state is saved; the lease on the feed is lost
	// while its stories are processed, so saving its validators fails.
	feedURL := srv.URL + "/rss"
	states := &loseFeedAfterPoll{memClaims: mem, feedURL: feedURL}
	d.States = states
	r = New(r.cfg, d)
	mem.lost[base+"1"], mem.lost[base+"2"] = true, true

	sum, err := r.Once(t.Context())
	if err != nil {
		t.Fatalf("a lost claim stopped the run: %v", err)
	}
	if sum.Written != 1 || sum.Elsewhere != 2 || sum.Failed != 0 {
		t.Errorf("summary %v: want 1 written, 2 left to another worker, none failed", sum)
	}
	if mem.state[base+"3"] != "written" || mem.state[base+"1"] != "" || mem.state[base+"2"] != "" {
		t.Errorf("states %v: want only story 3 written, the others left as the other worker has them", mem.state)
	}
	if mem.feeds[feedURL].ETag != "" {
		t.Errorf("validators %q saved by a worker that lost the feed", mem.feeds[feedURL].ETag)
	}
	var b strings.Builder
	metrics.WriteTo(&b)
	for _, want := range []string{`newsmd_claims_lost_total{kind="story"} 2`, `newsmd_claims_lost_total{kind="feed"} 1`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
	if n := strings.Count(logs.String(), `taken over by another worker; left to it"`) + strings.Count(logs.String(), `msg="feed taken over`); n != 3 {
		t.Errorf("%d warnings of a takeover, want 3:\n%s", n, logs.String())
	}
}

// loseFeedAfterPoll is memClaims whose feed is taken over by another
// worker right after its poll: the save at the poll succeeds, later ones
// find the feed lost.
type loseFeedAfterPoll struct {
	*memClaims
	feedURL string
	saves   int
}

func (l *loseFeedAfterPoll) ReleaseFeed(ctx context.Context, feedURL string, st FeedState) error {
	if feedURL == l.feedURL {
		if l.saves++; l.saves > 1 {
			return fmt.Errorf("release feed %s: %w", feedURL, ErrClaimLost)
		}
	}
	return l.memClaims.ReleaseFeed(ctx, feedURL, st)
}

// fullDisk is memClaims whose archive disk is full: every Publish fails
// with ENOSPC.
type fullDisk struct{ *memClaims }

func (f fullDisk) Publish(_ context.Context, k Key, _ string, _ []byte) (string, error) {
	return "", fmt.Errorf("write post of %s: %w", k.URL, &os.PathError{Op: "write", Path: "_posts/x.md", Err: syscall.ENOSPC})
}

// flakyStore is memClaims whose feed claims fail a few times, as when
// the database restarts, and that cancels the run at the claim after.
type flakyStore struct {
	*memClaims
	fail   int
	calls  int
	cancel context.CancelFunc
}

func (f *flakyStore) ClaimFeed(ctx context.Context, feedURL string, now time.Time) (FeedState, bool, error) {
	f.calls++
	if f.calls <= f.fail {
		return FeedState{}, false, errors.New("connection refused")
	}
	f.cancel()
	return f.memClaims.ClaimFeed(ctx, feedURL, now)
}

func oneStoryFeed(w http.ResponseWriter, _ *http.Request) {
	io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>新闻</title>
<link>https://www.zaobao.com/realtime/china/story20240301-1</link><pubDate>Fri, 01 Mar 2024 07:00:00 GMT</pubDate>
<description><![CDATA[<p>全文。</p>]]></description></item></channel></rss>`)
}

// TestRunStopsOnFullDisk: a full archive disk stops Run with its error
// (every story would fail alike); a store that fails for a while does
// not, and the cycles after it go on.
func TestRunStopsOnFullDisk(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", oneStoryFeed)
	r, mem, _, _ := testRunner(t, mux, config.Feed{Name: "china", URL: "/rss"})
	pages := httptest.NewServer(http.NotFoundHandler()) // the story is written from the feed's copy
	t.Cleanup(pages.Close)
	r.dep.Fetcher.SetBaseTransport(rewriteTransport{to: pages.URL, base: http.DefaultTransport})
	d := r.dep
	d.Claims = fullDisk{mem}
	r = New(r.cfg, d)
	err := r.Run(t.Context())
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run returned %v, want the full disk's error", err)
	}
}

func TestRunRidesOutStoreErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", oneStoryFeed)
	r, mem, _, _ := testRunner(t, mux, config.Feed{Name: "china", URL: "/rss"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	flaky := &flakyStore{memClaims: mem, fail: 3, cancel: cancel}
	d := r.dep
	d.States = flaky
	cfg := r.cfg
	cfg.Tick = time.Millisecond
	r = New(cfg, d)
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run stopped on a store error: %v", err)
	}
	if flaky.calls != 4 {
		t.Errorf("%d feed claims, want 3 failed ones and a fourth after them", flaky.calls)
	}
}
