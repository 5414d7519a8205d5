package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// fetchClock is a fake clock: sleeping records the wait and moves the
// clock on at once.
type fetchClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fetchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fetchClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fetchClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fetchClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// fetchSite is a fake zaobao: handlers by path, and a count of the
// requests each path got.
type fetchSite struct {
	*httptest.Server
	mu       sync.Mutex
	hits     map[string]int
	handlers map[string]http.HandlerFunc
}

func fetchNewSite(t *testing.T, handlers map[string]http.HandlerFunc) *fetchSite {
	t.Helper()
	s := &fetchSite{hits: map[string]int{}, handlers: handlers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if h, ok := s.handlers[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fetchSite) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// fetchPage is a real zaobao article page.
func fetchPage(t testing.TB) []byte {
	t.Helper()
	page, err := os.ReadFile("testdata/sg-2024-ldjson.html")
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func fetchServe(page []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}
}

// fetchTestConfig is the default config with quick test timings.
func fetchTestConfig() config.Fetch {
	c := config.Default().Fetch
	c.Timeout = 5 * time.Second
	c.Delay = 0
	return c
}

// fetchNewTest returns a Client on a fake clock that always jitters to
// the longest wait.
func fetchNewTest(t *testing.T, cfg config.Fetch, allowed ...string) (*Client, *fetchClock) {
	t.Helper()
	f, err := New(cfg, allowed, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fetchClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.now, f.sleep = clock.now, clock.sleep
	f.jitter = func(n int64) int64 { return n - 1 }
	return f, clock
}

func TestFetcherGet(t *testing.T) {
	page := fetchPage(t)
	var gotUA, gotAccept string
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /search\n")
		},
		"/realtime/china/story20250101-1": func(w http.ResponseWriter, r *http.Request) {
			gotUA, gotAccept = r.UserAgent(), r.Header.Get("Accept")
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")
			w.Header().Set("Cache-Control", "max-age=60")
			fetchServe(page)(w, r)
		},
	})
	f, _ := fetchNewTest(t, fetchTestConfig(), "127.0.0.1")
	for range 2 {
		resp, err := f.Get(t.Context(), site.URL+"/realtime/china/story20250101-1", Conditional{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || !bytes.Equal(resp.Body, page) {
			t.Errorf("got status %d, %d bytes; want 200, %d bytes", resp.Status, len(resp.Body), len(page))
		}
		if resp.URL != site.URL+"/realtime/china/story20250101-1" || resp.ETag != `"v1"` || resp.LastModified != "Wed, 01 Jan 2025 00:00:00 GMT" || resp.CacheControl != "max-age=60" {
			t.Errorf("got URL %q ETag %q Last-Modified %q Cache-Control %q", resp.URL, resp.ETag, resp.LastModified, resp.CacheControl)
		}
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("got header %v", resp.Header)
		}
	}
	if gotUA != config.Default().Fetch.UserAgent || !strings.Contains(gotAccept, "text/html") {
		t.Errorf("got User-Agent %q, Accept %q", gotUA, gotAccept)
	}
	if n := site.count("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times, want 1 (cached)", n)
	}
}

func TestFetcherNotModified(t *testing.T) {
	page := fetchPage(t)
	const etag, lastMod = `"abc"`, "Wed, 01 Jan 2025 00:00:00 GMT"
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/rss/china": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fetchServe(page)(w, r)
		},
	})
	f, _ := fetchNewTest(t, fetchTestConfig())
	resp, err := f.Get(t.Context(), site.URL+"/rss/china", Conditional{ETag: etag, LastModified: lastMod})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusNotModified || resp.Body != nil || resp.ETag != etag {
		t.Errorf("got status %d, %d bytes, ETag %q; want 304, no body, %q", resp.Status, len(resp.Body), resp.ETag, etag)
	}
}

// fetchSequence answers with statuses in turn, then with the page.
func fetchSequence(page []byte, header http.Header, statuses ...int) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var status int
		if len(statuses) > 0 {
			status, statuses = statuses[0], statuses[1:]
		}
		mu.Unlock()
		if status == 0 {
			fetchServe(page)(w, r)
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		http.Error(w, http.StatusText(status), status)
	}
}

