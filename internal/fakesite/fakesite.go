package fakesite

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Story is one article of the fake site.
type Story struct {
	ID         int
	Section    string // china, world, singapore, finance
	Published  time.Time
	Title      string
	Author     string
	Paragraphs []string
	// Layout is "hk" (the HK layout, shuffled paragraphs), "sg" (the SG
	// 2024 layout with ld+json) or "hydration" (the SG 2025 page: the
	// article is JSON in a hydration script); "" is "sg".
	Layout string
	// Images are the story's pictures, the lead first. Only the
	// "hydration" layout shows them (the others show one image of their
	// own making, as they always have).
	Images []Image
	// Paywalled cuts the body of a "hydration" page after
	// PaywallParagraphs paragraphs and says so in its JSON.
	Paywalled bool
}

// Path is the story's path on the site.
func (s Story) Path() string {
	return fmt.Sprintf("/realtime/%s/story%s-%d", s.Section, s.Published.In(sgt).Format("20060102"), s.ID)
}

// NewsPath is the story's path once the site is restructured (Restructure):
// the same story under /news/.
func (s Story) NewsPath() string { return "/news" + strings.TrimPrefix(s.Path(), "/realtime") }

var sgt = time.FixedZone("SGT", 8*3600)

// Sections are the realtime sections the fake site serves.
var Sections = []string{"china", "world", "singapore", "finance"}

// Stories makes n distinct, realistic stories spread over the sections,
// one every 7 minutes from start, alternating layouts.
func Stories(n int, start time.Time) []Story {
	out := make([]Story, n)
	for i := range out {
		layout := "sg"
		if i%3 == 1 {
			layout = "hk"
		}
		out[i] = Story{
			ID:        3000000 + i,
			Section:   Sections[i%len(Sections)],
			Published: start.Add(time.Duration(i) * 7 * time.Minute).Truncate(time.Second),
			Title:     fmt.Sprintf("第%d则新闻：“测试”标题 %s", i+1, Sections[i%len(Sections)]),
			Author:    "记者" + strconv.Itoa(i%5),
			Paragraphs: []string{
				fmt.Sprintf("（早报讯）这是第%d则新闻的第一段，报道了一件事。", i+1),
				fmt.Sprintf("第二段说明了事情的经过，共有%d人参加。", (i*37)%1000),
				"第三段是结尾。",
			},
			Layout: layout,
		}
	}
	return out
}

// Fault is a way a response can go wrong.
type Fault struct {
	Status     int           // answer this status (429, 500, 503, 404…)
	RetryAfter string        // Retry-After header, with Status
	Delay      time.Duration // sleep before answering (for timeouts)
	Truncate   bool          // promise a longer body than is sent, then close
	Oversize   int           // send this many bytes of filler
	Redirect   string        // redirect to this path or URL
	Body       string        // answer 200 with this body (a malformed feed)
	// Hold keeps the request waiting until the channel is closed (or the
	// client goes away), then answers normally: a test can catch the
	// client mid-run, without timing, and then let it go on.
	Hold <-chan struct{}

	// GzipBomb answers 200 with a gzip stream that inflates to
	// GzipBombSize bytes (512 MiB when 0), compressed as it is sent so
	// that neither side needs to hold it. It names the only hint the
	// client gets that the body is gzip: "x-gzip" (Content-Encoding:
	// x-gzip, which Go's transport does not decode itself),
	// "content-type" (Content-Type: application/x-gzip and no
	// Content-Encoding) or "path" (no header at all: the URL, such as a
	// .xml.gz one, is the hint).
	GzipBomb     string
	GzipBombSize int64
	// GzipBombFill is repeated to make the inflated body; "" is zero bytes.
	GzipBombFill string

	// SlowTail answers 200 with the path's story page (a filler page at
	// other paths): its head, up to the end of the first paragraph, at
	// once, then the rest one byte every SlowTail until the client goes
	// away. It is a server that never quite finishes, which a per-read
	// timeout does not catch.
	SlowTail time.Duration
	// SlowTailLength sends the page's Content-Length with a SlowTail
	// answer; without it the body is chunked.
	SlowTailLength bool
}

// DefaultGzipBombSize is the inflated size of a GzipBomb without a
// GzipBombSize.
const DefaultGzipBombSize = 512 << 20

