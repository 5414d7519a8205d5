package crawler

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/internal/config"
)

// urlSite is a test server for feeds with several URLs: answers by
// host and path (the query is the handler's), and the requests in the
// order they came. Requests to any host but the server's own reach it
// through hostsTransport, keeping their Host.
type urlSite struct {
	mu       sync.Mutex
	seen     []string // host + request URI
	handlers map[string]http.HandlerFunc
}

func (s *urlSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if strings.HasPrefix(host, "127.0.0.1:") {
		host = "local"
	}
	s.mu.Lock()
	s.seen = append(s.seen, host+r.URL.RequestURI())
	h := s.handlers[host+r.URL.Path]
	s.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (s *urlSite) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

type hostsTransport struct{ to string }

func (t hostsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = "http", strings.TrimPrefix(t.to, "http://")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if resp != nil {
		resp.Request = req // as if the host had answered
	}
	return resp, err
}

// logBuffer collects a runner's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count is how many lines have level and msg.
func (l *logBuffer) count(level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, "level="+level) && strings.Contains(line, fmt.Sprintf("msg=%q", msg)) {
			n++
		}
	}
	return n
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// urlRunner is a runner over the project's zaobao rules polling feeds
// (URLs under "local/" are on the test server's own host), whose
// requests all reach handlers.
func urlRunner(t *testing.T, handlers map[string]http.HandlerFunc, feeds ...config.Feed) (*Runner, *urlSite, *logBuffer, string) {
	t.Helper()
	s := &urlSite{handlers: handlers}
	r, _, _, srv := testRunner(t, s)
	r.dep.Fetcher.SetBaseTransport(hostsTransport{to: srv.URL})
	local := func(u string) string {
		if rest, ok := strings.CutPrefix(u, "local/"); ok {
			return srv.URL + "/" + rest
		}
		return u
	}
	for i := range feeds {
		feeds[i].URL = local(feeds[i].URL)
		for j := range feeds[i].URLs {
			feeds[i].URLs[j] = local(feeds[i].URLs[j])
		}
	}
	compiled, errs := feed.Compile("feeds", feeds)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	d := r.dep
	d.Feeds = compiled
	logs := &logBuffer{}
	d.Log = slog.New(slog.NewTextHandler(logs, nil))
	return New(r.cfg, d), s, logs, srv.URL
}

