package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// querier is what reads need of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const recordColumns = `a.id, a.url, coalesce(a.site_key, ''), a.state, a.owner, a.lease_until,
	a.attempts, a.last_error, a.retry_at, coalesce(a.path, ''), a.sha256, a.truncated, a.refetch_at, a.refetches, a.lease_gen`

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var r row
	var lease, retry, refetch int64
	err := sc.Scan(&r.id, &r.ID.URL, &r.ID.SiteKey, &r.State, &r.Owner, &lease,
		&r.Attempts, &r.LastError, &retry, &r.Path, &r.SHA256, &r.Truncated, &refetch, &r.Refetches, &r.Token)
	r.LeaseUntil, r.RetryAt, r.RefetchAt = fromMicro(lease), fromMicro(retry), fromMicro(refetch)
	return r, err
}

// find returns the story id names, following the identity rule of
// Identity: by SiteKey when id has one, else (or when no story has that
// key) by URL among stories whose SiteKey does not contradict it.
//
// Each lookup is one index search. The URL lookups go from article_urls'
// key to the story (CROSS JOIN fixes that order): left to itself, SQLite
// answered "site_key IS NULL" from the site_key index, which holds every
// keyless story, so a new keyed story in a store of 500k keyless ones
// cost 94 ms instead of 1 ms.
func find(ctx context.Context, q querier, id Identity) (row, bool, error) {
	if id.URL == "" {
		return row{}, false, errors.New("identity without a URL")
	}
	var sc *sql.Row
	if id.SiteKey != "" {
		r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM articles a WHERE a.site_key = ?`, id.SiteKey))
		if err == nil {
			return r, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return row{}, false, err
		}
		sc = q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM article_urls u CROSS JOIN articles a ON a.id = u.article_id
			WHERE u.url = ? AND a.site_key IS NULL ORDER BY u.article_id LIMIT 1`, id.URL)
	} else {
		sc = q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM article_urls u CROSS JOIN articles a ON a.id = u.article_id
			WHERE u.url = ? ORDER BY u.article_id LIMIT 1`, id.URL)
	}
	r, err := scanRow(sc)
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, false, nil
	}
	return r, err == nil, err
}

// remember creates the story id names when there is none, fills in a
// SiteKey learnt since it was recorded, and records id's URL as one of its
// URLs.
func remember(ctx context.Context, tx *wtx, id Identity) (row, error) {
	r, ok, err := find(ctx, tx, id)
	if err != nil {
		return row{}, err
	}
	if !ok {
		res, err := tx.ExecContext(ctx, `INSERT INTO articles (url, site_key) VALUES (?, ?)`, id.URL, nullString(id.SiteKey))
		if err != nil {
			return row{}, err
		}
		r = row{Record: Record{ID: id, State: StatePending}}
		if r.id, err = res.LastInsertId(); err != nil {
			return row{}, err
		}
	} else if learnsSiteKey(r.ID, id) {
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET site_key = ? WHERE id = ?`, id.SiteKey, r.id); err != nil {
			return row{}, err
		}
		r.ID.SiteKey = id.SiteKey
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?, ?)`, id.URL, r.id)
	return r, err
}

// owned returns the story id names when owner holds its claim.
func owned(ctx context.Context, tx *wtx, id Identity, owner string) (row, error) {
	r, ok, err := find(ctx, tx, id)
	switch {
	case err != nil:
		return row{}, err
	case !ok:
		return row{}, ErrNotFound
	}
	return r, holdRefusal(r.Owner, owner)
}

// save stores r as its story's row: state, claim, failures, post and
// re-fetches.
func save(ctx context.Context, tx *wtx, r row) error {
	_, err := tx.ExecContext(ctx, `UPDATE articles SET state = ?, owner = ?, lease_until = ?, attempts = ?,
		last_error = ?, retry_at = ?, path = ?, sha256 = ?, truncated = ?, refetch_at = ?, refetches = ?, lease_gen = ? WHERE id = ?`,
		r.State, r.Owner, micro(r.LeaseUntil), r.Attempts, r.LastError, micro(r.RetryAt), nullString(r.Path), r.SHA256,
		r.Truncated, micro(r.RefetchAt), r.Refetches, r.Token, r.id)
	return err
}

