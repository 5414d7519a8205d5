package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
)

// countingGate is a HostGate in memory that keeps each host's concurrency
// (a semaphore as large as the first Acquire asks) and records what it is
// asked: the spacing of starts is the gate's job (store.HostGate, tested
// in the store), the Client's is to ask the gate for every request with
// the host's budget and to pass on the waits a host asks for.
type countingGate struct {
	mu       sync.Mutex
	slots    map[string]chan struct{}
	inFlight int
	asked    []string // "host concurrency gap", one per Acquire
	deferred []string // "host until", one per Defer
}

func (g *countingGate) Acquire(ctx context.Context, host string, concurrency int, gap time.Duration) (func(), error) {
	g.mu.Lock()
	if g.slots == nil {
		g.slots = map[string]chan struct{}{}
	}
	slots := g.slots[host]
	if slots == nil {
		slots = make(chan struct{}, concurrency)
		g.slots[host] = slots
	}
	g.asked = append(g.asked, fmt.Sprintf("%s %d %v", host, concurrency, gap))
	g.mu.Unlock()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	g.inFlight++
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
		<-slots
	}, nil
}

func (g *countingGate) Defer(ctx context.Context, host string, until time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deferred = append(g.deferred, fmt.Sprintf("%s %s", host, until.Format(time.RFC3339Nano)))
	return nil
}

// held is how many requests hold a slot of the gate.
func (g *countingGate) held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight
}

// TestSharedHostBudget: three fetchers (three workers) sharing one gate
// ask it for every request, with the host's concurrency and delay (the
// random delay rolled in); no request reaches the host without a slot of
// the gate; and a Retry-After one of them gets is passed to the gate for
// the others. The fetchers' clock stands still: nothing here depends on
// how fast the machine is.
func TestSharedHostBudget(t *testing.T) {
	gate := &countingGate{}
	var (
		mu          sync.Mutex
		requests    int
		inFlight    int
		maxInFlight int
		unheld      []string
		first429    = true
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		// Every request at the host holds a slot: the gate counts at
		// least as many as the host sees.
		if held := gate.held(); held < inFlight {
			unheld = append(unheld, fmt.Sprintf("%s with %d requests at the host and %d slots held", r.URL.Path, inFlight, held))
		}
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
		// Held a little, so that requests the gate did not hold back
		// would overlap here. Not a measurement.
		time.Sleep(15 * time.Millisecond)
		io.WriteString(w, "<html><body><p>ok</p></body></html>")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	cfg := config.Default().Fetch
	cfg.Concurrency = 2
	cfg.Delay = 20 * time.Millisecond
	cfg.RandomDelay = 10 * time.Millisecond
	cfg.RobotsTxt = false
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var waits []time.Duration
	var wg sync.WaitGroup
	for w := range 3 {
		f, err := New(cfg, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		f.now = func() time.Time { return t0 }
		f.sleep = func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		}
		f.jitter = func(n int64) int64 { return n - 1 }
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

	mu.Lock()
	defer mu.Unlock()
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if requests != 16 {
		t.Errorf("got %d requests, want 16 (15 pages, one retried)", requests)
	}
	if maxInFlight > cfg.Concurrency {
		t.Errorf("max in flight across workers: got %d, want at most %d", maxInFlight, cfg.Concurrency)
	}
	if len(unheld) > 0 {
		t.Errorf("%d requests reached the host without a slot of the gate, such as %s", len(unheld), unheld[0])
	}
	want := fmt.Sprintf("%s %d %v", host, cfg.Concurrency, cfg.Delay+cfg.RandomDelay-1)
	if len(gate.asked) != requests {
		t.Errorf("the gate was asked %d times for %d requests, want once each", len(gate.asked), requests)
	}
	if i := slices.IndexFunc(gate.asked, func(got string) bool { return got != want }); i >= 0 {
		t.Errorf("gate asked for %q (request %d of %d), want %q each time (host, concurrency, delay with the random delay's roll)", gate.asked[i], i+1, len(gate.asked), want)
	}
	wantDefer := fmt.Sprintf("%s %s", host, t0.Add(time.Second).Format(time.RFC3339Nano))
	if len(gate.deferred) != 1 || gate.deferred[0] != wantDefer {
		t.Errorf("deferred: got %q, want [%q]: the Retry-After, for every worker", gate.deferred, wantDefer)
	}
	// The gate spaces the starts; the one wait of a worker's own is the
	// Retry-After before its retry.
	if len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("the fetchers waited %v themselves, want [1s] (the Retry-After)", waits)
	}
}

// downGate is a HostGate whose store does not answer until up is set.
type downGate struct {
	countingGate
	mu sync.Mutex
	up bool
}

func (g *downGate) Acquire(ctx context.Context, host string, concurrency int, gap time.Duration) (func(), error) {
	g.mu.Lock()
	up := g.up
	g.mu.Unlock()
	if !up {
		return nil, fmt.Errorf("store: connection refused")
	}
	return g.countingGate.Acquire(ctx, host, concurrency, gap)
}

// TestHostGateDownIsNoSiteFailure: while the shared gate's store does not
// answer, Get fails at once with ErrHostGate, without retrying, without
// asking the host, and without counting against the host: once the store
// answers again the next Get reaches the host, with no backoff, even after
// more failed Gets than back a host off.
func TestHostGateDownIsNoSiteFailure(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		io.WriteString(w, "<html><body><p>ok</p></body></html>")
	}))
	defer srv.Close()
	cfg := config.Default().Fetch
	cfg.RobotsTxt = false
	cfg.Retries = 3
	f, err := New(cfg, []string{"127.0.0.1"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f.sleep = func(context.Context, time.Duration) error { return nil }
	gate := &downGate{}
	f.ShareHosts(gate)
	for i := range 2 * hostFailures {
		_, err := f.Get(t.Context(), srv.URL+"/p/"+strconv.Itoa(i), Conditional{})
		if !errors.Is(err, ErrHostGate) {
			t.Fatalf("get %d with the gate down: got %v, want ErrHostGate", i, err)
		}
	}
	mu.Lock()
	if requests != 0 {
		t.Errorf("the host got %d requests while the gate was down, want none", requests)
	}
	mu.Unlock()
	gate.mu.Lock()
	gate.up = true
	gate.mu.Unlock()
	if _, err := f.Get(t.Context(), srv.URL+"/p/after", Conditional{}); err != nil {
		t.Errorf("get once the gate is back: %v; want the page (the host was never backed off)", err)
	}
	if len(gate.deferred) != 0 {
		t.Errorf("deferred: got %q, want nothing shared with the other workers", gate.deferred)
	}
}
