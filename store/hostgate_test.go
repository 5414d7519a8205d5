package store_test

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// testHostGate runs three workers, each with its own connection to one
// store, through the store's host gate: together they never have more
// than the host's concurrency in flight, keep its delay between starts,
// and all wait out a Defer.
func testHostGate(t *testing.T, open func() store.Backend) {
	const (
		concurrency = 2
		gap         = 25 * time.Millisecond
		perWorker   = 8
	)
	var (
		mu       sync.Mutex
		inFlight int
		maxSeen  int
		starts   []time.Time
	)
	var wg sync.WaitGroup
	deferredUntil := time.Now().Add(400 * time.Millisecond)
	for w := range 3 {
		b := open()
		gate, err := store.NewHostGate(b, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if w == 0 {
			if err := gate.Defer(t.Context(), "zaobao.example:443", deferredUntil); err != nil {
				t.Fatal(err)
			}
		}
		for range perWorker {
			wg.Go(func() {
				release, err := gate.Acquire(t.Context(), "zaobao.example:443", concurrency, gap)
				if err != nil {
					t.Errorf("acquire: %v", err)
					return
				}
				mu.Lock()
				inFlight++
				maxSeen = max(maxSeen, inFlight)
				starts = append(starts, time.Now())
				mu.Unlock()
				time.Sleep(30 * time.Millisecond) // the request
				mu.Lock()
				inFlight--
				mu.Unlock()
				release()
			})
		}
	}
	wg.Wait()
	if maxSeen > concurrency {
		t.Errorf("in flight across workers: got %d, want at most %d", maxSeen, concurrency)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	if len(starts) != 3*perWorker {
		t.Fatalf("got %d requests, want %d", len(starts), 3*perWorker)
	}
	if starts[0].Before(deferredUntil) {
		t.Errorf("first request %v before the deferred time", deferredUntil.Sub(starts[0]))
	}
	// The gate schedules each start one gap (plus a margin) after the
	// previous one. A start is recorded after the worker wakes up, which
	// on a loaded machine (the race detector, other test packages) can be
	// late by more than a gap, so single gaps are no measure here; the
	// span of all starts is: n requests cannot start in less than n-1
	// gaps. cmd/newsmd's TestWorkersOnPostgres checks single gaps as the
	// fake sites see them.
	if span, want := starts[len(starts)-1].Sub(starts[0]), time.Duration(len(starts)-1)*gap; span < want {
		t.Errorf("%d requests started within %v, want at least %v", len(starts), span, want)
	}
	for i := 1; i < len(starts); i++ {
		if starts[i].Equal(starts[i-1]) {
			t.Errorf("starts %d and %d at the same instant", i-1, i)
		}
	}
}

func TestSQLiteHostGate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	testHostGate(t, func() store.Backend {
		b, err := store.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}

func TestPostgresHostGate(t *testing.T) {
	_, dsn := postgresSchema(t)
	testHostGate(t, func() store.Backend { return openPostgres(t, dsn) })
}

// TestHostGateSlotOfKilledWorker: a slot never released (its worker was
// killed) frees itself after the lease.
func TestHostGateSlotOfKilledWorker(t *testing.T) {
	b, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	gate, _ := store.NewHostGate(b, 300*time.Millisecond)
	if _, err := gate.Acquire(t.Context(), "h", 1, 0); err != nil { // never released
		t.Fatal(err)
	}
	start := time.Now()
	release, err := gate.Acquire(t.Context(), "h", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("second slot after %v, want after the first one's lease", waited)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	gate.Acquire(t.Context(), "h", 1, 0)
	if _, err := gate.Acquire(ctx, "h", 1, 0); err == nil {
		t.Errorf("acquire on a full host returned before its context ended")
	}
}