// Page is a fixed answer the site serves at a path of a test's choosing.
type Page struct {
	ContentType string
	// CacheControl, when set, is sent as the Cache-Control header.
	CacheControl string
	Body         string
}

// Request is one request the site saw. Start and End are read from the
// site's clock when the handler begins and ends: a loaded machine can
// delay either, so compare them only where a delay cannot break the
// comparison (a later start is never made earlier), and prefer Seq and
// MaxInFlight, which do not depend on the clock.
type Request struct {
	// Seq numbers the requests in the order they arrived, from 1: an
	// order to check without comparing clocks.
	Seq        int
	Start, End time.Time
	Method     string
	Path       string // with the query
	Host       string
	Header     http.Header
	Status     int
}

// Site is a running fake site.
type Site struct {
	srv *httptest.Server

	mu          sync.Mutex
	stories     []Story
	byPath      map[string]Story
	faults      map[string][]Fault // path → faults served in order, one per request
	pages       map[string]Page    // path → fixed answer (AddPage)
	seq         int                // requests arrived so far
	requests    []Request
	inFlight    int
	maxInFlight int
	holding     int // requests a Fault.Hold keeps waiting
	modified    time.Time
	latency     time.Duration
	// restructured: /realtime/ answers 301 to /news/ (Restructure).
	restructured bool
	// pageSize > 0 splits the JSON listing and the /news/ listing into
	// pages of that many stories (SetPageSize).
	pageSize int
}

// Restructure moves the site as zaobao did around 2026-07-29, from the
// next request on: /realtime/<section> and the story pages under it
// answer 301 to the same path under /news/ (query kept), where the new
// section pages (NewsListingHTML) and the stories are served; the old
// JSON listing answers 404 (where the new one lives is not known). Before
// it, /news/ paths answer 404.
func (s *Site) Restructure() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restructured = true
}

// SetPageSize makes the JSON listing and the /news/ section pages list
// n stories a page, numbered from 0 by the query parameter page (none is
// page 0); a page past the last lists none. 0, the default, lists every
// story on every page.
func (s *Site) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// NewsListingURL is the section page after Restructure.
func (s *Site) NewsListingURL(section string) string { return s.srv.URL + "/news/" + section }

// SetLatency makes every article page answer after d, like a real site
// across a network.
func (s *Site) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// New starts a fake site serving stories.
func New(stories []Story) *Site {
	s := &Site{stories: stories, byPath: byPath(stories), faults: map[string][]Fault{}, pages: map[string]Page{}, modified: time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Site) Close() { s.srv.Close() }

// URL is the site's base URL (http://127.0.0.1:port).
func (s *Site) URL() string { return s.srv.URL }

// Host is the site's host:port.
func (s *Site) Host() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// FeedURL is the RSSHub-style feed of a section.
func (s *Site) FeedURL(section string) string {
	return s.srv.URL + "/rsshub/zaobao/realtime/" + section
}

// ListingURL is the HTML listing page of a section.
func (s *Site) ListingURL(section string) string { return s.srv.URL + "/realtime/" + section }

// JSONListingURL is the JSON listing of a section.
func (s *Site) JSONListingURL(section string) string {
	return s.srv.URL + "/_plat/api/v2/page-content/realtime/" + section + "?page=1"
}

// StoryURL is a story's URL on the fake site.
func (s *Site) StoryURL(st Story) string { return s.srv.URL + st.Path() }

// SetStories replaces the stories (new ones appear in the feeds) and
// changes the feeds' validators.
func (s *Site) SetStories(stories []Story) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stories = stories
	s.byPath = byPath(stories)
	s.modified = s.modified.Add(time.Minute)
}

// Fail queues faults for a path (as in a request: "/realtime/china" or
// a story's Path()); each request of the path takes the next one.
func (s *Site) Fail(path string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], faults...)
}

// AddPage serves p at path (without a query) from now on, in place of
// what the site would answer there; queued faults still come first.
func (s *Site) AddPage(path string, p Page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = p
}

// AddFeed serves the RSS document xml at path: a feed of a test's making,
// whose items may link anywhere. Its URL is URL()+path.
func (s *Site) AddFeed(path, xml string) {
	s.AddPage(path, Page{ContentType: "application/rss+xml; charset=utf-8", Body: xml})
}

