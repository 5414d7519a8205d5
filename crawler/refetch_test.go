package crawler

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/internal/config"
)

// memRefetches is memClaims with the store's re-fetch steps: which posts
// are truncated, when each is re-fetched, how often it was, and how many
// times each post was written.
type memRefetches struct {
	*memClaims
	truncated map[string]bool
	refetchAt map[string]time.Time
	refetches map[string]int
	writes    map[string]int
	held      map[string]bool // URLs another live worker holds: listed as due, refused by ClaimRefetch
}

func newMemRefetches() *memRefetches {
	return &memRefetches{memClaims: newMemClaims(), truncated: map[string]bool{}, refetchAt: map[string]time.Time{},
		refetches: map[string]int{}, writes: map[string]int{}, held: map[string]bool{}}
}

// written records a post written for u, as the store's rules do: replacing
// a truncated post counts a re-fetch.
func (m *memRefetches) written(u string, truncated bool, refetchAt time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.truncated[u] {
		m.refetches[u]++
	}
	m.truncated[u], m.refetchAt[u] = truncated, refetchAt
	m.writes[u]++
}

func (m *memRefetches) Publish(ctx context.Context, k Key, name string, content []byte) (string, error) {
	path, err := m.memClaims.Publish(ctx, k, name, content)
	if err == nil {
		m.written(k.URL, false, time.Time{})
	}
	return path, err
}

func (m *memRefetches) PublishTruncated(ctx context.Context, k Key, name string, content []byte, refetchAt time.Time) (string, error) {
	path, err := m.memClaims.Publish(ctx, k, name, content)
	if err == nil {
		m.written(k.URL, true, refetchAt)
	}
	return path, err
}

func (m *memRefetches) DueRefetch(_ context.Context, now time.Time, _ int) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []Key
	for u, at := range m.refetchAt {
		if m.truncated[u] && !at.IsZero() && !at.After(now) {
			keys = append(keys, Key{URL: u})
		}
	}
	return keys, nil
}

func (m *memRefetches) ClaimRefetch(_ context.Context, k Key, now time.Time) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Claim{Refetches: m.refetches[k.URL], PostSize: int64(len(m.posts[k.URL]))}
	at := m.refetchAt[k.URL]
	switch {
	case !m.truncated[k.URL] || at.IsZero():
		c.Status = Done
	case at.After(now):
		c.Status = NotDue
	case m.held[k.URL]:
		c.Status = HeldElsewhere
	}
	return c, nil
}

func (m *memRefetches) KeepTruncated(_ context.Context, k Key, refetchAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost[k.URL] {
		return fmt.Errorf("keep %s: %w", k.URL, ErrClaimLost)
	}
	m.refetches[k.URL]++
	m.refetchAt[k.URL] = refetchAt
	return nil
}

