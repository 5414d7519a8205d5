package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// testHostGate runs three workers, each with its own connection to one
// store, through the store's host gate: together they never have more
// than the host's concurrency in flight, keep its delay between starts,
// and all wait out a Defer.
func testHostGate(t *testing.T, open func(t *testing.T) store.Backend) {
	gates := func(t *testing.T) []*store.HostGate {
		var gs []*store.HostGate
		for range 3 {
			g, err := store.NewHostGate(open(t), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
		return gs
	}

	t.Run("concurrency", func(t *testing.T) {
		const concurrency, perWorker = 2, 4
		var (
			mu       sync.Mutex
			inFlight int
			maxSeen  int
			done     int
		)
		var wg sync.WaitGroup
		for _, gate := range gates(t) {
			for range perWorker {
				wg.Go(func() {
					release, err := gate.Acquire(t.Context(), "slots.example:443", concurrency, 0)
					if err != nil {
						t.Errorf("acquire: %v", err)
						return
					}
					mu.Lock()
					inFlight++
					maxSeen = max(maxSeen, inFlight)
					mu.Unlock()
					// The request: long enough that workers the gate
					// did not hold back would overlap. Not a measurement.
					time.Sleep(60 * time.Millisecond)
					mu.Lock()
					inFlight--
					done++
					mu.Unlock()
					release()
				})
			}
		}
		wg.Wait()
		if done != 3*perWorker {
			t.Errorf("got %d requests, want %d", done, 3*perWorker)
		}
		if maxSeen > concurrency {
			t.Errorf("in flight across workers: got %d, want at most %d", maxSeen, concurrency)
		}
	})

	// The gate reserves each start at least one gap after the previous
	// one and not before a deferred time, and Acquire returns no sooner
	// than the start it reserved. So however late a loaded machine wakes
	// the workers, every start is at or after the deferred time and the
	// last is at least n-1 gaps after it. (Single gaps, or the span from
	// the first start, are no measure: a worker woken late shortens the
	// gap after it.) The millisecond is the stores' microsecond rounding.
	t.Run("spacing", func(t *testing.T) {
		const (
			gap       = 25 * time.Millisecond
			perWorker = 8
			rounding  = time.Millisecond
		)
		gs := gates(t)
		deferredUntil := time.Now().Add(300 * time.Millisecond)
		if err := gs[0].Defer(t.Context(), "spaced.example:443", deferredUntil); err != nil {
			t.Fatal(err)
		}
		var (
			mu     sync.Mutex
			starts []time.Time
		)
		var wg sync.WaitGroup
		for _, gate := range gs {
			for range perWorker {
				wg.Go(func() {
					// No slot limit: only the gap spaces the starts.
					release, err := gate.Acquire(t.Context(), "spaced.example:443", 3*perWorker, gap)
					if err != nil {
						t.Errorf("acquire: %v", err)
						return
					}
					mu.Lock()
					starts = append(starts, time.Now())
					mu.Unlock()
					release()
				})
			}
		}
		wg.Wait()
		if len(starts) != 3*perWorker {
			t.Fatalf("got %d requests, want %d", len(starts), 3*perWorker)
		}
		slices.SortFunc(starts, time.Time.Compare)
		if early := deferredUntil.Sub(starts[0]); early > rounding {
			t.Errorf("first request %v before the deferred time", early)
		}
		last, want := starts[len(starts)-1].Sub(deferredUntil), time.Duration(len(starts)-1)*gap-rounding
		if last < want {
			t.Errorf("%d requests started within %v of the deferred time, want the last at least %v after it (one gap of %v each)", len(starts), last, want, gap)
		}
	})
}

func TestSQLiteHostGate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	testHostGate(t, func(t *testing.T) store.Backend {
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
	testHostGate(t, func(t *testing.T) store.Backend { return openPostgres(t, dsn) })
}

// TestHostGateSlotOfKilledWorker: a slot never released (its worker was
// killed) frees itself after the lease, and not before.
func TestHostGateSlotOfKilledWorker(t *testing.T) {
	b, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const lease = 300 * time.Millisecond
	gate, _ := store.NewHostGate(b, lease)
	// Taken before the first slot's lease starts: the second slot cannot
	// be had less than a lease after it, however slow the machine (the
	// millisecond is the store's microsecond rounding).
	start := time.Now()
	if _, err := gate.Acquire(t.Context(), "h", 1, 0); err != nil { // never released
		t.Fatal(err)
	}
	release, err := gate.Acquire(t.Context(), "h", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	release()
	if waited := time.Since(start); waited < lease-time.Millisecond {
		t.Errorf("second slot after %v, want after the first one's lease (%v)", waited, lease)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	gate.Acquire(t.Context(), "h", 1, 0)
	if _, err := gate.Acquire(ctx, "h", 1, 0); err == nil {
		t.Errorf("acquire on a full host returned before its context ended")
	}
}
