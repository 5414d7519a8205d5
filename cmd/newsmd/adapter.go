package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// storeAdapter gives the crawler the store as the small interfaces it
// defines, for one worker (owner).
type storeAdapter struct {
	st    *store.Store
	owner string
	lease time.Duration
}

func (a *storeAdapter) id(k crawler.Key) store.Identity {
	return store.Identity{URL: k.URL, SiteKey: k.SiteKey}
}

func (a *storeAdapter) Claim(ctx context.Context, k crawler.Key, force bool, now time.Time) (crawler.Claim, error) {
	claim := a.st.Claim
	if force {
		claim = a.st.ForceClaim
	}
	rec, err := claim(ctx, a.id(k), a.owner, a.lease, now)
	outcome, err := store.ClaimOutcome(err)
	if err != nil {
		return crawler.Claim{}, err
	}
	return crawler.Claim{Status: claimStatus[outcome], Attempts: rec.Attempts}, nil
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
	return lost(a.st.Release(ctx, a.id(k), a.owner))
}

func (a *storeAdapter) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (time.Time, []byte, error) {
	f, err := a.st.NoteFailure(ctx, url, now, feedCopy)
	return f.Since, f.FeedCopy, err
}

func (a *storeAdapter) Publish(ctx context.Context, k crawler.Key, name string, content []byte) (string, error) {
	path, err := a.st.Publish(ctx, a.id(k), a.owner, name, content)
	return path, lost(err)
}

func (a *storeAdapter) Fail(ctx context.Context, k crawler.Key, reason string, permanent bool, retryAt time.Time) error {
	return lost(a.st.MarkFailed(ctx, a.id(k), a.owner, reason, permanent, retryAt))
}

func (a *storeAdapter) PublishTruncated(ctx context.Context, k crawler.Key, name string, content []byte, refetchAt time.Time) (string, error) {
	path, err := a.st.PublishTruncated(ctx, a.id(k), a.owner, name, content, refetchAt)
	return path, lost(err)
}

func (a *storeAdapter) DueRefetch(ctx context.Context, now time.Time, limit int) ([]crawler.Key, error) {
	return keysOf(a.st.DueRefetch(ctx, now, limit))
}

// ClaimRefetch claims a truncated post's re-fetch, with the size of the
// post on disk for the runner to tell a longer copy.
func (a *storeAdapter) ClaimRefetch(ctx context.Context, k crawler.Key, now time.Time) (crawler.Claim, error) {
	rec, err := a.st.ClaimRefetch(ctx, a.id(k), a.owner, a.lease, now)
	if errors.Is(err, store.ErrNotFound) {
		return crawler.Claim{Status: crawler.Done}, nil
	}
	outcome, err := store.ClaimOutcome(err)
	if err != nil {
		return crawler.Claim{}, err
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
	return lost(a.st.KeepTruncated(ctx, a.id(k), a.owner, refetchAt))
}

func (a *storeAdapter) Due(ctx context.Context, now time.Time, limit int) ([]crawler.Key, error) {
	return keysOf(a.st.Due(ctx, now, limit))
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
	ok, err := a.st.ClaimFeed(ctx, feedURL, a.owner, a.lease, now)
	if err != nil || !ok {
		return crawler.FeedState{}, false, err
	}
	st, err := a.st.FeedState(ctx, feedURL)
	if err != nil {
		return crawler.FeedState{}, false, err
	}
	return feedState(st), true, nil
}

func (a *storeAdapter) ReleaseFeed(ctx context.Context, feedURL string, fs crawler.FeedState) error {
	err := a.st.SaveFeedState(ctx, store.FeedState{FeedURL: feedURL, ETag: fs.ETag, LastModified: fs.LastModified,
		LastPoll: fs.LastPoll, NextPoll: fs.NextPoll, Failures: fs.Failures, LastError: fs.LastError})
	return errors.Join(err, lost(a.st.ReleaseFeed(ctx, feedURL, a.owner)))
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