// paywallPage is a zaobao story page (SG layout, ld+json) showing paras
// of its three paragraphs, with the prompt to buy it when cut.
func paywallPage(paras int, cut bool) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>付费新闻 | 联合早报</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"付费新闻","datePublished":"2024-03-01T15:00:00+08:00"}</script>
</head><body><main><h1>付费新闻</h1><div class="articleBody">`)
	for i := range paras {
		fmt.Fprintf(&b, "<p>付费新闻的第%d段，说明了事情的一部分经过。</p>", i+1)
	}
	if cut {
		b.WriteString(`<div class="article-microtransaction"><p>购买此文章</p><a href="/subscribe">以继续阅读全文</a></div>`)
	}
	b.WriteString(`</div></main></body></html>`)
	return b.String()
}

// TestRefetchRunner: the runner's re-fetch decisions, with a fake clock.
// A truncated post is re-fetched from crawl.refetch_truncated_after on,
// each wait twice the one before; a longer copy still cut short rewrites
// it and waits again, a failed fetch keeps it, and the full text rewrites
// it for good. A re-fetch another worker holds is left to it, a lost claim
// stops nothing, and with re-fetching off nothing is re-fetched.
func TestRefetchRunner(t *testing.T) {
	const (
		a = "https://www.zaobao.com/realtime/china/story20240301-501"
		b = "https://www.zaobao.com/realtime/china/story20240301-502"
		c = "https://www.zaobao.com/realtime/china/story20240301-503"
	)
	var mu sync.Mutex
	pages := map[string]string{} // path → "cut1", "cut2", "full" or "500"
	hits := map[string]int{}
	set := func(u, page string) {
		mu.Lock()
		defer mu.Unlock()
		pages[strings.TrimPrefix(u, "https://www.zaobao.com")] = page
	}
	fetched := func(u string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[strings.TrimPrefix(u, "https://www.zaobao.com")]
	}
	// The pages are served over TLS for www.zaobao.com itself, so that
	// the site's rules read them.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		page := pages[r.URL.Path]
		hits[r.URL.Path]++
		mu.Unlock()
		switch page {
		case "cut1":
			io.WriteString(w, paywallPage(1, true))
		case "cut2":
			io.WriteString(w, paywallPage(2, true))
		case "full":
			io.WriteString(w, paywallPage(3, false))
		default:
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	feed := http.NewServeMux()
	feed.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		var items strings.Builder
		for _, u := range []string{a, b, c} {
			fmt.Fprintf(&items, `<item><title>付费新闻</title><link>%s</link><pubDate>Fri, 01 Mar 2024 07:00:00 GMT</pubDate></item>`, u)
		}
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`+items.String()+`</channel></rss>`)
	})
	r, _, now, _ := testRunner(t, feed, config.Feed{Name: "china", URL: "/rss"})
	r.dep.Fetcher.SetBaseTransport(&http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "www.zaobao.com:443" {
				addr = srv.Listener.Addr().String()
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test server's own certificate
	})
	mem := newMemRefetches()
	d, cfg := r.dep, r.cfg
	d.Claims, d.States, d.Failures, d.Refetches = mem, mem, mem, mem
	cfg.RefetchTruncatedAfter, cfg.RefetchTruncatedTimes = 24*time.Hour, 4
	metrics := watch.NewMetrics(watch.BuildInfo{})
	d.Metrics = metrics
	var logs strings.Builder
	d.Log = slog.New(slog.NewTextHandler(&logs, nil))
	r = New(cfg, d)
	once := func(at time.Duration) Summary {
		t.Helper()
		saved := *now
		*now = saved.Add(at)
		defer func() { *now = saved }()
		sum, err := r.Once(t.Context())
		if err != nil {
			t.Fatalf("once at +%v: %v", at, err)
		}
		return sum
	}
	for _, u := range []string{a, b, c} {
		set(u, "cut1")
	}

	start := *now
	if sum := once(0); sum.Written != 3 {
		t.Fatalf("first run: %v; want 3 written", sum)
	}
	for _, u := range []string{a, b, c} {
		if !mem.truncated[u] || !mem.refetchAt[u].Equal(start.Add(24*time.Hour)) {
			t.Fatalf("%s: truncated %v, re-fetch at %v; want truncated, at +24h\n%s\n%s", u, mem.truncated[u], mem.refetchAt[u], mem.posts[u], logs.String())
		}
	}

	// +24h: a is longer but still cut; b is held by another worker; c's
	// page fails.
	set(a, "cut2")
	set(c, "500")
	mem.held[b] = true
	once(24 * time.Hour)
	if mem.writes[a] != 2 || !mem.truncated[a] || !strings.Contains(mem.posts[a], "第2段") || mem.refetches[a] != 1 {
		t.Errorf("a after a longer copy: %d writes, truncated %v, %d re-fetches; want 2, true, 1:\n%s", mem.writes[a], mem.truncated[a], mem.refetches[a], mem.posts[a])
	}
	if want := start.Add(24*time.Hour + 48*time.Hour); !mem.refetchAt[a].Equal(want) {
		t.Errorf("a's next re-fetch: got %v, want %v (twice the first wait)", mem.refetchAt[a], want)
	}
	if n := fetched(b); n != 1 {
		t.Errorf("b, held by another worker: fetched %d times, want 1", n)
	}
	if mem.writes[c] != 1 || mem.refetches[c] != 1 || !mem.truncated[c] {
		t.Errorf("c after a failed re-fetch: %d writes, %d re-fetches; want the post kept, 1 re-fetch", mem.writes[c], mem.refetches[c])
	}

	// +72h: a's full text; c's claim is lost on the way, which stops
	// nothing.
	set(a, "full")
	set(c, "cut1")
	mem.lost[c] = true
	if sum := once(72 * time.Hour); sum.Rewritten != 1 {
		t.Errorf("+72h: %v; want 1 truncated rewritten", sum)
	}
	if mem.writes[a] != 3 || mem.truncated[a] || !mem.refetchAt[a].IsZero() || !strings.Contains(mem.posts[a], "第3段") {
		t.Errorf("a after the full text: %d writes, truncated %v, next %v; want 3, false, none:\n%s", mem.writes[a], mem.truncated[a], mem.refetchAt[a], mem.posts[a])
	}
	if strings.Contains(mem.posts[a], "购买此文章") {
		t.Errorf("a's post holds the paywall prompt:\n%s", mem.posts[a])
	}
	if !strings.Contains(logs.String(), "taken over by another worker") {
		t.Errorf("no warning of c's lost claim:\n%s", logs.String())
	}

	// Re-fetching off: nothing more is fetched.
	mem.held[b] = false
	r.cfg.RefetchTruncatedAfter = 0
	before := fetched(a) + fetched(b) + fetched(c)
	once(1000 * time.Hour)
	if after := fetched(a) + fetched(b) + fetched(c); after != before {
		t.Errorf("with re-fetching off: %d page fetches, want none", after-before)
	}

	var m strings.Builder
	metrics.WriteTo(&m)
	for _, want := range []string{
		`newsmd_truncated_refetched_total{result="complete"} 1`,
		`newsmd_truncated_refetched_total{result="longer"} 1`,
		`newsmd_truncated_refetched_total{result="failed"} 1`,
		`newsmd_claims_lost_total{kind="story"} 1`,
	} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, m.String())
		}
	}
}

// TestNextRefetch: the waits between re-fetches double from
// RefetchTruncatedAfter, up to a year, and stop after
// RefetchTruncatedTimes.
func TestNextRefetch(t *testing.T) {
	r, _, now, _ := testRunner(t, http.NotFoundHandler())
	r.cfg.RefetchTruncatedAfter, r.cfg.RefetchTruncatedTimes = 24*time.Hour, 30
	for done, want := range map[int]time.Duration{0: 24 * time.Hour, 1: 48 * time.Hour, 3: 8 * 24 * time.Hour, 29: maxRefetchWait} {
		if got := r.nextRefetch(done).Sub(*now); got != want {
			t.Errorf("after %d re-fetches: wait %v, want %v", done, got, want)
		}
	}
	if got := r.nextRefetch(30); !got.IsZero() {
		t.Errorf("after RefetchTruncatedTimes re-fetches: got %v, want none", got)
	}
	r.cfg.RefetchTruncatedAfter = 0
	if got := r.nextRefetch(0); !got.IsZero() {
		t.Errorf("re-fetching off: got %v, want none", got)
	}
}