// Requests returns a copy of every request seen so far, in the order they
// ended (sort by Seq for the order they arrived).
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Hits counts the requests of a path (without its query).
func (s *Site) Hits(path string) int {
	n := 0
	for _, r := range s.Requests() {
		if p, _, _ := strings.Cut(r.Path, "?"); p == path {
			n++
		}
	}
	return n
}

// Holding is how many requests a Fault's Hold keeps waiting now.
func (s *Site) Holding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holding
}

// InFlight is the number of requests the site is serving now.
func (s *Site) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MaxInFlight is the largest number of requests the site served at once.
func (s *Site) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.seq++
	seq := s.seq
	var fault *Fault
	if q := s.faults[r.URL.Path]; len(q) > 0 {
		fault = &q[0]
		s.faults[r.URL.Path] = q[1:]
	}
	stories := s.stories
	paths := s.byPath
	modified := s.modified
	latency := s.latency
	page, isPage := s.pages[r.URL.Path]
	restructured, pageSize := s.restructured, s.pageSize
	s.mu.Unlock()

	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.requests = append(s.requests, Request{Seq: seq, Start: start, End: time.Now(), Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Header: r.Header.Clone(), Status: rec.status})
		s.mu.Unlock()
	}()
	if fault != nil && s.applyFault(rec, r, *fault, paths) {
		return
	}
	path := r.URL.Path
	if restructured && !isPage && s.serveMoved(rec, r, stories, paths, pageSize) {
		return
	}
	switch {
	case isPage:
		rec.Header().Set("Content-Type", page.ContentType)
		if page.CacheControl != "" {
			rec.Header().Set("Cache-Control", page.CacheControl)
		}
		fmt.Fprint(rec, page.Body)
	case path == "/robots.txt":
		fmt.Fprint(rec, "User-agent: *\nDisallow: /private/\n")
	case strings.HasPrefix(path, "/rsshub/zaobao/realtime/"):
		s.serveFeed(rec, r, strings.TrimPrefix(path, "/rsshub/zaobao/realtime/"), stories, modified)
	case strings.HasPrefix(path, "/_plat/api/v2/page-content/realtime/"):
		serveJSONListing(rec, r, strings.TrimPrefix(path, "/_plat/api/v2/page-content/realtime/"), stories, pageSize)
	case strings.Count(path, "/") == 2 && strings.HasPrefix(path, "/realtime/"):
		serveListing(rec, strings.TrimPrefix(path, "/realtime/"), stories)
	default:
		if st, ok := paths[strings.TrimSuffix(strings.ReplaceAll(path, "//", "/"), "/")]; ok {
			if latency > 0 {
				select {
				case <-time.After(latency):
				case <-r.Context().Done():
					return
				}
			}
			rec.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(rec, ArticleHTML(st))
			return
		}
		http.NotFound(rec, r)
	}
}

// applyFault answers r with f and reports whether the response is done.
// paths are the stories by path, for the faults that serve a story's page.
func (s *Site) applyFault(w *statusRecorder, r *http.Request, f Fault, paths map[string]Story) bool {
	if f.Hold != nil {
		s.mu.Lock()
		s.holding++
		s.mu.Unlock()
		select {
		case <-f.Hold:
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.holding--
		s.mu.Unlock()
		if r.Context().Err() != nil {
			return true
		}
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
	case f.Redirect != "":
		http.Redirect(w, r, f.Redirect, http.StatusFound)
	case f.Body != "":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, f.Body)
	case f.Truncate:
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "<html><body><p>cut")
		if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	case f.Oversize > 0:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		chunk := strings.Repeat("<p>填充</p>", 1000)
		for n := 0; n < f.Oversize; n += len(chunk) {
			fmt.Fprint(w, chunk)
		}
	case f.GzipBomb != "":
		serveGzipBomb(w, r, f)
	case f.SlowTail > 0:
		page := strings.Repeat("<p>填充</p>", 200)
		if st, ok := paths[r.URL.Path]; ok {
			page = ArticleHTML(st)
		}
		serveSlowTail(w, r, page, f)
	default:
		return false // a delay alone: answer normally, late
	}
	return true
}