func TestFetcherRetries(t *testing.T) {
	page := fetchPage(t)
	retryDate := time.Date(2025, 1, 2, 3, 4, 35, 0, time.UTC) // the fake clock's start + 30s
	tests := []struct {
		name     string
		header   http.Header
		statuses []int
		requests int
		waits    []time.Duration // with the longest jitter
		status   int             // of the error; 0 for success
	}{
		{"429 Retry-After seconds", http.Header{"Retry-After": {"2"}}, []int{429}, 2, []time.Duration{2 * time.Second}, 0},
		{"503 Retry-After date", http.Header{"Retry-After": {retryDate.Format(http.TimeFormat)}}, []int{503}, 2, []time.Duration{30 * time.Second}, 0},
		{"Retry-After capped at backoff_max", http.Header{"Retry-After": {"86400"}}, []int{429}, 2, []time.Duration{5 * time.Minute}, 0},
		{"500 twice", nil, []int{500, 500}, 3, []time.Duration{time.Second, 2 * time.Second}, 0},
		{"500 forever", nil, slices.Repeat([]int{500}, 10), 5, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, 500},
		{"404 is permanent", nil, []int{404}, 1, nil, 404},
		{"410 is permanent", nil, []int{410}, 1, nil, 410},
		{"403 is not retried", nil, []int{403}, 1, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": fetchSequence(page, tt.header, tt.statuses...)})
			f, clock := fetchNewTest(t, fetchTestConfig())
			resp, err := f.Get(t.Context(), site.URL+"/story", Conditional{})
			if n := site.count("/story"); n != tt.requests {
				t.Errorf("got %d requests, want %d", n, tt.requests)
			}
			if got := clock.recorded(); !slices.Equal(got, tt.waits) {
				t.Errorf("got waits %v, want %v", got, tt.waits)
			}
			if tt.status == 0 {
				if err != nil || resp.Status != 200 || !bytes.Equal(resp.Body, page) {
					t.Fatalf("got %v, want the page", err)
				}
				return
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != tt.status {
				t.Fatalf("got %v, want HTTP %d", err, tt.status)
			}
			if he.Permanent() != (tt.status == 404 || tt.status == 410) {
				t.Errorf("Permanent() = %v for %d", he.Permanent(), tt.status)
			}
			if tt.requests > 1 && !strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", tt.requests)) {
				t.Errorf("error %q does not give the attempt count", err)
			}
		})
	}
}

func TestFetcherTimeout(t *testing.T) {
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
	})
	cfg := fetchTestConfig()
	cfg.Timeout = 50 * time.Millisecond
	cfg.Retries = 1
	f, _ := fetchNewTest(t, cfg)
	_, err := f.Get(t.Context(), site.URL+"/slow", Conditional{})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout", err)
	}
	if n := site.count("/slow"); n != 2 {
		t.Errorf("got %d requests, want 2 (retried once)", n)
	}
}

func TestFetcherBadBodies(t *testing.T) {
	big := bytes.Repeat([]byte("<p>新闻</p>\n"), 20000) // 280 kB
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     error
		requests int
	}{
		{"oversized with Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Write(big)
		}, ErrTooLarge, 1},
		{"oversized chunked", func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 4096 {
				w.Write(big[i:min(i+4096, len(big))])
				w.(http.Flusher).Flush()
			}
		}, ErrTooLarge, 1},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, ErrTruncated, 2},
		{"chunked, closed mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err == nil {
				buf.WriteString("1000\r\n" + strings.Repeat("x", 100)) // a chunk cut short
				buf.Flush()
				conn.Close()
			}
		}, ErrTruncated, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": tt.handler})
			cfg := fetchTestConfig()
			cfg.MaxBodyBytes = 200_000
			cfg.Retries = 1
			f, _ := fetchNewTest(t, cfg)
			resp, err := f.Get(t.Context(), site.URL+"/story", Conditional{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (%v), want %v", err, resp, tt.want)
			}
			if n := site.count("/story"); n != tt.requests {
				t.Errorf("got %d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestFetcherRedirects(t *testing.T) {
	page := fetchPage(t)
	var site *fetchSite
	site = fetchNewSite(t, map[string]http.HandlerFunc{
		"/old": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/story", http.StatusMovedPermanently)
		},
		"/story": fetchServe(page),
		"/away": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/story", http.StatusFound)
		},
		"/loop1": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) },
		"/loop2": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop1", http.StatusFound) },
	})
	f, _ := fetchNewTest(t, fetchTestConfig(), "127.0.0.1", "zaobao.com")

	resp, err := f.Get(t.Context(), site.URL+"/old", Conditional{})
	if err != nil || resp.URL != site.URL+"/story" || !bytes.Equal(resp.Body, page) {
		t.Errorf("allowed redirect: got %v, %+v", err, resp)
	}
	for _, tt := range []struct {
		path string
		want error
	}{{"/away", ErrForbiddenHost}, {"/loop1", ErrTooManyRedirects}} {
		if _, err := f.Get(t.Context(), site.URL+tt.path, Conditional{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.path, err, tt.want)
		}
	}
	if n := site.count("/loop1") + site.count("/loop2"); n != maxRedirects {
		t.Errorf("loop: got %d requests, want %d (not retried)", n, maxRedirects)
	}
	if _, err := f.Get(t.Context(), "https://evil.example/story", Conditional{}); !errors.Is(err, ErrForbiddenHost) {
		t.Errorf("disallowed host: got %v, want ErrForbiddenHost", err)
	}
}

