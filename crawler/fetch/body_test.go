package fetch

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
)

// fetchSlowTail writes head at once and then tail one byte per 100ms, until
// the client goes away. write is how the bytes reach the wire.
func fetchSlowTail(r *http.Request, write func([]byte) error, flush func(), head, tail []byte) {
	if write(head) != nil {
		return
	}
	flush()
	for i := range tail {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		if write(tail[i:i+1]) != nil {
			return
		}
		flush()
	}
}

// TestFetcherTruncatedByTimeout: a body still arriving when the fetch
// timeout ends is ErrTruncated, never a short 200, however the server
// frames it.
func TestFetcherTruncatedByTimeout(t *testing.T) {
	head := bytes.Repeat([]byte("<p>联合早报 first paragraphs, sent at once.</p>\n"), 200)
	tail := []byte("<p>the rest, one byte at a time.</p></body></html>\n")
	full := append(append([]byte{}, head...), tail...)
	plain := func(w http.ResponseWriter, r *http.Request, withLength bool) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if withLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(full)))
		}
		write := func(b []byte) error { _, err := w.Write(b); return err }
		fetchSlowTail(r, write, w.(http.Flusher).Flush, head, tail)
	}
	tests := []struct {
		name    string
		path    string
		handler http.HandlerFunc
	}{
		{"Content-Length", "/story", func(w http.ResponseWriter, r *http.Request) { plain(w, r, true) }},
		{"chunked", "/story", func(w http.ResponseWriter, r *http.Request) { plain(w, r, false) }},
		{"transport gzip", "/story", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				t.Errorf("request without Accept-Encoding: gzip: %v", r.Header)
				plain(w, r, false)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			write := func(b []byte) error { _, err := zw.Write(b); return err }
			flush := func() { zw.Flush(); w.(http.Flusher).Flush() }
			fetchSlowTail(r, write, flush, head, tail)
			zw.Close()
		}},
		{"application/x-gzip", "/story", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-gzip")
			zw := gzip.NewWriter(w)
			write := func(b []byte) error { _, err := zw.Write(b); return err }
			flush := func() { zw.Flush(); w.(http.Flusher).Flush() }
			fetchSlowTail(r, write, flush, head, tail)
			zw.Close()
		}},
		{"close-delimited", "/story", func(w http.ResponseWriter, r *http.Request) {
			// No Content-Length, not chunked: the body ends when the
			// connection does, as HTTP/1.0 servers send it.
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n")
			write := func(b []byte) error { _, err := buf.Write(b); return err }
			flush := func() { buf.Flush() }
			fetchSlowTail(r, write, flush, head, tail)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			site := fetchNewSite(t, map[string]http.HandlerFunc{tt.path: tt.handler})
			cfg := fetchTestConfig()
			// Long enough for the head to arrive on a loaded machine
			// (else the error is a timeout before the body), far
			// shorter than the tail's five seconds.
			cfg.Timeout = 2 * time.Second
			cfg.Retries = 0
			cfg.RobotsTxt = false
			f, _ := fetchNewTest(t, cfg)
			resp, err := f.Get(t.Context(), site.URL+tt.path, Conditional{})
			if err == nil {
				t.Fatalf("got status %d with %d of %d bytes, want ErrTruncated", resp.Status, len(resp.Body), len(full))
			}
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("got %v, want ErrTruncated", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

// fetchGzip compresses b.
func fetchGzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fetchBomb is a gzip stream of size zero bytes, about a thousandth of
// that compressed.
func fetchBomb(t testing.TB, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, len(zeros))
		if _, err := zw.Write(zeros[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fetchGzipVariant serves body, gzip-compressed, the way one of the
// servers that colly would gunzip does.
type fetchGzipVariant struct {
	name string
	path string
	// header marks the body as gzip; it returns false when the request
	// did not ask for it (Content-Encoding: gzip is only for Go's
	// transport, which asks).
	header func(h http.Header, r *http.Request) bool
}

var fetchGzipVariants = []fetchGzipVariant{
	{"Content-Encoding x-gzip", "/story", func(h http.Header, r *http.Request) bool {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Encoding", "x-gzip")
		return true
	}},
	{"Content-Type application/x-gzip", "/story", func(h http.Header, r *http.Request) bool {
		h.Set("Content-Type", "application/x-gzip")
		return true
	}},
	{"path .xml.gz", "/sitemap.xml.gz", func(h http.Header, r *http.Request) bool {
		h.Set("Content-Type", "application/xml")
		return true
	}},
	{"Content-Encoding gzip", "/story", func(h http.Header, r *http.Request) bool {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Encoding", "gzip")
		return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	}},
}

func (v fetchGzipVariant) serve(t *testing.T, gz []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !v.header(w.Header(), r) {
			t.Errorf("request without Accept-Encoding: gzip: %v", r.Header)
			http.Error(w, "gzip only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(gz)))
		w.Write(gz)
	}
}

// fetchAllocated returns the bytes allocated while fn ran.
func fetchAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestFetcherGzipBomb: a small gzip stream of a huge body is ErrTooLarge
// whoever would gunzip it (colly, Go's transport), and no more than the
// limit is ever decompressed.
func TestFetcherGzipBomb(t *testing.T) {
	const size, limit, budget = 64 << 20, 1 << 20, 32 << 20
	bomb := fetchBomb(t, size)
	t.Logf("%d bytes of zeros compress to %d", size, len(bomb))
	for _, v := range fetchGzipVariants {
		t.Run(v.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{v.path: v.serve(t, bomb)})
			cfg := fetchTestConfig()
			cfg.MaxBodyBytes = limit
			cfg.RobotsTxt = false
			f, _ := fetchNewTest(t, cfg)
			var resp *Response
			var err error
			alloc := fetchAllocated(func() { resp, err = f.Get(t.Context(), site.URL+v.path, Conditional{}) })
			if !errors.Is(err, ErrTooLarge) {
				if resp != nil {
					t.Fatalf("got status %d with %d bytes, want ErrTooLarge", resp.Status, len(resp.Body))
				}
				t.Fatalf("got %v, want ErrTooLarge", err)
			}
			if want := "over 1048576 bytes after gzip decompression"; !strings.Contains(err.Error(), want) {
				t.Errorf("got %q, want it to say %q", err, want)
			}
			t.Logf("allocated %d bytes: %v", alloc, err)
			if alloc > budget {
				t.Errorf("allocated %d bytes, want at most %d", alloc, budget)
			}
			if n := site.count(v.path); n != 1 {
				t.Errorf("got %d requests, want 1 (not retried)", n)
			}
		})
	}
}

// TestFetcherGzipBodies: a gzip body is read whoever would gunzip it; a
// body only the URL or the Content-Type calls gzip is read as it is when
// it is not.
func TestFetcherGzipBodies(t *testing.T) {
	page := fetchPage(t)
	for _, v := range fetchGzipVariants {
		t.Run(v.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{v.path: v.serve(t, fetchGzip(t, page))})
			cfg := fetchTestConfig()
			cfg.RobotsTxt = false
			f, _ := fetchNewTest(t, cfg)
			resp, err := f.Get(t.Context(), site.URL+v.path, Conditional{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, page) {
				t.Errorf("got %d bytes %.40q, want the %d bytes of the page", len(resp.Body), resp.Body, len(page))
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("got Content-Encoding %q with the decoded body", ce)
			}
		})
	}
	plain := []struct {
		name, path, contentType string
	}{
		{"path .xml.gz, not gzip", "/sitemap.xml.gz", "application/xml"},
		{"Content-Type application/gzip, not gzip", "/story", "application/gzip"},
		{"Content-Type application/gzip, empty", "/story", "application/gzip"},
	}
	for _, tt := range plain {
		t.Run(tt.name, func(t *testing.T) {
			body := page
			if strings.HasSuffix(tt.name, "empty") {
				body = nil
			}
			site := fetchNewSite(t, map[string]http.HandlerFunc{tt.path: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.Write(body)
			}})
			cfg := fetchTestConfig()
			cfg.RobotsTxt = false
			f, _ := fetchNewTest(t, cfg)
			resp, err := f.Get(t.Context(), site.URL+tt.path, Conditional{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body, body) {
				t.Errorf("got %d bytes, want %d", len(resp.Body), len(body))
			}
		})
	}
}

// TestFetcherBadEncodings: an encoding never asked for is refused, a
// broken gzip stream is an error naming the URL, and neither hides the
// status of an error response.
func TestFetcherBadEncodings(t *testing.T) {
	page := fetchPage(t)
	gz := fetchGzip(t, page)
	encoded := func(status int, encoding string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", encoding)
			w.WriteHeader(status)
			w.Write(body)
		}
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		want     error  // nil: any error, with text saying so
		text     string // in the error
		requests int
	}{
		{"br", encoded(200, "br", []byte("\x0b\x02\x80hello\x03")), ErrUnsupportedEncoding, `"br"`, 1},
		{"deflate", encoded(200, "deflate", []byte("x\x9c\xcbH\xcd\xc9\xc9\x07\x00\x06,\x02\x15")), ErrUnsupportedEncoding, `"deflate"`, 1},
		{"gzip twice", encoded(200, "gzip, x-gzip", fetchGzip(t, gz)), ErrUnsupportedEncoding, "gzip applied 2 times", 1},
		{"503 with br", encoded(503, "br", []byte("\x0b\x02\x80down\x03")), &HTTPError{Status: 503}, "HTTP 503", 2},
		{"broken x-gzip", encoded(200, "x-gzip", append(gz[:100:100], bytes.Repeat([]byte{0xff}, 100)...)), nil, "decompress body: flate: corrupt input", 2},
		{"not gzip at all", encoded(200, "x-gzip", page), nil, "gzip: invalid header", 2},
		{"broken gzip, transport", encoded(200, "gzip", []byte("not gzip at all")), nil, "gzip: invalid header", 2},
		{"x-gzip short of its Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "x-gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(gz)))
			w.Write(gz[:len(gz)/2])
		}, ErrTruncated, "", 2},
		{"x-gzip cut, close-delimited", func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nConnection: close\r\n\r\n")
			buf.Write(gz[:len(gz)/2])
			buf.Flush()
		}, ErrTruncated, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := fetchNewSite(t, map[string]http.HandlerFunc{"/story": tt.handler})
			cfg := fetchTestConfig()
			cfg.RobotsTxt = false
			cfg.Retries = 1
			f, _ := fetchNewTest(t, cfg)
			url := site.URL + "/story"
			resp, err := f.Get(t.Context(), url, Conditional{})
			if err == nil {
				t.Fatalf("got status %d with %d bytes, want an error", resp.Status, len(resp.Body))
			}
			if he, ok := tt.want.(*HTTPError); ok {
				if got, ok := errors.AsType[*HTTPError](err); !ok || got.Status != he.Status {
					t.Errorf("got %v, want HTTP %d", err, he.Status)
				}
			} else if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), url) {
				t.Errorf("got %q, want it to name %s and say %q", err, url, tt.text)
			}
			t.Logf("error: %v", err)
			if n := site.count("/story"); n != tt.requests {
				t.Errorf("got %d requests, want %d", n, tt.requests)
			}
		})
	}
}

