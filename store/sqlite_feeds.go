package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FeedState implements Backend.
func (s *SQLite) FeedState(ctx context.Context, feedURL string) (FeedState, error) {
	st := FeedState{FeedURL: feedURL}
	var last, next int64
	var owner string
	var lease int64
	err := s.rst.QueryRowContext(ctx, `SELECT etag, last_modified, last_poll, next_poll, failures, last_error, owner, lease_until, lease_gen
		FROM feeds WHERE url = ?`, feedURL).Scan(&st.ETag, &st.LastModified, &last, &next, &st.Failures, &st.LastError, &owner, &lease, &st.Token)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return FeedState{}, fmt.Errorf("feed state %s: %w", feedURL, err)
	}
	st.LastPoll, st.NextPoll = fromMicro(last), fromMicro(next)
	if lease != 0 {
		st.Owner = owner
	}
	return st, nil
}

// SaveFeedState implements Backend.
func (s *SQLite) SaveFeedState(ctx context.Context, st FeedState) error {
	if st.FeedURL == "" {
		return errors.New("save feed state: empty feed URL")
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO feeds (url, etag, last_modified, last_poll, next_poll, failures, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
				last_poll = excluded.last_poll, next_poll = excluded.next_poll,
				failures = excluded.failures, last_error = excluded.last_error`,
			st.FeedURL, st.ETag, st.LastModified, micro(st.LastPoll), micro(st.NextPoll), st.Failures, st.LastError)
		return err
	})
	if err != nil {
		return fmt.Errorf("save feed state %s: %w", st.FeedURL, err)
	}
	return nil
}

// ClaimFeed implements Backend.
func (s *SQLite) ClaimFeed(ctx context.Context, feedURL, owner string, lease time.Duration, now time.Time) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("claim feed %s: empty owner", feedURL)
	}
	var won bool
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		won = false
		var holder string
		var until, gen int64
		err := tx.QueryRowContext(ctx, `SELECT owner, lease_until, lease_gen FROM feeds WHERE url = ?`, feedURL).Scan(&holder, &until, &gen)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		var leaseUntil time.Time
		if leaseUntil, gen, won = feedClaimed(holder, fromMicro(until), gen, owner, lease, at); !won {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO feeds (url, owner, lease_until, lease_gen) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (url) DO UPDATE SET owner = ?2, lease_until = ?3, lease_gen = ?4`, feedURL, owner, micro(leaseUntil), gen)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim feed %s: %w", feedURL, err)
	}
	return won, nil
}

// ReleaseFeed implements Backend.
func (s *SQLite) ReleaseFeed(ctx context.Context, feedURL, owner string) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT owner FROM feeds WHERE url = ?`, feedURL).Scan(&holder)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := holdRefusal(holder, owner); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE feeds SET owner = '', lease_until = 0 WHERE url = ?`, feedURL)
		return err
	})
	if err != nil {
		return fmt.Errorf("release feed %s: %w", feedURL, err)
	}
	return nil
}

// releaseFeedState implements fencedBackend.
func (s *SQLite) releaseFeedState(ctx context.Context, st FeedState, owner string, token int64) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var holder string
		var gen int64
		err := tx.QueryRowContext(ctx, `SELECT owner, lease_gen FROM feeds WHERE url = ?`, st.FeedURL).Scan(&holder, &gen)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := fenceRefusal(holder, gen, owner, token); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE feeds SET etag = ?, last_modified = ?, last_poll = ?, next_poll = ?,
			failures = ?, last_error = ?, owner = '', lease_until = 0 WHERE url = ?`,
			st.ETag, st.LastModified, micro(st.LastPoll), micro(st.NextPoll), st.Failures, st.LastError, st.FeedURL)
		return err
	})
	if err != nil {
		return fmt.Errorf("release feed %s: %w", st.FeedURL, err)
	}
	return nil
}

// NoteFailure implements Backend.
func (s *SQLite) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (Failure, error) {
	var f Failure
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var prev Failure
		var since int64
		err := tx.QueryRowContext(ctx, `SELECT since, feed_copy FROM failures WHERE url = ?`, url).Scan(&since, &prev.FeedCopy)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		prev.Since = fromMicro(since)
		f = failureNoted(prev, err == nil, now, feedCopy)
		_, err = tx.ExecContext(ctx, `INSERT INTO failures (url, since, feed_copy) VALUES (?1, ?2, ?3)
			ON CONFLICT (url) DO UPDATE SET since = ?2, feed_copy = ?3`,
			url, micro(f.Since), append([]byte{}, f.FeedCopy...)) // never NULL
		return err
	})
	if err != nil {
		return Failure{}, fmt.Errorf("note failure of %s: %w", url, err)
	}
	f.Since = fromMicro(micro(f.Since)) // as stored
	return f, nil
}

// Stats implements Backend. It reads the counts the triggers of
// migration 0006 keep, so that it costs the same at a million stories as
// at none.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	rows, err := s.rst.QueryContext(ctx, `SELECT name, n FROM counts`)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return Stats{}, fmt.Errorf("stats: %w", err)
		}
		switch name {
		case string(StatePending):
			st.Pending = n
		case string(StateFailed):
			st.Failed = n
		case string(StatePermanent):
			st.Permanent = n
		case string(StateWritten):
			st.Written = n
		case string(StateKnown):
			st.Known = n
		case "claimed":
			st.Claimed = n
		case "feeds":
			st.Feeds = n
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
