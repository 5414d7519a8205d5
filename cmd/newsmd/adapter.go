package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// storeAdapter gives the crawler the store as the small interfaces it
// defines, for one worker (owner).
//
// Every lease is decided on the store's clock (the zero time is passed
// for now), not this worker's: a worker whose clock is off takes no live
// claim or feed. The fencing token of each claim this worker holds is
// kept by key, and shown when publishing, renewing and saving a feed's
// state. A key claimed again (by another of this worker's goroutines)
// gets a new token, which fences the earlier claim.
type storeAdapter struct {
	st    *store.Store
	owner string
	lease time.Duration

	// at is the time a lease is decided at, given the worker's now:
	// the zero time, the store's clock; tests that play with leases
	// decide at the now they give.
	at func(now time.Time) time.Time

	mu     sync.Mutex
	tokens map[store.Identity]int64 // stories held
	feeds  map[string]int64         // feed leases held
}

func newStoreAdapter(st *store.Store, owner string, lease time.Duration) *storeAdapter {
	return &storeAdapter{st: st, owner: owner, lease: lease, at: storeClock,
		tokens: map[store.Identity]int64{}, feeds: map[string]int64{}}
}

// storeClock leaves the decision to the store's clock.
func storeClock(time.Time) time.Time { return time.Time{} }

// hold records the token of a story claimed; held returns it while the
// claim lasts.
func (a *storeAdapter) hold(id store.Identity, token int64) {
	a.mu.Lock()
	a.tokens[id] = token
	a.mu.Unlock()
}

func (a *storeAdapter) held(id store.Identity) (int64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[id]
	return t, ok
}

// done forgets a story's token once its claim has ended: err is nil, or
// says the claim was lost. A store error keeps it, for the step's retry.
func (a *storeAdapter) done(id store.Identity, err error) {
	if err == nil || errors.Is(err, store.ErrNotOwner) {
		a.mu.Lock()
		delete(a.tokens, id)
		a.mu.Unlock()
	}
}

func (a *storeAdapter) id(k crawler.Key) store.Identity {
	return store.Identity{URL: k.URL, SiteKey: k.SiteKey}
}

func (a *storeAdapter) Claim(ctx context.Context, k crawler.Key, force bool, now time.Time) (crawler.Claim, error) {
	claim := a.st.Claim
	if force {
		claim = a.st.ForceClaim
	}
	rec, err := claim(ctx, a.id(k), a.owner, a.lease, a.at(now))
	outcome, err := store.ClaimOutcome(err)
	if err != nil {
		return crawler.Claim{}, err
	}
	if outcome == store.Claimed {
		a.hold(a.id(k), rec.Token)
	}
	return crawler.Claim{Status: claimStatus[outcome], Attempts: rec.Attempts}, nil
}

// Renew extends the lease of a story this worker holds.
func (a *storeAdapter) Renew(ctx context.Context, k crawler.Key) error {
	token, ok := a.held(a.id(k))
	if !ok {
		return fmt.Errorf("renew %s: %w", k.URL, crawler.ErrClaimLost)
	}
	_, err := a.st.Renew(ctx, a.id(k), a.owner, token, a.lease, a.at(time.Now()))
	return lost(err)
}

// claimStatus maps the store's outcomes of a claim to the runner's.
var claimStatus = map[store.Outcome]crawler.ClaimStatus{
	store.Claimed:       crawler.Claimed,
	store.Settled:       crawler.Done,
	store.HeldElsewhere: crawler.HeldElsewhere,
	store.NotDue:        crawler.NotDue,
}

// lost maps the store's "not the owner" to the crawler's lost claim.
func lost(err error) error {
	if errors.Is(err, store.ErrNotOwner) {
		return fmt.Errorf("%w: %w", crawler.ErrClaimLost, err)
	}
	return err
}

func (a *storeAdapter) Release(ctx context.Context, k crawler.Key) error {
	err := a.st.Release(ctx, a.id(k), a.owner)
	a.done(a.id(k), err)
	return lost(err)
}

func (a *storeAdapter) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (time.Time, []byte, error) {
	f, err := a.st.NoteFailure(ctx, url, now, feedCopy)
	return f.Since, f.FeedCopy, err
}

func (a *storeAdapter) Publish(ctx context.Context, k crawler.Key, name string, content []byte) (string, error) {
	token, _ := a.held(a.id(k)) // none: 0, which no claim has
	path, err := a.st.Publish(ctx, a.id(k), a.owner, token, name, content)
	a.done(a.id(k), err)
	return path, lost(err)
}