func TestFetcherRobots(t *testing.T) {
	page := fetchPage(t)
	tests := []struct {
		name   string
		robots http.HandlerFunc
		path   string
		want   error
	}{
		{"disallowed for all", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /realtime/\n")
		}, "/realtime/story", ErrRobots},
		{"disallowed for newsmd", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: googlebot\nDisallow:\n\nUser-agent: newsmd\nDisallow: /\n")
		}, "/realtime/story", ErrRobots},
		{"allowed elsewhere", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /search\n")
		}, "/realtime/story", nil},
		{"no robots.txt", nil, "/realtime/story", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlers := map[string]http.HandlerFunc{"/realtime/story": fetchServe(page)}
			if tt.robots != nil {
				handlers["/robots.txt"] = tt.robots
			}
			site := fetchNewSite(t, handlers)
			f, _ := fetchNewTest(t, fetchTestConfig())
			_, err := f.Get(t.Context(), site.URL+tt.path, Conditional{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			want := 1
			if tt.want != nil {
				want = 0
			}
			if n := site.count(tt.path); n != want {
				t.Errorf("page requested %d times, want %d", n, want)
			}
		})
	}

	// A 503 on robots.txt is temporary: the page is retried, not given up.
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/robots.txt": fetchSequence(nil, nil, 503),
		"/story":      fetchServe(page),
	})
	f, _ := fetchNewTest(t, fetchTestConfig())
	if _, err := f.Get(t.Context(), site.URL+"/story", Conditional{}); err != nil {
		t.Errorf("robots.txt 503 then none: got %v", err)
	}
	if n := site.count("/story"); n != 1 {
		t.Errorf("page requested %d times, want 1", n)
	}
}

