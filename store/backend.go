package store

import (
	"context"
	"errors"
	"time"
)

// Identity names a story. URL is its canonical URL (the crawler
// canonicalises it); SiteKey is an identity the site gives the story, such
// as "zaobao:1214802", or "" when the site rules give none.
//
// Two identities are the same story when both carry a SiteKey and the keys
// are equal. When either has no SiteKey, they are the same story when their
// URLs are equal. So URL variants that carry one SiteKey are one story, and
// one URL carrying two different SiteKeys is two stories: the SiteKey exists
// because a URL is not always enough to tell stories apart. Titles are never
// identity.
//
// A story keeps every URL it was claimed or imported under, so a URL variant
// once met with the story's SiteKey names the story afterwards without it.
// A SiteKey met later, with a URL of a story recorded without one, becomes
// that story's SiteKey.
type Identity struct {
	URL     string
	SiteKey string
}

// State is where a story stands.
type State string

// The states of a story. A claim (Record.Owner) is held alongside a state,
// not instead of one: a story being fetched for the first time is pending
// and claimed, a story rewritten by backfill --force is written and claimed.
const (
	// StatePending: known, not written yet (a claim may be running).
	StatePending State = "pending"
	// StateFailed: the last attempt failed transiently; claimable again
	// from Record.RetryAt.
	StateFailed State = "failed"
	// StatePermanent: the page is gone (404, 410); only a forced claim
	// takes it again.
	StatePermanent State = "permanent"
	// StateWritten: its post is in the archive at Record.Path.
	StateWritten State = "written"
	// StateKnown: imported from an existing archive; never fetched again.
	StateKnown State = "known"
)

// Record is a story as the store holds it.
type Record struct {
	// ID is the identity the story was first recorded with; a SiteKey
	// learnt later is filled in.
	ID    Identity
	State State
	// Owner holds the claim until LeaseUntil; "" when unclaimed.
	Owner      string
	LeaseUntil time.Time
	// Token is the claim's generation, the fencing token: every claim
	// (Claim, ForceClaim, ClaimRefetch) takes the next one, even by the
	// same owner, so a holder whose lease ran out and was taken over
	// cannot publish over the new holder's post (Store.Publish, Renew).
	Token int64
	// Attempts counts failed attempts (MarkFailed calls).
	Attempts  int
	LastError string
	RetryAt   time.Time
	// Path is the post's file name relative to the archive folder, set
	// by ReservePath or MarkKnown; "" until then.
	Path string
	// SHA256 is the hex digest of the post as last written.
	SHA256 string
	// Truncated: the post as last written was cut short by a paywall
	// (MarkTruncated).
	Truncated bool
	// RefetchAt is when the truncated post's page is due to be fetched
	// again, in case the full text has appeared; the zero time when it is
	// not (the post is whole, or its re-fetches are used up).
	RefetchAt time.Time
	// Refetches counts the re-fetches of the truncated post done so far:
	// each KeepTruncated, and each MarkWritten or MarkTruncated of a story
	// whose post was truncated.
	Refetches int
}

// FeedState is what is remembered about a feed between polls.
type FeedState struct {
	FeedURL      string
	ETag         string
	LastModified string
	LastPoll     time.Time
	NextPoll     time.Time
	// Failures counts polls that failed in a row.
	Failures  int
	LastError string
	// Owner holds the feed's lease, "" when nobody does. It is read by
	// FeedState and ignored by SaveFeedState: leases change only through
	// ClaimFeed and ReleaseFeed.
	Owner string
	// Token is the generation of the feed's lease: each ClaimFeed that
	// wins takes the next one. ReleaseFeedState must show it.
	Token int64
}

// Failure is what the store keeps of a story that failed: since when it has
// been failing, and the feed's own copy of it, if its feed carried one.
type Failure struct {
	Since    time.Time
	FeedCopy []byte
}

// Stats counts stories by state, for metrics.
type Stats struct {
	Pending, Failed, Permanent, Written, Known int
	// Claimed counts stories holding a claim, live or expired.
	Claimed int
	Feeds   int
}

// Errors of Backend methods, checked with errors.Is.
var (
	// ErrWritten: the story is written (or known from an import).
	ErrWritten = errors.New("story already written")
	// ErrClaimed: another owner holds an unexpired claim.
	ErrClaimed = errors.New("story claimed by another owner")
	// ErrPermanent: the story failed permanently.
	ErrPermanent = errors.New("story failed permanently")
	// ErrNotDue: the story failed transiently and its retry time has not come.
	ErrNotDue = errors.New("story not due for retry")
	// ErrNotOwner: the caller does not hold the claim (it expired and was
	// taken over, or was never held).
	ErrNotOwner = errors.New("claim not held by this owner")
	// ErrNotFound: the store has no such story.
	ErrNotFound = errors.New("story not found")
	// ErrPathTaken: another story holds the path.
	ErrPathTaken = errors.New("path held by another story")
	// ErrNoRefetch: the story has no re-fetch waiting (its post is whole,
	// or its re-fetches are used up, or it is not written).
	ErrNoRefetch = errors.New("story has no re-fetch waiting")
)

