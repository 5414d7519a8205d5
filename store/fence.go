package store

import (
	"context"
	"fmt"
	"time"
)

// fencedBackend is what both backends offer for the steps a stale holder
// must not take: commitPost is MarkWritten (or MarkTruncated: rule) that
// runs commit, the rename of the post into place, inside the transaction
// that checks the claim's fencing token, holding the story's lock (the
// SQLite write lock, the PostgreSQL row lock) until the story is marked;
// renew extends a claim held under token; releaseFeedState saves a feed's
// state and ends its lease, only under the lease's token.
type fencedBackend interface {
	commitPost(ctx context.Context, id Identity, owner string, token int64, path string, rule func(Record) Record, commit func() error) error
	renew(ctx context.Context, id Identity, owner string, token int64, lease time.Duration, now time.Time) (Record, error)
	releaseFeedState(ctx context.Context, st FeedState, owner string, token int64) error
}

// fence is the check a backend's markWritten makes before it marks a
// story written: the claim's token, then the commit. A nil fence checks
// nothing (MarkWritten).
type fence struct {
	token  int64
	commit func() error
}

func (f *fence) check(r Record) error {
	if f == nil {
		return nil
	}
	if err := fenceRefusal(r.Owner, r.Token, r.Owner, f.token); err != nil {
		return err
	}
	return f.commit()
}

func (s *Store) fenced() (fencedBackend, error) {
	fb, ok := s.Backend.(fencedBackend)
	if !ok {
		return nil, fmt.Errorf("backend %T has no fencing tokens", s.Backend)
	}
	return fb, nil
}

// Renew extends owner's claim of the story, held under token (the
// Record.Token its claim returned), to now+lease; the zero now is the
// store's clock. It returns ErrNotOwner when the claim was taken over
// since, even by owner.
func (s *Store) Renew(ctx context.Context, id Identity, owner string, token int64, lease time.Duration, now time.Time) (Record, error) {
	fb, err := s.fenced()
	if err != nil {
		return Record{}, err
	}
	return fb.renew(ctx, id, owner, token, lease, now)
}

// ReleaseFeedState saves st and ends owner's lease of st.FeedURL, held
// under token (the FeedState.Token read after ClaimFeed), in one step: a
// poller whose lease ran out and was taken over gets ErrNotOwner and
// changes nothing, so the current poller's state stands.
func (s *Store) ReleaseFeedState(ctx context.Context, st FeedState, owner string, token int64) error {
	fb, err := s.fenced()
	if err != nil {
		return err
	}
	return fb.releaseFeedState(ctx, st, owner, token)
}