func (a *storeAdapter) Fail(ctx context.Context, k crawler.Key, reason string, permanent bool, retryAt time.Time) error {
	err := a.st.MarkFailed(ctx, a.id(k), a.owner, reason, permanent, retryAt)
	a.done(a.id(k), err)
	return lost(err)
}

func (a *storeAdapter) PublishTruncated(ctx context.Context, k crawler.Key, name string, content []byte, refetchAt time.Time) (string, error) {
	token, _ := a.held(a.id(k))
	path, err := a.st.PublishTruncated(ctx, a.id(k), a.owner, token, name, content, refetchAt)
	a.done(a.id(k), err)
	return path, lost(err)
}

func (a *storeAdapter) DueRefetch(ctx context.Context, now time.Time, limit int) ([]crawler.Key, error) {
	return keysOf(a.st.DueRefetch(ctx, a.at(now), limit))
}

// ClaimRefetch claims a truncated post's re-fetch, with the size of the
// post on disk for the runner to tell a longer copy.
func (a *storeAdapter) ClaimRefetch(ctx context.Context, k crawler.Key, now time.Time) (crawler.Claim, error) {
	rec, err := a.st.ClaimRefetch(ctx, a.id(k), a.owner, a.lease, a.at(now))
	if errors.Is(err, store.ErrNotFound) {
		return crawler.Claim{Status: crawler.Done}, nil
	}
	outcome, err := store.ClaimOutcome(err)
	if err != nil {
		return crawler.Claim{}, err
	}
	if outcome == store.Claimed {
		a.hold(a.id(k), rec.Token)
	}
	c := crawler.Claim{Status: claimStatus[outcome], Attempts: rec.Attempts, Refetches: rec.Refetches, PostSize: -1}
	if outcome == store.Claimed && rec.Path != "" {
		if fi, err := os.Stat(filepath.Join(a.st.Dir(), rec.Path)); err == nil {
			c.PostSize = fi.Size()
		}
	}
	return c, nil
}

func (a *storeAdapter) KeepTruncated(ctx context.Context, k crawler.Key, refetchAt time.Time) error {
	err := a.st.KeepTruncated(ctx, a.id(k), a.owner, refetchAt)
	a.done(a.id(k), err)
	return lost(err)
}

func (a *storeAdapter) Due(ctx context.Context, now time.Time, limit int) ([]crawler.Key, error) {
	return keysOf(a.st.Due(ctx, a.at(now), limit))
}

func (a *storeAdapter) PeekFeed(ctx context.Context, feedURL string) (crawler.FeedState, error) {
	st, err := a.st.FeedState(ctx, feedURL)
	return feedState(st), err
}

func feedState(st store.FeedState) crawler.FeedState {
	return crawler.FeedState{ETag: st.ETag, LastModified: st.LastModified, LastPoll: st.LastPoll, NextPoll: st.NextPoll,
		Failures: st.Failures, LastError: st.LastError}
}

func (a *storeAdapter) ClaimFeed(ctx context.Context, feedURL string, now time.Time) (crawler.FeedState, bool, error) {
	ok, err := a.st.ClaimFeed(ctx, feedURL, a.owner, a.lease, a.at(now))
	if err != nil || !ok {
		return crawler.FeedState{}, false, err
	}
	st, err := a.st.FeedState(ctx, feedURL)
	if err != nil {
		return crawler.FeedState{}, false, err
	}
	a.mu.Lock()
	a.feeds[feedURL] = st.Token
	a.mu.Unlock()
	return feedState(st), true, nil
}

func (a *storeAdapter) ReleaseFeed(ctx context.Context, feedURL string, fs crawler.FeedState) error {
	a.mu.Lock()
	token := a.feeds[feedURL]
	a.mu.Unlock()
	// Saved only while this worker's lease is the feed's current one: a
	// poller that was taken over leaves the new poller's state alone.
	err := a.st.ReleaseFeedState(ctx, store.FeedState{FeedURL: feedURL, ETag: fs.ETag, LastModified: fs.LastModified,
		LastPoll: fs.LastPoll, NextPoll: fs.NextPoll, Failures: fs.Failures, LastError: fs.LastError}, a.owner, token)
	if err == nil || errors.Is(err, store.ErrNotOwner) {
		a.mu.Lock()
		delete(a.feeds, feedURL)
		a.mu.Unlock()
	}
	return lost(err)
}

// keysOf maps the records of a store listing to the runner's keys.
func keysOf(recs []store.Record, err error) ([]crawler.Key, error) {
	if err != nil {
		return nil, err
	}
	keys := make([]crawler.Key, len(recs))
	for i, r := range recs {
		keys[i] = crawler.Key{URL: r.ID.URL, SiteKey: r.ID.SiteKey}
	}
	return keys, nil
}