// Lookup implements Backend.
func (s *SQLite) Lookup(ctx context.Context, id Identity) (Record, bool, error) {
	r, ok, err := find(ctx, s.rst, id)
	if err != nil {
		return Record{}, false, fmt.Errorf("lookup %s: %w", id.URL, err)
	}
	return r.Record, ok, nil
}

// Claim implements Backend.
func (s *SQLite) Claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return s.claim(ctx, id, owner, lease, now, false)
}

// ForceClaim implements Backend.
func (s *SQLite) ForceClaim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return s.claim(ctx, id, owner, lease, now, true)
}

func (s *SQLite) claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time, force bool) (Record, error) {
	if owner == "" {
		return Record{}, fmt.Errorf("claim %s: empty owner", id.URL)
	}
	var rec Record
	var refused error // a refusal commits what remember recorded
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		refused = nil
		r, err := remember(ctx, tx, id)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		if rec, refused = claimed(r.Record, owner, lease, at, force); refused != nil {
			return nil
		}
		r.Record = rec
		return save(ctx, tx, r)
	})
	if err != nil {
		return Record{}, fmt.Errorf("claim %s: %w", id.URL, err)
	}
	if refused != nil {
		return rec, fmt.Errorf("claim %s: %w", id.URL, refused)
	}
	return rec, nil
}

// Release implements Backend.
func (s *SQLite) Release(ctx context.Context, id Identity, owner string) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		r.Record = released(r.Record)
		return save(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", id.URL, err)
	}
	return nil
}

// MarkFailed implements Backend.
func (s *SQLite) MarkFailed(ctx context.Context, id Identity, owner, reason string, permanent bool, retryAt time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		r.Record = failed(r.Record, reason, permanent, retryAt)
		return save(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s failed: %w", id.URL, err)
	}
	return nil
}

