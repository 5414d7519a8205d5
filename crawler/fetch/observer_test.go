package fetch

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	hosts    []string
	statuses []int
	waits    []time.Duration
	retries  []string
}

func (r *recorder) HTTPRequest(host string, status int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, host)
	r.statuses = append(r.statuses, status)
}

func (r *recorder) PolitenessWait(_ string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
}

func (r *recorder) Retry(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, reason)
}

// TestFetcherObserver: the Observer hears of each HTTP exchange with its
// host (no port) and status, each retry with its reason, and each
// politeness wait apart from the backoff between retries: a page that
// answers 503 twice is three requests and two retries, and the waits
// for fetch.delay are only what the delay held back after the backoff.
func TestFetcherObserver(t *testing.T) {
	page := fetchPage(t)
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/story": fetchSequence(page, nil, 503, 503),
		"/other": fetchServe(page),
	})
	cfg := fetchTestConfig()
	cfg.Delay = 3 * time.Second
	cfg.RobotsTxt = false
	f, _ := fetchNewTest(t, cfg)
	rec := &recorder{}
	f.Observe(rec)
	if _, err := f.Get(t.Context(), site.URL+"/story", Conditional{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(t.Context(), site.URL+"/other", Conditional{}); err != nil {
		t.Fatal(err)
	}
	if want := []int{503, 503, 200, 200}; !slices.Equal(rec.statuses, want) {
		t.Errorf("got statuses %v, want %v", rec.statuses, want)
	}
	if want := []string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"}; !slices.Equal(rec.hosts, want) {
		t.Errorf("got hosts %v, want %v", rec.hosts, want)
	}
	if want := []string{"http_503", "http_503"}; !slices.Equal(rec.retries, want) {
		t.Errorf("got retries %v, want %v", rec.retries, want)
	}
	// Starts 3s apart on the fake clock; the backoffs (1s, 2s with the
	// longest jitter) already waited part of it.
	if want := []time.Duration{0, 2 * time.Second, time.Second, 3 * time.Second}; !slices.Equal(rec.waits, want) {
		t.Errorf("got politeness waits %v, want %v", rec.waits, want)
	}
}

// TestFetcherObserverNoResponse: a request that gets no response is
// reported with status 0, and retried as "network".
func TestFetcherObserverNoResponse(t *testing.T) {
	cfg := fetchTestConfig()
	cfg.RobotsTxt = false
	cfg.Retries = 1
	f, _ := fetchNewTest(t, cfg)
	rec := &recorder{}
	f.Observe(rec)
	site := fetchNewSite(t, nil)
	addr := site.URL
	site.Close() // nothing listens there now
	if _, err := f.Get(t.Context(), addr+"/story", Conditional{}); err == nil {
		t.Fatal("got a page from a closed server")
	}
	if want := []int{0, 0}; !slices.Equal(rec.statuses, want) {
		t.Errorf("got statuses %v, want %v", rec.statuses, want)
	}
	if want := []string{"network"}; !slices.Equal(rec.retries, want) {
		t.Errorf("got retries %v, want %v", rec.retries, want)
	}
}