// TestFetcherRobotsGzipBomb: robots.txt is read through the same limits as
// a page; one too large to read allows everything.
func TestFetcherRobotsGzipBomb(t *testing.T) {
	const size, limit, budget = 64 << 20, 1 << 20, 32 << 20
	page := fetchPage(t)
	bomb := fetchBomb(t, size)
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-gzip")
			w.Write(bomb)
		},
		"/story": fetchServe(page),
	})
	cfg := fetchTestConfig()
	cfg.MaxBodyBytes = limit
	f, _ := fetchNewTest(t, cfg)
	var resp *Response
	var err error
	alloc := fetchAllocated(func() { resp, err = f.Get(t.Context(), site.URL+"/story", Conditional{}) })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, page) {
		t.Errorf("got %d bytes, want the page", len(resp.Body))
	}
	t.Logf("allocated %d bytes", alloc)
	if alloc > budget {
		t.Errorf("allocated %d bytes, want at most %d", alloc, budget)
	}
	if n := site.count("/robots.txt"); n != 1 {
		t.Errorf("robots.txt requested %d times, want 1", n)
	}
}

// TestFetcherBackoffPerURL: a host is backed off for URLs that fail, not
// for the retries of one of them.
func TestFetcherBackoffPerURL(t *testing.T) {
	page := fetchPage(t)
	failing := func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}
	// newSite serves a good page, a missing one and failing ones.
	newSite := func(t *testing.T, failingPaths ...string) *fetchSite {
		handlers := map[string]http.HandlerFunc{"/good": fetchServe(page), "/missing": http.NotFound}
		for _, p := range failingPaths {
			handlers[p] = failing
		}
		return fetchNewSite(t, handlers)
	}
	config := func() config.Fetch {
		cfg := fetchTestConfig()
		cfg.RobotsTxt = false
		cfg.Retries = 4
		return cfg
	}

	t.Run("one URL failing through all its retries", func(t *testing.T) {
		site := newSite(t, "/bad")
		f, _ := fetchNewTest(t, config())
		_, err := f.Get(t.Context(), site.URL+"/bad", Conditional{})
		if he, ok := errors.AsType[*HTTPError](err); !ok || he.Status != 500 {
			t.Fatalf("got %v, want HTTP 500", err)
		}
		if n := site.count("/bad"); n != 5 {
			t.Errorf("got %d requests, want 5", n)
		}
		if _, err := f.Get(t.Context(), site.URL+"/good", Conditional{}); err != nil {
			t.Errorf("another URL of the host: got %v, want the page", err)
		}
	})

	t.Run("failing pages between good ones", func(t *testing.T) {
		site := newSite(t, "/bad")
		cfg := config()
		cfg.Retries = 0
		f, _ := fetchNewTest(t, cfg)
		for i := range 3 * hostFailures {
			path := []string{"/bad", "/missing", "/good"}[i%3]
			if _, err := f.Get(t.Context(), site.URL+path, Conditional{}); errors.Is(err, ErrHostBackoff) {
				t.Fatalf("request %d (%s): got %v", i+1, path, err)
			}
		}
	})

	t.Run("distinct URLs failing", func(t *testing.T) {
		var paths []string
		for i := range hostFailures {
			paths = append(paths, "/bad/"+strconv.Itoa(i))
		}
		site := newSite(t, paths...)
		f, clock := fetchNewTest(t, config())
		var requests int
		for i, path := range paths {
			_, err := f.Get(t.Context(), site.URL+path, Conditional{})
			if i < hostFailures-1 && errors.Is(err, ErrHostBackoff) {
				t.Fatalf("URL %d: got %v, want HTTP 500", i+1, err)
			}
			requests += site.count(path)
		}
		if want := 4*5 + 1; requests != want {
			t.Errorf("got %d requests, want %d (the last URL not retried once the host is backed off)", requests, want)
		}
		_, err := f.Get(t.Context(), site.URL+"/good", Conditional{})
		be, ok := errors.AsType[*HostBackoffError](err)
		if !ok || !errors.Is(err, ErrHostBackoff) {
			t.Fatalf("got %v, want a *HostBackoffError", err)
		}
		if now := clock.now(); !be.Until.After(now) || be.Until.After(now.Add(hostBackoffMin)) {
			t.Errorf("got Until %v, want within %v of %v", be.Until, hostBackoffMin, now)
		}
		if want := strings.TrimPrefix(site.URL, "http://"); be.Host != want {
			t.Errorf("got Host %q, want %q", be.Host, want)
		}
		if site.count("/good") != 0 {
			t.Errorf("a backed off host was requested")
		}
		clock.advance(hostBackoffMin)
		if _, err := f.Get(t.Context(), site.URL+"/good", Conditional{}); err != nil {
			t.Errorf("once the backoff is over: got %v, want the page", err)
		}
	})
}
