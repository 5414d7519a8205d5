package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FeedState implements Backend.
func (p *Postgres) FeedState(ctx context.Context, feedURL string) (FeedState, error) {
	st := FeedState{FeedURL: feedURL}
	var last, next *time.Time
	var owner string
	err := p.pool.QueryRow(ctx, `SELECT etag, last_modified, last_poll, next_poll, failures, last_error,
		CASE WHEN lease_until IS NULL THEN '' ELSE owner END, lease_gen
		FROM feeds WHERE url = $1`, feedURL).Scan(&st.ETag, &st.LastModified, &last, &next, &st.Failures, &st.LastError, &owner, &st.Token)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return FeedState{}, fmt.Errorf("feed state %s: %w", feedURL, err)
	}
	st.LastPoll, st.NextPoll = fromPg(last), fromPg(next)
	st.Owner = owner
	return st, nil
}

// SaveFeedState implements Backend.
func (p *Postgres) SaveFeedState(ctx context.Context, st FeedState) error {
	if st.FeedURL == "" {
		return errors.New("save feed state: empty feed URL")
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO feeds (url, etag, last_modified, last_poll, next_poll, failures, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
			last_poll = excluded.last_poll, next_poll = excluded.next_poll,
			failures = excluded.failures, last_error = excluded.last_error`,
		st.FeedURL, st.ETag, st.LastModified, pgTime(st.LastPoll), pgTime(st.NextPoll), st.Failures, st.LastError)
	if err != nil {
		return fmt.Errorf("save feed state %s: %w", st.FeedURL, err)
	}
	return nil
}

// ClaimFeed implements Backend.
func (p *Postgres) ClaimFeed(ctx context.Context, feedURL, owner string, lease time.Duration, now time.Time) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("claim feed %s: empty owner", feedURL)
	}
	var won bool
	err := p.write(ctx, func(tx pgx.Tx) error {
		won = false
		// The feed's row, created unheld when new, serialises the owners
		// claiming it: each reads the lease as the previous one left it.
		if _, err := tx.Exec(ctx, `INSERT INTO feeds (url) VALUES ($1) ON CONFLICT (url) DO NOTHING`, feedURL); err != nil {
			return err
		}
		var holder string
		var until *time.Time
		var gen int64
		if err := tx.QueryRow(ctx, `SELECT owner, lease_until, lease_gen FROM feeds WHERE url = $1 FOR UPDATE`, feedURL).Scan(&holder, &until, &gen); err != nil {
			return err
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		var leaseUntil time.Time
		if leaseUntil, gen, won = feedClaimed(holder, fromPg(until), gen, owner, lease, at); !won {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE feeds SET owner = $2, lease_until = $3, lease_gen = $4 WHERE url = $1`, feedURL, owner, pgTime(leaseUntil), gen)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim feed %s: %w", feedURL, err)
	}
	return won, nil
}

// ReleaseFeed implements Backend.
func (p *Postgres) ReleaseFeed(ctx context.Context, feedURL, owner string) error {
	err := p.write(ctx, func(tx pgx.Tx) error {
		var holder string
		err := tx.QueryRow(ctx, `SELECT owner FROM feeds WHERE url = $1 FOR UPDATE`, feedURL).Scan(&holder)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := holdRefusal(holder, owner); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE feeds SET owner = '', lease_until = NULL WHERE url = $1`, feedURL)
		return err
	})
	if err != nil {
		return fmt.Errorf("release feed %s: %w", feedURL, err)
	}
	return nil
}

// releaseFeedState implements fencedBackend.
func (p *Postgres) releaseFeedState(ctx context.Context, st FeedState, owner string, token int64) error {
	err := p.write(ctx, func(tx pgx.Tx) error {
		var holder string
		var gen int64
		err := tx.QueryRow(ctx, `SELECT owner, lease_gen FROM feeds WHERE url = $1 FOR UPDATE`, st.FeedURL).Scan(&holder, &gen)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := fenceRefusal(holder, gen, owner, token); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE feeds SET etag = $2, last_modified = $3, last_poll = $4, next_poll = $5,
			failures = $6, last_error = $7, owner = '', lease_until = NULL WHERE url = $1`,
			st.FeedURL, st.ETag, st.LastModified, pgTime(st.LastPoll), pgTime(st.NextPoll), st.Failures, st.LastError)
		return err
	})
	if err != nil {
		return fmt.Errorf("release feed %s: %w", st.FeedURL, err)
	}
	return nil
}

// errFailureRace: a concurrent transaction noted a story's first failure
// too; running the transaction again sees it.
var errFailureRace = errors.New("failure noted concurrently")

// NoteFailure implements Backend.
func (p *Postgres) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (Failure, error) {
	var f Failure
	err := p.write(ctx, func(tx pgx.Tx) error {
		var prev Failure
		var since *time.Time
		err := tx.QueryRow(ctx, `SELECT since, feed_copy FROM failures WHERE url = $1 FOR UPDATE`, url).Scan(&since, &prev.FeedCopy)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		found := err == nil
		prev.Since = fromPg(since)
		f = failureNoted(prev, found, now, feedCopy)
		stored := append([]byte{}, f.FeedCopy...) // never NULL
		if found {
			_, err := tx.Exec(ctx, `UPDATE failures SET since = $2, feed_copy = $3 WHERE url = $1`, url, pgTime(f.Since), stored)
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO failures (url, since, feed_copy) VALUES ($1, $2, $3)
			ON CONFLICT (url) DO NOTHING`, url, pgTime(f.Since), stored)
		if err == nil && tag.RowsAffected() == 0 {
			return errFailureRace
		}
		return err
	})
	if err != nil {
		return Failure{}, fmt.Errorf("note failure of %s: %w", url, err)
	}
	f.Since = fromMicro(micro(f.Since)) // as stored
	return f, nil
}

// Stats implements Backend.
func (p *Postgres) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := p.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state = 'pending'),
			count(*) FILTER (WHERE state = 'failed'),
			count(*) FILTER (WHERE state = 'permanent'),
			count(*) FILTER (WHERE state = 'written'),
			count(*) FILTER (WHERE state = 'known'),
			count(*) FILTER (WHERE owner != ''),
			(SELECT count(*) FROM feeds)
		FROM articles`).Scan(&st.Pending, &st.Failed, &st.Permanent, &st.Written, &st.Known, &st.Claimed, &st.Feeds)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
