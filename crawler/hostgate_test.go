package crawler

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// memGate is a HostGate in memory: what a store-backed gate does across
// processes, for one process's workers.
type memGate struct {
	mu    sync.Mutex
	hosts map[string]*memGateHost
}

type memGateHost struct {
	inFlight  int
	nextStart time.Time
	notBefore time.Time
}

func (g *memGate) Acquire(ctx context.Context, host string, concurrency int, gap time.Duration) (func(), error) {
	for {
		g.mu.Lock()
		if g.hosts == nil {
			g.hosts = map[string]*memGateHost{}
		}
		h := g.hosts[host]
		if h == nil {
			h = &memGateHost{}
			g.hosts[host] = h
		}
		now := time.Now()
		start := now
		for _, t := range []time.Time{h.nextStart, h.notBefore} {
			if t.After(start) {
				start = t
			}
		}
		if h.inFlight < concurrency && !start.After(now) {
			h.inFlight++
			h.nextStart = now.Add(gap)
			g.mu.Unlock()
			return func() {
				g.mu.Lock()
				h.inFlight--
				g.mu.Unlock()
			}, nil
		}
		wait := max(start.Sub(now), time.Millisecond)
		g.mu.Unlock()
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (g *memGate) Defer(ctx context.Context, host string, until time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.hosts[host]; h != nil && until.After(h.notBefore) {
		h.notBefore = until
	}
	return nil
}

// TestSharedHostBudget: three fetchers (three workers) sharing one gate
// never exceed the host's concurrency together and keep its delay between
// starts; a Retry-After one of them gets holds the others back too.
func TestSharedHostBudget(t *testing.T) {
	var (
		mu          sync.Mutex
		inFlight    int
		maxInFlight int
		starts      []time.Time
		first429    = true
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		starts = append(starts, time.Now())
		send429 := first429 && r.URL.Path == "/p/7"
		if send429 {
			first429 = false
		}
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		if send429 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		time.Sleep(15 * time.Millisecond)
		io.WriteString(w, "<html><body><p>ok</p></body></html>")
	}))
	defer srv.Close()

	cfg := DefaultFetchConfig()
	cfg.Concurrency = 2
	cfg.Delay = 20 * time.Millisecond
	cfg.RobotsTxt = false
	cfg.BackoffBase = 10 * time.Millisecond
	gate := &memGate{}
	var wg sync.WaitGroup
	for w := range 3 {
		f, err := NewFetcher(cfg, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		f.ShareHosts(gate)
		for i := range 5 {
			wg.Go(func() {
				if _, err := f.Get(t.Context(), srv.URL+"/p/"+strconv.Itoa(w*5+i), Conditional{}); err != nil {
					t.Errorf("get: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if maxInFlight > 2 {
		t.Errorf("max in flight across workers: got %d, want at most 2", maxInFlight)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	const tolerance = 3 * time.Millisecond
	var after429 bool
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < cfg.Delay-tolerance {
			t.Errorf("requests %d and %d started %v apart, want at least %v", i-1, i, gap, cfg.Delay)
		}
		if starts[i].Sub(starts[i-1]) >= 900*time.Millisecond {
			after429 = true
		}
	}
	if !after429 {
		t.Errorf("no worker waited for the Retry-After one of them got")
	}
	if len(starts) != 16 {
		t.Errorf("got %d requests, want 16 (15 pages, one retried)", len(starts))
	}
}