func TestFetcherCharset(t *testing.T) {
	const text = "联合早报：台湾选举与香港新闻"
	const big5Text = "聯合早報：台灣選舉與香港新聞"
	encode := func(e encoding.Encoding, s string) []byte {
		b, err := e.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	html := func(meta string) string {
		return "<!DOCTYPE html><html><head>" + meta + "<title>" + text + "</title></head><body><p>" + text + "</p></body></html>"
	}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        string
	}{
		{"GBK from meta charset", "text/html", encode(simplifiedchinese.GBK, html(`<meta charset="gbk">`)), html(`<meta charset="gbk">`)},
		{"GB2312 from meta http-equiv", "text/html", encode(simplifiedchinese.GBK, html(`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`)), html(`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`)},
		{"GBK from header", "text/html; charset=GBK", encode(simplifiedchinese.GBK, html("")), html("")},
		{"Big5 from header over meta", "text/html; charset=big5", encode(traditionalchinese.Big5, "<meta charset=utf-8><p>"+big5Text), "<meta charset=utf-8><p>" + big5Text},
		{"UTF-8 without any charset", "text/html", []byte(html("")), html("")},
		{"XML declaration", "application/rss+xml", encode(simplifiedchinese.GBK, `<?xml version="1.0" encoding="GBK"?><rss><title>`+text+`</title></rss>`), `<?xml version="1.0" encoding="UTF-8"?><rss><title>` + text + `</title></rss>`},
		{"XML with header charset", "application/xml; charset=gb18030", encode(simplifiedchinese.GB18030, `<?xml version='1.0' encoding='gb18030'?><rss><title>`+text+`</title></rss>`), `<?xml version='1.0' encoding='UTF-8'?><rss><title>` + text + `</title></rss>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{"/page": func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(tt.body)
			}})
			f, _ := fetchNewTest(t, fetchTestConfig())
			resp, err := f.Get(t.Context(), site.URL+"/page", Conditional{})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", resp.Body, tt.want)
			}
		})
	}
}

// TestFetcherPoliteness: requests to one host start at least the delay
// (plus the random delay's roll) apart and no more than its concurrency
// are in flight. The Client's clock stands still, so each wait it asks
// for is the distance from the first start to the start it scheduled:
// what is checked is the schedule, not how late a loaded machine woke
// the sleeper. The server checks that each request came after the waits
// of the ones ahead of it and counts the requests it holds at once.
func TestFetcherPoliteness(t *testing.T) {
	tests := []struct {
		name               string
		delay, randomDelay time.Duration
	}{
		{"delay", 20 * time.Millisecond, 0},
		{"delay and random delay", 20 * time.Millisecond, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const requests, concurrency = 20, 2
			var (
				mu       sync.Mutex
				waits    []time.Duration // asked for, in order
				arrived  int
				early    []string
				inFlight int
				peak     int
			)
			site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrived++
				// At most one of the requests here so far (the first
				// scheduled) had no wait to ask for.
				if len(waits) < arrived-1 {
					early = append(early, fmt.Sprintf("request %d arrived after only %d waits", arrived, len(waits)))
				}
				inFlight++
				peak = max(peak, inFlight)
				mu.Unlock()
				// Held a little, so that requests the slots did not
				// hold back would overlap here. Not a measurement.
				time.Sleep(10 * time.Millisecond)
				mu.Lock()
				inFlight--
				mu.Unlock()
				fmt.Fprint(w, "<html><body>ok</body></html>")
			}})
			cfg := fetchTestConfig()
			cfg.Concurrency = concurrency
			cfg.Delay = tt.delay
			cfg.RandomDelay = tt.randomDelay
			cfg.RobotsTxt = false
			f, _ := fetchNewTest(t, cfg) // jitter rolls the longest random delay
			t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
			f.now = func() time.Time { return t0 }
			f.sleep = func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
				return ctx.Err()
			}
			var wg sync.WaitGroup
			for range requests {
				wg.Go(func() {
					if _, err := f.Get(t.Context(), site.URL+"/story", Conditional{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()

			mu.Lock()
			defer mu.Unlock()
			if arrived != requests {
				t.Fatalf("got %d requests, want %d", arrived, requests)
			}
			if len(early) > 0 {
				t.Errorf("%d requests did not wait for their start, such as %s", len(early), early[0])
			}
			if peak > concurrency {
				t.Errorf("got %d requests in flight, want at most %d", peak, concurrency)
			}
			t.Logf("at most %d requests in flight", peak)
			// The scheduled starts: one at t0 for each request that did
			// not wait, then t0 plus each wait.
			starts := append(make([]time.Duration, max(requests-len(waits), 0)), waits...)
			slices.Sort(starts)
			gap := tt.delay
			if tt.randomDelay > 0 {
				gap += tt.randomDelay - 1 // the roll fetchNewTest's jitter gives
			}
			for i := 1; i < len(starts); i++ {
				if d := starts[i] - starts[i-1]; d < gap {
					t.Errorf("starts %d and %d scheduled %v apart, want at least %v", i-1, i, d, gap)
					break
				}
			}
		})
	}
}

func TestFetcherHostBackoff(t *testing.T) {
	page := fetchPage(t)
	var mu sync.Mutex
	healthy := false
	site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := healthy
		mu.Unlock()
		if !ok {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		fetchServe(page)(w, r)
	}})
	setHealthy := func(v bool) { mu.Lock(); healthy = v; mu.Unlock() }
	cfg := fetchTestConfig()
	cfg.Retries = 0
	cfg.RobotsTxt = false
	f, clock := fetchNewTest(t, cfg)
	get := func() error {
		_, err := f.Get(t.Context(), site.URL+"/story", Conditional{})
		return err
	}

	for i := range hostFailures {
		if err := get(); errors.Is(err, ErrHostBackoff) || err == nil {
			t.Fatalf("failure %d: got %v, want HTTP 502", i+1, err)
		}
	}
	if err := get(); !errors.Is(err, ErrHostBackoff) {
		t.Fatalf("after %d failures: got %v, want ErrHostBackoff", hostFailures, err)
	}
	if n := site.count("/story"); n != hostFailures {
		t.Errorf("got %d requests, want %d (none while backed off)", n, hostFailures)
	}

	// The pause grows while the host keeps failing: 1m, then 2m.
	clock.advance(hostBackoffMin + time.Second)
	if err := get(); errors.Is(err, ErrHostBackoff) || err == nil {
		t.Fatalf("after the first pause: got %v, want one more try", err)
	}
	clock.advance(hostBackoffMin + time.Second)
	if err := get(); !errors.Is(err, ErrHostBackoff) {
		t.Fatalf("second pause is not longer: got %v", err)
	}

	// It is capped, and the host recovers.
	clock.advance(cfg.HostBackoffMax)
	setHealthy(true)
	if err := get(); err != nil {
		t.Fatalf("after recovery: got %v", err)
	}
	setHealthy(false)
	if err := get(); errors.Is(err, ErrHostBackoff) || err == nil {
		t.Fatalf("a success resets the count: got %v", err)
	}
	if err := get(); errors.Is(err, ErrHostBackoff) {
		t.Fatalf("one failure after a success backed the host off: %v", err)
	}
}

func TestFetcherCancelDuringRetryAfter(t *testing.T) {
	site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": fetchSequence(nil, http.Header{"Retry-After": {"120"}}, 429, 429)})
	f, _ := fetchNewTest(t, fetchTestConfig())
	waiting := make(chan time.Duration, 1)
	f.sleep = func(ctx context.Context, d time.Duration) error {
		waiting <- d
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := f.Get(ctx, site.URL+"/story", Conditional{})
		done <- err
	}()
	if d := <-waiting; d != 120*time.Second {
		t.Errorf("got wait %v, want the Retry-After 2m0s", d)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if n := site.count("/story"); n != 1 {
		t.Errorf("got %d requests, want 1", n)
	}
}

func TestFetchConfig(t *testing.T) {
	if errs := config.Default().Fetch.Validate("fetch"); len(errs) > 0 {
		t.Errorf("defaults: %v", errs)
	}
	var c config.Fetch
	in := "user_agent: x\ntimeout: 10s\nmax_body_bytes: 2048\nconcurrency: 3\ndelay: 1500ms\nrandom_delay: 1s\nrobots_txt: false\nretries: 2\nbackoff_base: 2s\nbackoff_max: 1m\nhost_backoff_max: 1h\n"
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := config.Fetch{UserAgent: "x", Timeout: 10 * time.Second, MaxBodyBytes: 2048, Concurrency: 3, Delay: 1500 * time.Millisecond,
		RandomDelay: time.Second, RobotsTxt: false, Retries: 2, BackoffBase: 2 * time.Second, BackoffMax: time.Minute, HostBackoffMax: time.Hour}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	out, err := yaml.Marshal(c)
	if err != nil || !strings.Contains(string(out), "delay: 1.5s") {
		t.Errorf("marshal: got %v\n%s", err, out)
	}

	bad := config.Fetch{Timeout: -1, MaxBodyBytes: 10, Delay: -1, RandomDelay: -1, Retries: -1, BackoffBase: 0, BackoffMax: -1}
	errs := bad.Validate("fetch")
	for _, p := range []string{"user_agent", "timeout", "max_body_bytes", "concurrency", "delay", "random_delay", "retries", "backoff_base", "backoff_max", "host_backoff_max"} {
		if !slices.ContainsFunc(errs, func(e error) bool { return strings.HasPrefix(e.Error(), "fetch."+p+": ") }) {
			t.Errorf("no error for fetch.%s in %v", p, errs)
		}
	}
	if _, err := New(bad, nil, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("New accepted an invalid config")
	}
}

func TestFetchRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"2", 2 * time.Second}, {" 120 ", 2 * time.Minute}, {"0", 0}, {"-5", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func BenchmarkFetcherGet(b *testing.B) {
	page := fetchPage(b)
	srv := httptest.NewServer(fetchServe(page))
	defer srv.Close()
	cfg := config.Default().Fetch
	cfg.Delay = 0
	cfg.Concurrency = 64
	cfg.RobotsTxt = false
	f, err := New(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Get(b.Context(), srv.URL+"/story", Conditional{}); err != nil {
			b.Fatal(err)
		}
	}
}