// ReservePath implements Backend.
func (s *SQLite) ReservePath(ctx context.Context, id Identity, owner, wantName string) (string, error) {
	if !filepath.IsLocal(wantName) {
		return "", fmt.Errorf("reserve path %q for %s: not a local path", wantName, id.URL)
	}
	var path string
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if r.Path != "" {
			path = r.Path
			return nil
		}
		for _, name := range candidateNames(wantName, r.ID) {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM articles WHERE path = ?`, name).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				path = name
				_, err := tx.ExecContext(ctx, `UPDATE articles SET path = ? WHERE id = ?`, name, r.id)
				return err
			}
		}
		return errors.New("every candidate name is taken")
	})
	if err != nil {
		return "", fmt.Errorf("reserve path %q for %s: %w", wantName, id.URL, err)
	}
	return path, nil
}

// MarkWritten implements Backend.
func (s *SQLite) MarkWritten(ctx context.Context, id Identity, owner, path, sha256 string) error {
	return s.markWritten(ctx, id, owner, path, func(r Record) Record { return written(r, path, sha256) }, nil)
}

// MarkTruncated implements Backend.
func (s *SQLite) MarkTruncated(ctx context.Context, id Identity, owner, path, sha256 string, refetchAt time.Time) error {
	return s.markWritten(ctx, id, owner, path, func(r Record) Record { return writtenTruncated(r, path, sha256, refetchAt) }, nil)
}

// commitPost implements fencedBackend: markWritten fenced by token, with
// commit (the post's rename) run under the write lock.
func (s *SQLite) commitPost(ctx context.Context, id Identity, owner string, token int64, path string, rule func(Record) Record, commit func() error) error {
	return s.markWritten(ctx, id, owner, path, rule, &fence{token, commit})
}

// renew implements fencedBackend.
func (s *SQLite) renew(ctx context.Context, id Identity, owner string, token int64, lease time.Duration, now time.Time) (Record, error) {
	var rec Record
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, ok, err := find(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return ErrNotFound
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		if r.Record, err = renewed(r.Record, owner, token, lease, at); err != nil {
			return err
		}
		rec = r.Record
		return save(ctx, tx, r)
	})
	if err != nil {
		return Record{}, fmt.Errorf("renew claim of %s: %w", id.URL, err)
	}
	return rec, nil
}

// clock is the store's clock: the machine's, which every process sharing
// the file shares.
func (s *SQLite) clock() (time.Time, error) { return time.Now().UTC(), nil }

// markWritten stores rule's record of the story owner holds, written at
// path; with a fence, only when owner's claim has the fence's token, and
// after the fence's commit succeeded in the same transaction.
func (s *SQLite) markWritten(ctx context.Context, id Identity, owner, path string, rule func(Record) Record, f *fence) error {
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s written: path %q is not local", id.URL, path)
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if err := pathFree(ctx, tx, path, r.id); err != nil {
			return err
		}
		if err := f.check(r.Record); err != nil {
			return err
		}
		r.Record = rule(r.Record)
		return save(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s written: %w", id.URL, err)
	}
	return nil
}

// ClaimRefetch implements Backend.
func (s *SQLite) ClaimRefetch(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	if owner == "" {
		return Record{}, fmt.Errorf("claim re-fetch of %s: empty owner", id.URL)
	}
	var rec Record
	var refused error
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		refused = nil
		r, ok, err := find(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return ErrNotFound
		}
		at, err := decisionTime(now, s.clock)
		if err != nil {
			return err
		}
		if rec, refused = refetchClaimed(r.Record, owner, lease, at); refused != nil {
			return nil
		}
		r.Record = rec
		return save(ctx, tx, r)
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return rec, fmt.Errorf("claim re-fetch of %s: %w", id.URL, err)
	}
	return rec, nil
}

// KeepTruncated implements Backend.
func (s *SQLite) KeepTruncated(ctx context.Context, id Identity, owner string, refetchAt time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if r.Record, err = keptTruncated(r.Record, refetchAt); err != nil {
			return err
		}
		return save(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("keep truncated post of %s: %w", id.URL, err)
	}
	return nil
}

// DueRefetch implements Backend.
func (s *SQLite) DueRefetch(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	now, _ = decisionTime(now, s.clock)
	rows, err := s.rst.QueryContext(ctx, `SELECT `+recordColumns+` FROM articles a
		WHERE a.refetch_at != 0 AND a.refetch_at <= ?1
		  AND a.state = 'written' AND a.truncated
		  AND (a.owner = '' OR a.lease_until <= ?1)
		ORDER BY a.refetch_at, a.id LIMIT ?2`, micro(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due re-fetches: %w", err)
	}
	defer rows.Close()
	var due []Record
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("due re-fetches: %w", err)
		}
		due = append(due, r.Record)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due re-fetches: %w", err)
	}
	return due, nil
}

// pathFree returns ErrPathTaken when a story other than article holds path.
func pathFree(ctx context.Context, tx *wtx, path string, article int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM articles WHERE path = ? AND id != ?`, path, article).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%s: %w", path, ErrPathTaken)
	}
	return nil
}

// MarkKnown implements Backend.
func (s *SQLite) MarkKnown(ctx context.Context, id Identity, path string) error {
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s known: path %q is not local", id.URL, path)
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		r, err := remember(ctx, tx, id)
		if err != nil {
			return err
		}
		rec, ok := known(r.Record, path)
		if !ok {
			return nil
		}
		if err := pathFree(ctx, tx, path, r.id); err != nil {
			return err
		}
		r.Record = rec
		return save(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s known: %w", id.URL, err)
	}
	return nil
}

// Due implements Backend.
func (s *SQLite) Due(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	now, _ = decisionTime(now, s.clock)
	rows, err := s.rst.QueryContext(ctx, `SELECT `+recordColumns+` FROM articles a
		WHERE (a.state = 'pending' OR (a.state = 'failed' AND a.retry_at <= ?1))
		  AND (a.owner = '' OR a.lease_until <= ?1)
		ORDER BY a.retry_at, a.id LIMIT ?2`, micro(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due stories: %w", err)
	}
	defer rows.Close()
	var due []Record
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("due stories: %w", err)
		}
		due = append(due, r.Record)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due stories: %w", err)
	}
	return due, nil
}
