package storetest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// testFencedPublish: every claim takes a new fencing token, even the
// holder's own claim again, and Publish under a stale token is refused
// and leaves the archive as it was.
func testFencedPublish(t *testing.T, b store.Backend) {
	ctx := t.Context()
	s := store.New(b, t.TempDir())
	id := story(1)
	first := mustClaim(t, b, id, "a", t0)
	// a's lease runs out and b takes the story over.
	second := mustClaim(t, b, id, "b", t0.Add(lease))
	if second.Token <= first.Token {
		t.Fatalf("takeover token: got %d after %d, want a greater one", second.Token, first.Token)
	}
	path, err := s.Publish(ctx, id, "b", second.Token, "post.md", []byte("b's post\n"))
	check(t, "Publish by b", err)
	if _, err := s.Publish(ctx, id, "a", first.Token, "post.md", []byte("a's post\n")); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("Publish by a after the takeover: got %v, want ErrNotOwner", err)
	}

	// The same owner claiming again (a story met twice) fences its
	// earlier claim too.
	other := story(2)
	old := mustClaim(t, b, other, "a", t0)
	renewedClaim := mustClaim(t, b, other, "a", t0.Add(time.Second))
	if _, err := s.Publish(ctx, other, "a", old.Token, "other.md", []byte("stale\n")); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("Publish under the owner's stale token: got %v, want ErrNotOwner", err)
	}
	otherPath, err := s.Publish(ctx, other, "a", renewedClaim.Token, "other.md", []byte("current\n"))
	check(t, "Publish under the current token", err)

	for p, want := range map[string]string{path: "b's post\n", otherPath: "current\n"} {
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", filepath.Base(p), got, err, want)
		}
	}
	var names []string
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if e.Name() != store.TempFolder {
			names = append(names, e.Name())
		}
	}
	temps, _ := os.ReadDir(filepath.Join(s.Dir(), store.TempFolder))
	for _, e := range temps {
		names = append(names, filepath.Join(store.TempFolder, e.Name()))
	}
	if len(names) != 2 {
		t.Errorf("archive: got %q, want the two posts and no temporary file", names)
	}
}

// testRenew: the holder extends its lease under its token; after a
// takeover, or under a stale token, Renew is refused.
func testRenew(t *testing.T, b store.Backend) {
	ctx := t.Context()
	s := store.New(b, t.TempDir())
	id := story(1)
	c := mustClaim(t, b, id, "a", t0)
	rec, err := s.Renew(ctx, id, "a", c.Token, lease, t0.Add(lease/2))
	check(t, "Renew", err)
	if want := t0.Add(lease / 2).Add(lease); !rec.LeaseUntil.Equal(want) || rec.Token != c.Token {
		t.Errorf("renewed: got until %v token %d, want %v %d", rec.LeaseUntil, rec.Token, want, c.Token)
	}
	// The renewal holds the story past the first lease.
	if _, err := b.Claim(ctx, id, "b", lease, t0.Add(lease)); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("claim within the renewed lease: got %v, want ErrClaimed", err)
	}
	taken := mustClaim(t, b, id, "b", t0.Add(2*lease))
	if _, err := s.Renew(ctx, id, "a", c.Token, lease, t0.Add(2*lease)); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("Renew after the takeover: got %v, want ErrNotOwner", err)
	}
	if _, err := s.Renew(ctx, id, "b", taken.Token-1, lease, t0.Add(2*lease)); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("Renew under a stale token: got %v, want ErrNotOwner", err)
	}
}