func jsonList(hrefs ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var arts []string
		for _, h := range hrefs {
			arts = append(arts, fmt.Sprintf(`{"title":"%s","href":"%s","timestamp":1785283200}`, h, h))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"response":{"articles":[%s]}}`, strings.Join(arts, ","))
	}
}

func itemURLs(items []feed.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.URL)
	}
	return out
}

// TestPollFallbackOrder: the URLs are tried in order until one lists
// items; those after it are not asked; the ones that failed do not fail
// the feed; the change is logged once, and again when the first URL
// answers again.
func TestPollFallbackOrder(t *testing.T) {
	var mu sync.Mutex
	firstDown := true
	handlers := map[string]http.HandlerFunc{
		"local/a": func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			down := firstDown
			mu.Unlock()
			if down {
				http.Error(w, "gone", http.StatusNotFound)
				return
			}
			jsonList("/a/story20260729-1")(w, r)
		},
		"local/b": jsonList(),                                           // answers, lists nothing
		"local/c": jsonList("/c/story20260729-2", "/c/story20260729-3"), // lists
		"local/d": jsonList("/d/story20260729-4"),
	}
	r, s, logs, base := urlRunner(t, handlers, config.Feed{Name: "f", Type: feed.TypeJSONListing,
		URL: "local/a", URLs: []string{"local/b", "local/c", "local/d"}})
	f := r.dep.Feeds[0]

	for poll := range 2 {
		p, err := r.Poll(t.Context(), f)
		if err != nil {
			t.Fatalf("poll %d: %v", poll, err)
		}
		if p.URL != base+"/c" || p.Status != http.StatusOK {
			t.Errorf("poll %d: answered by %q (status %d), want %s/c", poll, p.URL, p.Status, base)
		}
		if want := []string{base + "/c/story20260729-2", base + "/c/story20260729-3"}; !slices.Equal(itemURLs(p.Items), want) {
			t.Errorf("poll %d: items %q, want %q", poll, itemURLs(p.Items), want)
		}
		if len(p.Failed) != 2 || p.Failed[0].URL != base+"/a" || p.Failed[1].URL != base+"/b" || !errors.Is(p.Failed[1].Err, feedpoll.ErrNoItems) {
			t.Errorf("poll %d: failed %v, want a (404) then b (no items)", poll, p.Failed)
		}
		if he, ok := errors.AsType[*fetch.HTTPError](p.Failed[0].Err); !ok || he.Status != http.StatusNotFound {
			t.Errorf("poll %d: a failed with %v, want its 404", poll, p.Failed[0].Err)
		}
	}
	if got, want := s.requests(), []string{"local/a", "local/b", "local/c", "local/a", "local/b", "local/c"}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q (d never asked)", got, want)
	}
	if n := logs.count("WARN", "feed answered by a fallback URL"); n != 1 || !strings.Contains(logs.String(), "hint=") {
		t.Errorf("got %d fallback warnings, want 1 with a hint:\n%s", n, logs)
	}

	mu.Lock()
	firstDown = false
	mu.Unlock()
	p, err := r.Poll(t.Context(), f)
	if err != nil || p.URL != base+"/a" || len(p.Failed) != 0 || len(p.Items) != 1 {
		t.Errorf("first URL back: got %+v, %v", p, err)
	}
	if n := logs.count("INFO", "feed answered by another URL"); n != 1 {
		t.Errorf("got %d change notes, want 1:\n%s", n, logs)
	}
}

// TestPollEveryURLFails: the feed fails with the first URL's error, the
// others' named too; a feed whose URLs answer without items is an empty
// poll, not a failure.
func TestPollEveryURLFails(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"local/empty": jsonList(),
		"local/html":  func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html><body>维护中</body></html>") },
	}
	r, _, _, base := urlRunner(t, handlers,
		config.Feed{Name: "dead", Type: feed.TypeJSONListing, URLs: []string{"local/gone", "local/html"}},
		config.Feed{Name: "quiet", Type: feed.TypeJSONListing, URLs: []string{"local/gone2", "local/empty"}})
	_, err := r.Poll(t.Context(), r.dep.Feeds[0])
	if he, ok := errors.AsType[*fetch.HTTPError](err); !ok || he.Status != http.StatusNotFound || !strings.Contains(err.Error(), "other URLs") {
		t.Errorf("dead: got %v, want the first URL's 404, naming the second's error", err)
	}
	if !strings.Contains(err.Error(), "no story links found") {
		t.Errorf("dead: %v does not name the second URL's error", err)
	}
	p, err := r.Poll(t.Context(), r.dep.Feeds[1])
	if err != nil || p.URL != base+"/empty" || len(p.Items) != 0 || p.Status != http.StatusOK {
		t.Errorf("quiet: got %+v, %v; want an empty answer from %s/empty", p, err, base)
	}
	if len(p.Failed) != 1 || p.Failed[0].URL != base+"/gone2" {
		t.Errorf("quiet: failed %v, want the 404 of %s/gone2 before the empty answer", p.Failed, base)
	}
}

// TestPollPages: pages are numbered from 0; items are deduplicated
// across pages in order; a malformed page in the middle is skipped and
// the pages after it read; an empty page ends the list.
func TestPollPages(t *testing.T) {
	pages := map[string]http.HandlerFunc{
		"0": jsonList("/s/story20260729-1", "/s/story20260729-2"),
		"1": jsonList("/s/story20260729-2", "/s/story20260729-3"),
		"2": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"error":"upstream timeout"}`) },
		"3": jsonList("/s/story20260729-4"),
		"4": jsonList(),
		"5": jsonList("/s/story20260729-9"),
	}
	htmlPage := func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("page")
		if p == "" {
			p = "0"
		}
		fmt.Fprintf(w, `<html><body><ul class="list"><li><a href="/h/story20260729-%s0">新闻</a></li><li><a href="/h/story20260729-%s1">新闻</a></li></ul></body></html>`, p, p)
	}
	handlers := map[string]http.HandlerFunc{
		"local/api": func(w http.ResponseWriter, r *http.Request) { pages[r.URL.Query().Get("page")](w, r) },
		"local/h":   htmlPage,
	}
	r, s, logs, base := urlRunner(t, handlers,
		config.Feed{Name: "api", Type: feed.TypeJSONListing, URL: "local/api?page={page}", Pages: 8},
		config.Feed{Name: "html", Type: feed.TypeListing, URL: "local/h", Pages: 2, Links: []string{".list a"}})

	p, err := r.Poll(t.Context(), r.dep.Feeds[0])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{base + "/s/story20260729-1", base + "/s/story20260729-2", base + "/s/story20260729-3", base + "/s/story20260729-4"}
	if !slices.Equal(itemURLs(p.Items), want) {
		t.Errorf("items:\ngot  %q\nwant %q", itemURLs(p.Items), want)
	}
	wantReq := []string{"local/api?page=0", "local/api?page=1", "local/api?page=2", "local/api?page=3", "local/api?page=4"}
	if got := s.requests(); !slices.Equal(got, wantReq) {
		t.Errorf("requests:\ngot  %q\nwant %q (none after the empty page)", got, wantReq)
	}
	if p.Pages != 5 {
		t.Errorf("pages read: got %d, want 5", p.Pages)
	}
	if n := logs.count("WARN", "feed page unreadable; skipped"); n != 1 {
		t.Errorf("got %d warnings of the malformed page, want 1:\n%s", n, logs)
	}

	p, err = r.Poll(t.Context(), r.dep.Feeds[1])
	if err != nil {
		t.Fatal(err)
	}
	want = []string{base + "/h/story20260729-00", base + "/h/story20260729-01", base + "/h/story20260729-10", base + "/h/story20260729-11"}
	if !slices.Equal(itemURLs(p.Items), want) {
		t.Errorf("HTML items:\ngot  %q\nwant %q", itemURLs(p.Items), want)
	}
	if got := s.requests()[len(wantReq):]; !slices.Equal(got, []string{"local/h", "local/h?page=1"}) {
		t.Errorf("HTML requests: got %q, want the page as written, then page=1", got)
	}
}

