package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// TestClockAheadTakesNoLease: two workers on one real store (SQLite, and
// PostgreSQL when it answers), each with the adapter workers run with. The
// second's clock is 11 minutes ahead, past the 10-minute lease: it takes
// neither the first worker's live story claim nor its feed lease, and
// Due does not offer it the story, because the store decides by its own
// clock.
func TestClockAheadTakesNoLease(t *testing.T) {
	backends := map[string]func(t *testing.T) store.Backend{
		"sqlite": func(t *testing.T) store.Backend {
			db, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		"postgres": func(t *testing.T) store.Backend {
			db, err := store.OpenPostgres(t.Context(), pgSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			defer db.Close()
			st := store.New(db, t.TempDir())
			const lease = 10 * time.Minute
			a := newStoreAdapter(st, store.NewOwner(), lease)
			ahead := newStoreAdapter(st, store.NewOwner(), lease)
			aheadNow := time.Now().Add(11 * time.Minute)
			k := crawler.Key{URL: "https://www.zaobao.com/realtime/world/story20240301-1", SiteKey: "zaobao:1"}

			if c, err := a.Claim(t.Context(), k, false, time.Now()); err != nil || c.Status != crawler.Claimed {
				t.Fatalf("a's claim: %+v, %v", c, err)
			}
			if c, err := ahead.Claim(t.Context(), k, false, aheadNow); err != nil || c.Status != crawler.HeldElsewhere {
				t.Errorf("claim by the worker 11 minutes ahead: got %+v, %v; want held elsewhere", c, err)
			}
			if due, err := ahead.Due(t.Context(), aheadNow, 10); err != nil || len(due) != 0 {
				t.Errorf("Due for the worker ahead: got %v, %v; want none", due, err)
			}
			const feed = "https://rsshub.example/zaobao/realtime/world"
			if _, ok, err := a.ClaimFeed(t.Context(), feed, time.Now()); err != nil || !ok {
				t.Fatalf("a's feed claim: %v, %v", ok, err)
			}
			if _, ok, err := ahead.ClaimFeed(t.Context(), feed, aheadNow); err != nil || ok {
				t.Errorf("feed claim by the worker ahead: got %v, %v; want false", ok, err)
			}
			// a's lease is still its own: it publishes and saves its feed.
			if _, err := a.Publish(t.Context(), k, "2024-03-01-a.md", []byte("a\n")); err != nil {
				t.Errorf("a's publish: %v", err)
			}
			if err := a.ReleaseFeed(t.Context(), feed, crawler.FeedState{ETag: `"a"`}); err != nil {
				t.Errorf("a's feed release: %v", err)
			}
		})
	}
}