// Backend keeps the state of stories and feeds. It is safe for concurrent
// use by goroutines, and by processes sharing the same store: every method
// is atomic, so of several workers claiming one story exactly one wins.
//
// Fetching and writing a story goes: Claim, then ReservePath, writing the
// file, MarkWritten; or MarkFailed, or Release. Each step after Claim needs
// the claim: it returns ErrNotOwner when owner does not hold it. Owners are
// strings unique to one worker of one process. Times are kept to the
// microsecond. now is the time a claim, lease or due time is decided at:
// the zero time means the store's own clock (the database server's
// now()), which workers pass so that a worker whose clock is wrong can
// neither take live leases nor keep them; tests pass times of their own.
type Backend interface {
	// Lookup returns the story id names, and false when there is none.
	Lookup(ctx context.Context, id Identity) (Record, bool, error)

	// Claim records that owner works on the story until now+lease,
	// creating the story when it is new, and returns it. It returns
	// ErrWritten when the story is written or known, ErrPermanent when it
	// failed permanently, ErrNotDue when it failed transiently and
	// RetryAt is after now, and ErrClaimed when another owner's lease
	// runs past now; with those errors the Record is the story as stored.
	// Claiming a story one already holds renews the lease.
	Claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error)
	// ForceClaim is Claim for backfill --force: it claims written, known,
	// permanently and transiently failed stories too. It still returns
	// ErrClaimed when another owner holds the story.
	ForceClaim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error)
	// Release gives up owner's claim and leaves the state as it was.
	Release(ctx context.Context, id Identity, owner string) error
	// MarkFailed ends owner's claim with a failure and counts the attempt.
	// A transient failure makes the story claimable again (and Due) from
	// retryAt; a permanent one (404, 410) only by ForceClaim. A written or
	// known story (a forced rewrite that failed) stays as it was, keeping
	// its post, with the reason recorded.
	MarkFailed(ctx context.Context, id Identity, owner, reason string, permanent bool, retryAt time.Time) error
	// ReservePath picks the story's post file name, relative to the
	// archive folder: wantName, unless another story holds it; then
	// wantName with a suffix from the SiteKey, or from a short hash of the
	// URL, before ".md". Once reserved, the story keeps its name: a second
	// call returns the same path whatever wantName is, so a crash between
	// reserving and writing never leads to a second file, and a forced
	// rewrite lands in place. wantName must be a local path
	// (filepath.IsLocal).
	ReservePath(ctx context.Context, id Identity, owner, wantName string) (string, error)
	// MarkWritten ends owner's claim: the post is in the archive at path
	// with the given hex SHA-256. Call it only once the file is durable.
	MarkWritten(ctx context.Context, id Identity, owner, path, sha256 string) error
	// MarkTruncated is MarkWritten for a post a paywall cut short: the
	// story is written, marked truncated, and due for a re-fetch at
	// refetchAt (the zero time: never). Writing again a story whose post
	// was truncated (a re-fetch that found a longer copy) counts a
	// re-fetch; MarkWritten of such a story (the full text at last) counts
	// one too, and ends its re-fetches.
	MarkTruncated(ctx context.Context, id Identity, owner, path, sha256 string, refetchAt time.Time) error
	// ClaimRefetch is Claim for the re-fetch of a truncated post: owner
	// holds the story until now+lease, its post and state kept. It returns
	// ErrNotFound for a story not stored, ErrNoRefetch when no re-fetch is
	// waiting (see Record.RefetchAt), ErrNotDue when RefetchAt is after
	// now, and ErrClaimed when another owner's lease runs past now; with
	// those errors the Record is the story as stored. The re-fetch ends
	// with MarkWritten or MarkTruncated (the post rewritten in place: the
	// story keeps its path), KeepTruncated, or Release.
	ClaimRefetch(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error)
	// KeepTruncated ends owner's re-fetch of a truncated post that found
	// no better copy: the post stays as it is, the re-fetch is counted,
	// and the next is due at refetchAt (the zero time: never). It returns
	// ErrNoRefetch when the story is not written with a truncated post.
	KeepTruncated(ctx context.Context, id Identity, owner string, refetchAt time.Time) error
	// DueRefetch returns up to limit written stories whose truncated post
	// is due for a re-fetch at now and that nobody holds (or whose lease
	// has ended), longest waiting first.
	DueRefetch(ctx context.Context, now time.Time, limit int) ([]Record, error)
	// MarkKnown records a story found in an existing archive at path, so
	// that it is never fetched again. A story already written or known
	// keeps its path. It returns ErrPathTaken when another story holds
	// path. Import runs before feeds are polled: it does not wait for
	// claims.
	MarkKnown(ctx context.Context, id Identity, path string) error
	// NoteFailure records that the story with canonical URL url failed at
	// now, keeping feedCopy (the story as its feed carried it) when it is
	// not empty, and returns what is kept: Since is the time of the first
	// failure noted, FeedCopy the latest copy given.
	NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (Failure, error)
	// Due returns up to limit unfinished stories that can be claimed at
	// now, oldest first: pending ones nobody holds (released, or whose
	// claimant died and whose lease expired) and transient failures whose
	// RetryAt has passed. Later runs retry them, so a story is not lost
	// when it drops off its feed.
	Due(ctx context.Context, now time.Time, limit int) ([]Record, error)

	// FeedState returns what is known of feedURL: the zero FeedState with
	// FeedURL set when nothing is.
	FeedState(ctx context.Context, feedURL string) (FeedState, error)
	// SaveFeedState stores st, replacing what was known of st.FeedURL.
	SaveFeedState(ctx context.Context, st FeedState) error
	// ClaimFeed reports whether owner may poll feedURL until now+lease:
	// true unless another owner's feed lease runs past now. Claiming a
	// feed one holds renews the lease.
	ClaimFeed(ctx context.Context, feedURL, owner string, lease time.Duration, now time.Time) (bool, error)
	// ReleaseFeed gives up owner's feed lease; ErrNotOwner when owner
	// does not hold it.
	ReleaseFeed(ctx context.Context, feedURL, owner string) error

	// Stats counts stories by state and the feeds known.
	Stats(ctx context.Context) (Stats, error)
	// Ping reports whether the store answers, for /readyz.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// row is a stored story with its row id, as the backends read it.
type row struct {
	id int64
	Record
}