// TestPollRedirects: a feed's redirect within its site's hosts is
// followed and logged once with the new location; one that leaves them
// is refused, naming where it led, and not followed; a feed without site
// rules stays on its own host.
func TestPollRedirects(t *testing.T) {
	moved := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusMovedPermanently) }
	}
	story := `<html><body><div class="list"><a href="/news/china/story20260729-3100001">新闻</a></div></body></html>`
	var local string
	handlers := map[string]http.HandlerFunc{
		"www.zaobao.com.sg/realtime/china": moved("https://www.zaobao.com.sg/news/china"),
		"www.zaobao.com.sg/news/china":     func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, story) },
		"www.zaobao.com.sg/realtime/world": moved("https://elsewhere.example/news/world"),
		"elsewhere.example/news/world":     func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, story) },
		"local/old":                        func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, local, http.StatusFound) },
		"local/new":                        func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, story) },
		"local/rsshub":                     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) },
	}
	links := []string{".list a"}
	r, s, logs, base := urlRunner(t, handlers,
		config.Feed{Name: "china", Type: feed.TypeListing, URL: "https://www.zaobao.com.sg/realtime/china", Site: "zaobao", Links: links},
		config.Feed{Name: "world", Type: feed.TypeListing, URL: "https://www.zaobao.com.sg/realtime/world", Site: "zaobao", Links: links},
		config.Feed{Name: "plain", Type: feed.TypeListing, URL: "local/old", Links: links},
		// Another host's feed of the site's stories (RSSHub's).
		config.Feed{Name: "mirror", Type: feed.TypeListing, URL: "local/rsshub", Site: "zaobao", Links: links})

	for range 2 {
		p, err := r.Poll(t.Context(), r.dep.Feeds[0])
		if err != nil || p.Location != "https://www.zaobao.com.sg/news/china" || len(p.Items) != 1 ||
			p.Items[0].URL != "https://www.zaobao.com.sg/news/china/story20260729-3100001" {
			t.Errorf("china: got %+v, %v; want the story from the new location", p, err)
		}
	}
	if n := logs.count("WARN", "feed URL redirects: update the config"); n != 1 || !strings.Contains(logs.String(), "location=https://www.zaobao.com.sg/news/china") {
		t.Errorf("got %d redirect warnings, want 1 naming the location:\n%s", n, logs)
	}

	_, err := r.Poll(t.Context(), r.dep.Feeds[1])
	if !errors.Is(err, fetch.ErrForbiddenHost) || !strings.Contains(err.Error(), "https://elsewhere.example/news/world") {
		t.Errorf("world: got %v, want ErrForbiddenHost naming the other host", err)
	}

	local = strings.Replace(base, "127.0.0.1", "localhost", 1) + "/new"
	if _, err := r.Poll(t.Context(), r.dep.Feeds[2]); !errors.Is(err, fetch.ErrForbiddenHost) {
		t.Errorf("plain to another host: got %v, want ErrForbiddenHost", err)
	}
	local = base + "/new"
	if p, err := r.Poll(t.Context(), r.dep.Feeds[2]); err != nil || p.Location != local {
		t.Errorf("plain on its host: got %+v, %v", p, err)
	}
	if p, err := r.Poll(t.Context(), r.dep.Feeds[3]); err != nil || p.Location != base+"/new" {
		t.Errorf("mirror on its own host: got %+v, %v", p, err)
	}
	for _, req := range s.requests() {
		if strings.HasPrefix(req, "elsewhere.example") || strings.HasPrefix(req, "localhost") {
			t.Errorf("refused redirect followed: %s", req)
		}
	}
}