// serveGzipBomb sends f's gzip bomb, compressing it as it goes, until it
// is all sent or the client stops reading.
func serveGzipBomb(w http.ResponseWriter, r *http.Request, f Fault) {
	switch f.GzipBomb {
	case "x-gzip":
		w.Header().Set("Content-Encoding", "x-gzip")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	case "content-type":
		w.Header().Set("Content-Type", "application/x-gzip")
	default:
		// Set, or net/http would sniff the gzip magic and name it.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	size := f.GzipBombSize
	if size <= 0 {
		size = DefaultGzipBombSize
	}
	chunk := make([]byte, 1<<20)
	if fill := f.GzipBombFill; fill != "" {
		for i := range chunk {
			chunk[i] = fill[i%len(fill)]
		}
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
	for left := size; left > 0; left -= int64(len(chunk)) {
		if r.Context().Err() != nil {
			return
		}
		if _, err := zw.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			return
		}
	}
	zw.Close()
}

// serveSlowTail sends page's head at once and the rest one byte every
// f.SlowTail, until it is all sent or the client goes away.
func serveSlowTail(w http.ResponseWriter, r *http.Request, page string, f Fault) {
	head := len(page)
	if i := strings.Index(page, "</p>"); i >= 0 {
		head = i + len("</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if f.SlowTailLength {
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	}
	rc := http.NewResponseController(w)
	if _, err := io.WriteString(w, page[:head]); err != nil {
		return
	}
	rc.Flush()
	t := time.NewTicker(f.SlowTail)
	defer t.Stop()
	for i := head; i < len(page); i++ {
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		if _, err := io.WriteString(w, page[i:i+1]); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// Unwrap lets http.ResponseController reach the server's writer (Flush).
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func inSection(stories []Story, section string) []Story {
	var out []Story
	for _, st := range stories {
		if st.Section == section {
			out = append(out, st)
		}
	}
	// Newest first, as feeds and listings list them.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.After(out[j].Published) })
	return out
}

// serveFeed writes the section's feed as RSSHub does, with an ETag and
// Last-Modified, answering 304 to a request that already has them.
func (s *Site) serveFeed(w http.ResponseWriter, r *http.Request, section string, stories []Story, modified time.Time) {
	items := inSection(stories, section)
	if len(items) == 0 && !contains(Sections, section) {
		http.NotFound(w, r)
		return
	}
	body := FeedXML(section, items, s.srv.URL)
	sum := sha256.Sum256([]byte(body))
	etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "max-age=300")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	fmt.Fprint(w, body)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// FeedXML is an RSSHub feed of items, linking to base (RSSHub links the
// real site, https://www.zaobao.com; the fake site links itself).
func FeedXML(section string, items []Story, base string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
<channel>
<title><![CDATA[联合早报 即时新闻 ` + section + `]]></title>
<link>https://www.zaobao.com/realtime/` + section + `</link>
<atom:link href="https://rsshub.app/zaobao/realtime/` + section + `" rel="self" type="application/rss+xml"></atom:link>
<description><![CDATA[联合早报 - Made with love by RSSHub(https://github.com/DIYgod/RSSHub)]]></description>
<generator>RSSHub</generator>
<language>zh-cn</language>
<ttl>5</ttl>
`)
	for _, st := range items {
		fmt.Fprintf(&b, `<item>
<title><![CDATA[%s]]></title>
<description><![CDATA[%s]]></description>
<pubDate>%s</pubDate>
<guid isPermaLink="false">%s%s</guid>
<link>%s%s</link>
</item>
`, st.Title, bodyHTML(st), st.Published.UTC().Format(time.RFC1123), base, st.Path(), base, st.Path())
	}
	b.WriteString("</channel>\n</rss>\n")
	return b.String()
}

func bodyHTML(st Story) string {
	var b strings.Builder
	for _, p := range st.Paragraphs {
		b.WriteString("<p>" + html.EscapeString(p) + "</p>")
	}
	return b.String()
}

// serveListing writes the section listing in the HK layout.
func serveListing(w http.ResponseWriter, section string, stories []Story) {
	if !contains(Sections, section) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, ListingHTML(section, inSection(stories, section)))
}

// ListingHTML is a section listing page in the HK layout, listing stories
// in the order given (the site lists the newest first). Its story links
// are matched by `[data-testid="article-list"] article a`.
func ListingHTML(section string, stories []Story) string {
	var b strings.Builder
	b.Grow(300 + 120*len(stories))
	fmt.Fprint(&b, `<!DOCTYPE html><html lang="zh-cn"><head><meta charset="utf-8"><title>即时 `+section+` | 联合早报网</title></head><body>
<nav><a href="/">首页</a><a href="/realtime">即时</a></nav>
<div data-testid="article-list">`)
	for _, st := range stories {
		fmt.Fprintf(&b, `<article><a href="%s?ref=listing"><h2>%s</h2></a><span>%s</span></article>`+"\n",
			st.Path(), html.EscapeString(st.Title), st.Published.In(sgt).Format("01-02 15:04"))
	}
	fmt.Fprint(&b, `</div><footer>© SPH Media</footer></body></html>`)
	return b.String()
}

func serveJSONListing(w http.ResponseWriter, r *http.Request, section string, stories []Story, pageSize int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, JSONListing(onPage(inSection(stories, section), r, pageSize)))
}

// onPage is the part of list on the page r asks for (query parameter
// page, from 0), pageSize stories a page; all of list when pageSize is 0.
func onPage(list []Story, r *http.Request, pageSize int) []Story {
	if pageSize <= 0 {
		return list
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	from := min(max(page, 0)*pageSize, len(list))
	return list[from:min(from+pageSize, len(list))]
}

// serveMoved answers r as the restructured site does, and reports
// whether it did: 301 from /realtime/ to /news/, the /news/ section
// pages and stories, 404 for the old JSON listing.
func (s *Site) serveMoved(w *statusRecorder, r *http.Request, stories []Story, paths map[string]Story, pageSize int) bool {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/_plat/api/v2/page-content/realtime/"):
		http.NotFound(w, r)
	case strings.HasPrefix(path, "/realtime/"):
		to := "/news/" + strings.TrimPrefix(path, "/realtime/")
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", to)
		w.WriteHeader(http.StatusMovedPermanently)
	case strings.Count(path, "/") == 2 && strings.HasPrefix(path, "/news/"):
		section := strings.TrimPrefix(path, "/news/")
		if !contains(Sections, section) {
			http.NotFound(w, r)
			return true
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, NewsListingHTML(section, onPage(inSection(stories, section), r, pageSize)))
	case strings.HasPrefix(path, "/news/"):
		st, ok := paths["/realtime/"+strings.TrimPrefix(path, "/news/")]
		if !ok {
			http.NotFound(w, r)
			return true
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, ArticleHTML(st))
	default:
		return false
	}
	return true
}

// NewsListingHTML is a section page of the restructured site, listing
// stories in the order given. Its markup is new; its story links are
// under /news/, but every other one is still under /realtime/ (the site
// links both), so they are found by their href, not by the old layouts'
// selectors.
func NewsListingHTML(section string, stories []Story) string {
	var b strings.Builder
	fmt.Fprint(&b, `<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>`+section+` | 联合早报</title></head><body>
<header><nav><a href="/">首页</a><a href="/news/china">中国</a><a href="/news/world">国际</a></nav></header>
<main><section class="latest-news">`)
	for i, st := range stories {
		href := st.NewsPath()
		if i%2 == 1 {
			href = st.Path()
		}
		fmt.Fprintf(&b, `<div class="story-card"><a class="story-card__link" href="%s"><h3>%s</h3></a><time>%s</time></div>`+"\n",
			href, html.EscapeString(st.Title), st.Published.In(sgt).Format("01-02 15:04"))
	}
	fmt.Fprint(&b, `</section><nav class="pagination"><a href="?page=1">下一页</a></nav></main><footer>© SPH Media</footer></body></html>`)
	return b.String()
}

// JSONListing is an answer of the JSON listing endpoint listing stories
// in the order given (the site lists the newest first).
func JSONListing(stories []Story) string {
	type article struct {
		Title     string `json:"title"`
		Href      string `json:"href"`
		Timestamp int64  `json:"timestamp"`
	}
	var out struct {
		Response struct {
			Articles []article `json:"articles"`
		} `json:"response"`
	}
	out.Response.Articles = make([]article, 0, len(stories))
	for _, st := range stories {
		out.Response.Articles = append(out.Response.Articles, article{st.Title, st.Path(), st.Published.Unix()})
	}
	var b strings.Builder
	json.NewEncoder(&b).Encode(out)
	return b.String()
}

// ArticleHTML is the story's page in its layout, with the site's noise
// (scripts, ad slots, recommendation widgets, zero-width watermarks).
func ArticleHTML(st Story) string {
	switch st.Layout {
	case "hk":
		return hkHTML(st)
	case "hydration":
		return hydrationHTML(st)
	}
	return sgHTML(st)
}

func ldJSON(st Story) string {
	b, _ := json.Marshal(map[string]any{
		"@context":      "https://schema.org",
		"@type":         "NewsArticle",
		"headline":      st.Title,
		"datePublished": st.Published.In(sgt).Format(time.RFC3339),
		"keywords":      []string{"测试", st.Section},
		"author":        map[string]any{"@type": "Person", "name": st.Author},
		"image":         []string{"https://www.zaobao.com/s3/files/images/" + strconv.Itoa(st.ID) + ".jpg?VersionId=x"},
	})
	return string(b)
}

func sgHTML(st Story) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>%s | 联合早报</title>
<meta name="keywords" content="测试,%s"><meta property="og:url" content="https://www.zaobao.com.sg%s">
<link rel="canonical" href="https://www.zaobao.com/">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","name":"联合早报"}</script>
<script type="application/ld+json">%s</script>
<script>window.dataLayer=[];googletag.cmd.push(function(){});</script></head>
<body><header><nav><a href="/">首页</a></nav></header><main><h1>%s</h1>
<div class="articleBody">`, html.EscapeString(st.Title), st.Section, st.Path(), ldJSON(st), html.EscapeString(st.Title))
	fmt.Fprintf(&b, `<figure><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/s3/files/images/%d.jpg?VersionId=x" alt="图片说明%d"><figcaption>图片说明%d（路透社）</figcaption></figure>`, st.ID, st.ID, st.ID)
	for i, p := range st.Paragraphs {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(p))
		if i == 0 {
			b.WriteString(`<div class="bff-google-ad"><div id="dfp-ad-imu1"></div></div><div class="bff-recommend-article"><a href="/realtime/china/story20240101-1">推荐阅读：别的新闻</a></div>`)
		}
	}
	b.WriteString(`<button>分享</button></div></main><footer>© SPH Media</footer></body></html>`)
	return b.String()
}

func hkHTML(st Story) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s | 联合早报网</title>
<meta property="og:url" content="https://www.zaobao.com%s"><link rel="canonical" href="https://www.zaobao.com/">
<script type="application/ld+json">%s</script></head><body>
<h1 class="breadcrumb-item active">即时</h1>
<h1 class="article-title">%s</h1>
<div class="author-info"><div><span>作者：%s&nbsp;</span></div><div class="mgt10"><span>%s</span></div></div>
<article class="article-body" id="article-body">`, html.EscapeString(st.Title), st.Path(), ldJSON(st), html.EscapeString(st.Title), st.Author, st.Published.In(sgt).Format("2006-01-02 15:04"))
	// Served shuffled: last paragraph first.
	for i := len(st.Paragraphs) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, `<p data-s="x%02d%s">%s</p>`, i, base32Position(i+1), html.EscapeString(st.Paragraphs[i]))
	}
	b.WriteString(`<section class="flex"><div class="adv-tag adv" id="dfp-ad-imu1"></div></section><script>googletag.cmd.push(function(){googletag.display('dfp-ad-imu1');});</script>`)
	b.WriteString("<span style=\"line-height: 0;\">\u200c\ufeff\u200b\ufeff</span></article></body></html>")
	return b.String()
}

// base32Position is the RFC 4648 base32 of the decimal n, without padding.
func base32Position(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	src := []byte(strconv.Itoa(n))
	var out []byte
	var buf, bits uint
	for _, c := range src {
		buf = buf<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, alphabet[(buf>>bits)&31])
		}
	}
	if bits > 0 {
		out = append(out, alphabet[(buf<<(5-bits))&31])
	}
	return string(out)
}

func byPath(stories []Story) map[string]Story {
	m := make(map[string]Story, len(stories))
	for _, st := range stories {
		m[st.Path()] = st
	}
	return m
}
