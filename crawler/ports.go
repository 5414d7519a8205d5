package crawler

import (
	"context"
	"errors"
	"time"

	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/site"
)

// The small interfaces the runner consumes: cmd/newsmd adapts the store to
// them, and the tests use in-memory versions. Every time they need is
// passed in, from the runner's clock.

// Key is a story's identity: its canonical URL and, where the site's
// rules give one, a site key such as "zaobao:1214802" (site.Identify).
type Key = site.ID

// ClaimStatus is the answer to a claim.
type ClaimStatus int

// The answers to a claim.
const (
	// Claimed: the story is ours to fetch and write.
	Claimed ClaimStatus = iota
	// Done: written, known from an import, or failed for good.
	Done
	// HeldElsewhere: another live worker is on it.
	HeldElsewhere
	// NotDue: it failed earlier and its retry time has not come.
	NotDue
)

// Claim is a claim's answer, with the failed attempts the story has had.
type Claim struct {
	Status   ClaimStatus
	Attempts int
	// Refetches counts the re-fetches of the story's truncated post done
	// so far, and PostSize is the size in bytes of the post as written
	// (-1 when unknown): for Refetches.ClaimRefetch.
	Refetches int
	PostSize  int64
}

// Claims is how the crawler keeps each story fetched and written once,
// across processes. Claim says whether the story is ours (and, when not,
// why not). Publish writes the post durably and marks the story written;
// Fail ends the claim with a failed attempt, to retry from retryAt unless
// permanent; Release ends it without one (the run is stopping). Renew
// extends the claim's lease while the story is worked on.
//
// A claim outlives its lease until another worker takes the story over.
// When that has happened, Publish, Fail and Release return an error that
// wraps ErrClaimLost, and nothing was written: the story is the other
// worker's now, and losing it stops nothing. Renew returns such an error
// too, and the runner then stops working on the story.
type Claims interface {
	Claim(ctx context.Context, k Key, force bool, now time.Time) (Claim, error)
	Publish(ctx context.Context, k Key, name string, content []byte) (path string, err error)
	Fail(ctx context.Context, k Key, reason string, permanent bool, retryAt time.Time) error
	Release(ctx context.Context, k Key) error
	Renew(ctx context.Context, k Key) error
}

// ErrClaimLost is wrapped by the ports' errors when this worker no longer
// holds what it claimed (a story, a feed): its lease ran out and another
// worker took it over.
var ErrClaimLost = errors.New("claim taken over by another worker after its lease ran out")

// Refetches keeps posts a paywall cut short (converter.Article.Truncated)
// and fetches their pages again later, in case the full text has
// appeared.
//
// PublishTruncated is Claims.Publish for such a post: the story is
// written and due for a re-fetch at refetchAt (the zero time: never).
// DueRefetch lists the stories whose re-fetch time has come at now.
// ClaimRefetch claims one for its re-fetch, as Claims.Claim does for a
// story: Claimed with the re-fetches done and the post's size, Done when no
// re-fetch waits, HeldElsewhere, or NotDue. A re-fetch holds the story's
// claim like any story work, and ends with Claims.Publish (the full text)
// or PublishTruncated (a longer copy, still cut short), which rewrite the
// post in place under its recorded name; with KeepTruncated (nothing
// better: the post stays, the re-fetch is counted and the next is due at
// refetchAt, the zero time for none); or with Claims.Release. Like Claims',
// their errors wrap ErrClaimLost when another worker took the story over.
type Refetches interface {
	PublishTruncated(ctx context.Context, k Key, name string, content []byte, refetchAt time.Time) (path string, err error)
	DueRefetch(ctx context.Context, now time.Time, limit int) ([]Key, error)
	ClaimRefetch(ctx context.Context, k Key, now time.Time) (Claim, error)
	KeepTruncated(ctx context.Context, k Key, refetchAt time.Time) error
}

// Failures remembers stories that failed: NoteFailure records a failure
// of the story with canonical URL url, keeping feedCopy (the feed item, as
// JSON) when not empty, and returns since when the story has been failing
// and the latest feed copy kept.
type Failures interface {
	NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (since time.Time, kept []byte, err error)
}

// Retries lists stories whose earlier attempt failed transiently and whose
// retry time has come.
type Retries interface {
	Due(ctx context.Context, now time.Time, limit int) ([]Key, error)
}

// FeedState is what is kept of a feed between polls, and FeedStates keeps
// it (claimed by one worker at a time): the ports of crawler/feedpoll,
// which polls the feeds.
type (
	FeedState  = feedpoll.State
	FeedStates = feedpoll.States
)
