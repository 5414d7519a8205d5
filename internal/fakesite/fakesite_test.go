package fakesite

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
	"go.yaml.in/yaml/v3"
)

func sites(t *testing.T) []*site.Site {
	t.Helper()
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Sites []config.Site `yaml:"sites"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	s, errs := site.Compile("sites", cfg.Sites)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return s
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestArticlesExtract: the pages the fake site serves are extracted by the
// real zaobao rules to the stories it was given, noise-free and in order.
func TestArticlesExtract(t *testing.T) {
	stories := Stories(6, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	rules := sites(t)
	for _, st := range stories {
		_, page := get(t, s.StoryURL(st))
		a, err := site.Extract([]byte(page), "https://www.zaobao.com"+st.Path(), rules)
		if err != nil {
			t.Fatalf("%s: %v", st.Path(), err)
		}
		if a.Title != st.Title || !a.Published.Equal(st.Published) || a.StoryID == "" {
			t.Errorf("%s (%s): got %q %v %q", st.Path(), st.Layout, a.Title, a.Published, a.StoryID)
		}
		last := -1
		for _, p := range st.Paragraphs {
			i := strings.Index(a.HTML(), p)
			if i <= last {
				t.Errorf("%s (%s): paragraph %q missing or out of order", st.Path(), st.Layout, p)
			}
			last = i
		}
		for _, bad := range []string{"googletag", "推荐阅读", "dfp-ad", "\u200b", "分享"} {
			if strings.Contains(a.HTML(), bad) {
				t.Errorf("%s: body has noise %q", st.Path(), bad)
			}
		}
	}
}

func TestFeedConditionalGet(t *testing.T) {
	stories := Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	resp, body := get(t, s.FeedURL("china"))
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || strings.Count(body, "<item>") != 2 {
		t.Fatalf("feed: got %d, etag %q, %d items", resp.StatusCode, etag, strings.Count(body, "<item>"))
	}
	if !strings.Contains(body, "<link>"+s.StoryURL(stories[4])+"</link>") {
		t.Errorf("feed does not link the real site's URL of its stories")
	}
	if resp, _ := get(t, s.FeedURL("china"), "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: got %d, want 304", resp.StatusCode)
	}
	s.SetStories(Stories(12, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	if resp, _ := get(t, s.FeedURL("china"), "If-None-Match", etag); resp.StatusCode != http.StatusOK {
		t.Errorf("after new stories: got %d, want 200", resp.StatusCode)
	}
	if s.Hits("/rsshub/zaobao/realtime/china") != 3 {
		t.Errorf("hits: got %d, want 3", s.Hits("/rsshub/zaobao/realtime/china"))
	}
}

func TestListings(t *testing.T) {
	stories := Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	_, page := get(t, s.ListingURL("world"))
	if !strings.Contains(page, `data-testid="article-list"`) || !strings.Contains(page, stories[1].Path()) {
		t.Errorf("listing lacks its stories")
	}
	_, js := get(t, s.JSONListingURL("world"))
	if !strings.Contains(js, `"href":"`+stories[5].Path()+`"`) {
		t.Errorf("JSON listing lacks its stories: %s", js)
	}
}

func TestFaults(t *testing.T) {
	st := Stories(1, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[0]
	s := New([]Story{st})
	defer s.Close()
	s.Fail(st.Path(), Fault{Status: 429, RetryAfter: "2"}, Fault{Status: 503}, Fault{Truncate: true}, Fault{Oversize: 200000}, Fault{Redirect: st.Path()})

	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("429: got %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 503 {
		t.Errorf("503: got %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, s.StoryURL(st), nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: got %v, want unexpected EOF", err)
	}
	if _, body := get(t, s.StoryURL(st)); len(body) < 200000 {
		t.Errorf("oversize: got %d bytes", len(body))
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != http.StatusFound {
		t.Errorf("redirect: got %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 200 {
		t.Errorf("after the faults: got %d, want 200", resp.StatusCode)
	}
}

// TestConcurrencyRecorded: requests held at once are counted as in
// flight together. The requests are held until the site has seen all of
// them, so the count does not depend on how fast the machine starts them.
func TestConcurrencyRecorded(t *testing.T) {
	const n = 4
	st := Stories(1, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[0]
	s := New([]Story{st})
	defer s.Close()
	for range n {
		s.Fail(st.Path(), Fault{Delay: time.Hour}) // until the client goes
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.StoryURL(st), nil)
			if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	// Bounded waits for a condition, not measurements: they only keep a
	// broken site from hanging the test.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}
	waitFor("all requests in flight", func() bool { return s.InFlight() >= n })
	cancel()
	wg.Wait()
	waitFor("all requests recorded", func() bool { return len(s.Requests()) >= n })
	if got := s.InFlight(); got != 0 {
		t.Errorf("in flight once all are answered: got %d, want 0", got)
	}
	if got := s.MaxInFlight(); got != n {
		t.Errorf("max in flight: got %d, want %d for %d requests held at once", got, n, n)
	}
	if got := len(s.Requests()); got != n {
		t.Errorf("requests: got %d, want %d", got, n)
	}
}

// TestGzipBomb: each variant gives the client its one hint that the body
// is gzip, and the stream inflates to the stated size.
func TestGzipBomb(t *testing.T) {
	const size = 3<<20 + 5 // not a whole number of the server's chunks
	for _, tc := range []struct {
		variant, fill         string
		encoding, contentType string
	}{
		{"x-gzip", "", "x-gzip", "text/html; charset=utf-8"},
		{"content-type", "<p>炸弹</p>", "", "application/x-gzip"},
		{"path", "", "", "text/html; charset=utf-8"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			s := New(nil)
			defer s.Close()
			s.Fail("/sitemap.xml.gz", Fault{GzipBomb: tc.variant, GzipBombSize: size, GzipBombFill: tc.fill})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/sitemap.xml.gz", nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding: got %q, want %q", got, tc.encoding)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type: got %q, want %q", got, tc.contentType)
			}
			compressed := &countingReader{r: resp.Body}
			zr, err := gzip.NewReader(compressed)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 64)
			if _, err := io.ReadFull(zr, head); err != nil {
				t.Fatal(err)
			}
			want := tc.fill
			if want == "" {
				want = "\x00"
			}
			if !strings.HasPrefix(string(head), want) {
				t.Errorf("inflated body starts %q, want %q repeated", head, want)
			}
			// Read with a limit, as a careful client does.
			n, err := io.Copy(io.Discard, io.LimitReader(zr, size))
			if err != nil {
				t.Fatal(err)
			}
			if n += int64(len(head)); n != size {
				t.Errorf("inflated: got %d bytes, want %d", n, size)
			}
			if extra, _ := io.Copy(io.Discard, zr); extra != 0 {
				t.Errorf("inflated: %d bytes past the stated size", extra)
			}
			if compressed.n*100 > size {
				t.Errorf("compressed: %d bytes for %d, want a ratio over 100", compressed.n, size)
			}
		})
	}
}

// TestGzipBombDefaultSize: a bomb without a size inflates to 512 MiB; a
// client that stops reading ends the stream.
func TestGzipBombDefaultSize(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.Fail("/bomb", Fault{GzipBomb: "content-type"})
	_, body := get(t, s.URL()+"/bomb")
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != DefaultGzipBombSize {
		t.Errorf("inflated: got %d bytes, %v; want %d", n, err, DefaultGzipBombSize)
	}
	if len(body) > 2<<20 {
		t.Errorf("compressed: got %d bytes, want under 2 MiB", len(body))
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestSlowTail: the head of the page (its first paragraph) comes at once
// and the rest a byte at a time; read to the end it is the whole page,
// with or without a Content-Length.
func TestSlowTail(t *testing.T) {
	st := Stories(1, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[0]
	page := ArticleHTML(st)
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("length=%v", withLength), func(t *testing.T) {
			s := New([]Story{st})
			defer s.Close()
			// So slow that the tail cannot have come while the head is read.
			s.Fail(st.Path(), Fault{SlowTail: time.Hour, SlowTailLength: withLength})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.StoryURL(st), nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			wantLength := int64(-1)
			if withLength {
				wantLength = int64(len(page))
			}
			if resp.ContentLength != wantLength {
				t.Errorf("Content-Length: got %d, want %d", resp.ContentLength, wantLength)
			}
			var got []byte
			buf := make([]byte, 4096)
			for !strings.Contains(string(got), st.Paragraphs[0]+"</p>") {
				n, err := resp.Body.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					t.Fatalf("reading the head: %v after %q", err, got)
				}
			}
			if !strings.HasPrefix(page, string(got)) || strings.Contains(string(got), st.Paragraphs[2]) {
				t.Errorf("head: got %q, want the page up to its first paragraph", got)
			}
			resp.Body.Close()

			// Fast enough to read to the end.
			s.Fail(st.Path(), Fault{SlowTail: 50 * time.Microsecond, SlowTailLength: withLength})
			if _, body := get(t, s.StoryURL(st)); body != page {
				t.Errorf("read to the end: got %d bytes, want the page's %d", len(body), len(page))
			}
		})
	}
}

// TestAddPage: pages and feeds of a test's making are served at their
// path, and requests are numbered in the order they arrived.
func TestAddPage(t *testing.T) {
	stories := Stories(3, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	feedXML := FeedXML("hostile", stories[:1], "https://evil.example")
	s.AddFeed("/hostile/feed.xml", feedXML)
	s.AddPage("/huge", Page{ContentType: "text/html; charset=utf-8", CacheControl: "max-age=60", Body: ListingHTML("china", stories)})

	resp, body := get(t, s.URL()+"/hostile/feed.xml?x=1")
	if body != feedXML || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/rss+xml") {
		t.Errorf("feed: got %q (%s)", body, resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, s.URL()+"/huge")
	if resp.Header.Get("Cache-Control") != "max-age=60" || strings.Count(body, "<article>") != 3 {
		t.Errorf("listing: got %q with Cache-Control %q", body, resp.Header.Get("Cache-Control"))
	}
	f, errs := feed.Compile("feeds", []config.Feed{{Name: "huge", Type: "listing", URL: s.URL() + "/huge", Site: "zaobao", Links: []string{`[data-testid="article-list"] article a`}}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	items, err := feed.ParseListing([]byte(body), s.URL()+"/huge", f[0])
	if err != nil || len(items) != 3 || !strings.Contains(items[2].URL, stories[2].Path()) {
		t.Errorf("listing parsed: got %v, %v", items, err)
	}
	js := JSONListing([]Story{stories[2], stories[0]})
	if !strings.HasPrefix(js, `{"response":{"articles":[{"title":`) || strings.Index(js, stories[2].Path()) > strings.Index(js, stories[0].Path()) {
		t.Errorf("JSON listing: got %s, want stories 2 and 0 in that order", js)
	}
	s.Fail("/huge", Fault{Status: 503})
	if resp, _ := get(t, s.URL()+"/huge"); resp.StatusCode != 503 {
		t.Errorf("a fault before a page: got %d, want 503", resp.StatusCode)
	}
	for i, r := range s.Requests() {
		if r.Seq != i+1 {
			t.Errorf("request %d (%s): Seq %d, want %d", i, r.Path, r.Seq, i+1)
		}
	}
}

// TestRestructure: the site moves /realtime/ to /news/ as zaobao did, and
// the shipped zaobao feed's link selectors find the new section page's
// stories; listings split into pages numbered from 0.
func TestRestructure(t *testing.T) {
	stories := Stories(12, time.Date(2026, 7, 28, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	s.SetPageSize(2)
	china := inSection(stories, "china") // newest first: 3 of them

	if resp, _ := get(t, s.NewsListingURL("china")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/news/ before the move: got %d, want 404", resp.StatusCode)
	}
	for page, want := range map[string][]Story{"": china[:2], "0": china[:2], "1": china[2:], "2": nil} {
		_, body := get(t, s.URL()+"/_plat/api/v2/page-content/realtime/china?page="+page)
		if body != JSONListing(want) {
			t.Errorf("JSON page %q: got %s, want %s", page, body, JSONListing(want))
		}
	}

	s.Restructure()
	for from, to := range map[string]string{
		s.ListingURL("china"):                 "/news/china",
		s.ListingURL("china") + "?page=1":     "/news/china?page=1",
		s.StoryURL(china[0]):                  china[0].NewsPath(),
		s.URL() + "/realtime/china?ref=x&a=1": "/news/china?ref=x&a=1",
	} {
		resp, _ := get(t, from)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != to {
			t.Errorf("%s: got %d to %q, want 301 to %s", from, resp.StatusCode, resp.Header.Get("Location"), to)
		}
	}
	if resp, body := get(t, s.URL()+china[0].NewsPath()); resp.StatusCode != http.StatusOK || body != ArticleHTML(china[0]) {
		t.Errorf("story under /news/: got %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.URL()+"/_plat/api/v2/page-content/realtime/china?page=0"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old JSON listing after the move: got %d, want 404", resp.StatusCode)
	}

	// The shipped feed finds the new page's stories, under both paths.
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Feeds []config.Feed `yaml:"feeds"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	feeds, errs := feed.Compile("feeds", cfg.Feeds[:1])
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for page, want := range map[string][]Story{"0": china[:2], "1": china[2:]} {
		_, body := get(t, s.NewsListingURL("china")+"?page="+page)
		items, _, err := feeds[0].Items([]byte(body), s.NewsListingURL("china"))
		if err != nil {
			t.Fatalf("page %s: %v", page, err)
		}
		var got, wantIDs []string
		for _, it := range items {
			got = append(got, it.URL[strings.LastIndex(it.URL, "-")+1:])
		}
		for _, st := range want {
			wantIDs = append(wantIDs, fmt.Sprint(st.ID))
		}
		if fmt.Sprint(got) != fmt.Sprint(wantIDs) {
			t.Errorf("page %s: got story ids %v, want %v", page, got, wantIDs)
		}
	}
}
