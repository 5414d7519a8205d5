package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// testAdapter is the adapter of a worker whose leases are decided at the
// times the test gives, not the store's clock.
func testAdapter(st *store.Store, owner string, lease time.Duration) *storeAdapter {
	a := newStoreAdapter(st, owner, lease)
	a.at = func(now time.Time) time.Time { return now }
	return a
}

// TestAdapterClaimLost: on a real SQLite store, a worker whose story and
// feed leases ran out and were taken over by another worker gets the
// crawler's ErrClaimLost from Publish, Fail, Release and ReleaseFeed, and
// writes no file.
func TestAdapterClaimLost(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := store.New(db, dir)
	const lease = time.Minute
	a := testAdapter(st, "host-a/1@x", lease)
	b := testAdapter(st, "host-b/2@x", lease)
	k := crawler.Key{URL: "https://example.com/news/1"}
	now := time.Now()

	if c, err := a.Claim(t.Context(), k, false, now); err != nil || c.Status != crawler.Claimed {
		t.Fatalf("a's claim: %v, %v", c, err)
	}
	if c, err := b.Claim(t.Context(), k, false, now.Add(lease/2)); err != nil || c.Status != crawler.HeldElsewhere {
		t.Fatalf("b's claim within a's lease: %v, %v; want held elsewhere", c, err)
	}
	if c, err := b.Claim(t.Context(), k, false, now.Add(2*lease)); err != nil || c.Status != crawler.Claimed {
		t.Fatalf("b's claim after a's lease: %v, %v", c, err)
	}
	if _, err := a.Publish(t.Context(), k, "2024-03-01-a.md", []byte("a's copy\n")); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's publish after the takeover: %v; want ErrClaimLost", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2024-03-01-a.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a's post is on disk after its claim was lost: %v", err)
	}
	if err := a.Fail(t.Context(), k, "http_503", false, now.Add(3*lease)); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's fail after the takeover: %v; want ErrClaimLost", err)
	}
	if err := a.Release(t.Context(), k); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's release after the takeover: %v; want ErrClaimLost", err)
	}
	if _, err := b.Publish(t.Context(), k, "2024-03-01-b.md", []byte("b's copy\n")); err != nil {
		t.Errorf("b's publish: %v", err)
	}

	const feed = "https://example.com/rss"
	if _, ok, err := a.ClaimFeed(t.Context(), feed, now); err != nil || !ok {
		t.Fatalf("a's feed claim: %v, %v", ok, err)
	}
	if _, ok, err := b.ClaimFeed(t.Context(), feed, now.Add(2*lease)); err != nil || !ok {
		t.Fatalf("b's feed claim after a's lease: %v, %v", ok, err)
	}
	if err := a.ReleaseFeed(t.Context(), feed, crawler.FeedState{}); !errors.Is(err, crawler.ErrClaimLost) {
		t.Errorf("a's feed release after the takeover: %v; want ErrClaimLost", err)
	}
	if err := b.ReleaseFeed(t.Context(), feed, crawler.FeedState{}); err != nil {
		t.Errorf("b's feed release: %v", err)
	}
}