// testFeedFence: a feed's state is saved only under its lease's current
// token: a poller whose lease ran out and was taken over changes nothing.
func testFeedFence(t *testing.T, b store.Backend) {
	ctx := t.Context()
	s := store.New(b, t.TempDir())
	const feed = "https://rsshub.example/zaobao/realtime/china"
	if ok, err := b.ClaimFeed(ctx, feed, "a", lease, t0); !ok || err != nil {
		t.Fatalf("ClaimFeed by a: %v, %v", ok, err)
	}
	stA, err := b.FeedState(ctx, feed)
	check(t, "FeedState", err)
	if ok, err := b.ClaimFeed(ctx, feed, "b", lease, t0.Add(lease)); !ok || err != nil {
		t.Fatalf("ClaimFeed by b after a's lease: %v, %v", ok, err)
	}
	stB, err := b.FeedState(ctx, feed)
	check(t, "FeedState", err)
	if stB.Token <= stA.Token {
		t.Fatalf("feed token: got %d after %d, want a greater one", stB.Token, stA.Token)
	}
	stale := store.FeedState{FeedURL: feed, ETag: `"a"`, NextPoll: t0.Add(time.Hour)}
	if err := s.ReleaseFeedState(ctx, stale, "a", stA.Token); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("ReleaseFeedState by the stale poller: got %v, want ErrNotOwner", err)
	}
	current := store.FeedState{FeedURL: feed, ETag: `"b"`, LastPoll: t0.Add(lease), NextPoll: t0.Add(lease + time.Minute)}
	check(t, "ReleaseFeedState by b", s.ReleaseFeedState(ctx, current, "b", stB.Token))
	got, err := b.FeedState(ctx, feed)
	check(t, "FeedState", err)
	if got.ETag != `"b"` || !got.NextPoll.Equal(current.NextPoll) || got.Owner != "" {
		t.Errorf("after the releases: got %+v, want b's state, unheld", got)
	}
	if err := s.ReleaseFeedState(ctx, current, "b", stB.Token); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("ReleaseFeedState twice: got %v, want ErrNotOwner", err)
	}
}

// testStoreClock: with the zero time, leases are decided by the store's
// clock. A worker whose clock is 11 minutes ahead takes no live claim or
// feed lease when it lets the store decide, as workers do; deciding by its
// own clock, it would.
func testStoreClock(t *testing.T, b store.Backend) {
	ctx := t.Context()
	const tenMinutes = 10 * time.Minute
	ahead := time.Now().Add(11 * time.Minute)
	id := story(1)
	before := time.Now()
	rec, err := b.Claim(ctx, id, "a", tenMinutes, time.Time{})
	check(t, "Claim on the store's clock", err)
	// The store's clock and this machine's agree to within seconds (the
	// test's database runs here); the lease is counted from the store's.
	if rec.LeaseUntil.Before(before.Add(tenMinutes-5*time.Second)) || rec.LeaseUntil.After(time.Now().Add(tenMinutes+5*time.Second)) {
		t.Errorf("lease until %v: want about ten minutes from %v", rec.LeaseUntil, before)
	}
	if _, err := b.Claim(ctx, id, "ahead", tenMinutes, time.Time{}); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("claim by the worker ahead, on the store's clock: got %v, want ErrClaimed", err)
	}
	if due, err := b.Due(ctx, time.Time{}, 10); err != nil || len(due) != 0 {
		t.Errorf("Due on the store's clock: got %d stories, %v; want none (a's claim is live)", len(due), err)
	}
	// The control: decided by the worker's own clock, the claim is taken.
	if _, err := b.Claim(ctx, id, "ahead", tenMinutes, ahead); err != nil {
		t.Errorf("claim decided at the worker's clock: got %v, want it taken (the test's control)", err)
	}

	const feed = "https://rsshub.example/zaobao/realtime/world"
	if ok, err := b.ClaimFeed(ctx, feed, "a", tenMinutes, time.Time{}); !ok || err != nil {
		t.Fatalf("ClaimFeed by a: %v, %v", ok, err)
	}
	if ok, err := b.ClaimFeed(ctx, feed, "ahead", tenMinutes, time.Time{}); ok || err != nil {
		t.Errorf("ClaimFeed by the worker ahead, on the store's clock: got %v, %v; want false", ok, err)
	}
	if ok, err := b.ClaimFeed(ctx, feed, "ahead", tenMinutes, ahead); !ok || err != nil {
		t.Errorf("ClaimFeed decided at the worker's clock: got %v, %v; want true (the test's control)", ok, err)
	}
}
