package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgRecordColumns = `a.id, a.url, coalesce(a.site_key, ''), a.state, a.owner, a.lease_until,
	a.attempts, a.last_error, a.retry_at, coalesce(a.path, ''), a.sha256, a.truncated, a.refetch_at, a.refetches, a.lease_gen`

func scanPgRow(sc pgx.Row) (row, error) {
	var r row
	var lease, retry, refetch *time.Time
	err := sc.Scan(&r.id, &r.ID.URL, &r.ID.SiteKey, &r.State, &r.Owner, &lease,
		&r.Attempts, &r.LastError, &retry, &r.Path, &r.SHA256, &r.Truncated, &refetch, &r.Refetches, &r.Token)
	r.LeaseUntil, r.RetryAt, r.RefetchAt = fromPg(lease), fromPg(retry), fromPg(refetch)
	return r, err
}

// pgQuerier is what reads need of a pool or a transaction.
type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// findPg returns the story id names, by the rule of Identity (see find).
// With lock, it locks the story's row until the transaction ends; after
// waiting for the lock it sees the row as the other transaction left it,
// and skips it when it no longer matches.
func findPg(ctx context.Context, q pgQuerier, id Identity, lock bool) (row, bool, error) {
	if id.URL == "" {
		return row{}, false, errors.New("identity without a URL")
	}
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE OF a"
	}
	if id.SiteKey != "" {
		r, err := scanPgRow(q.QueryRow(ctx, `SELECT `+pgRecordColumns+` FROM articles a WHERE a.site_key = $1`+forUpdate, id.SiteKey))
		if err == nil {
			return r, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return row{}, false, err
		}
	}
	onlyKeyless := ""
	if id.SiteKey != "" {
		onlyKeyless = " AND a.site_key IS NULL"
	}
	r, err := scanPgRow(q.QueryRow(ctx, `SELECT `+pgRecordColumns+` FROM article_urls u JOIN articles a ON a.id = u.article_id
		WHERE u.url = $1`+onlyKeyless+` ORDER BY a.id LIMIT 1`+forUpdate, id.URL))
	if errors.Is(err, pgx.ErrNoRows) {
		return row{}, false, nil
	}
	return r, err == nil, err
}

// lockIdentity takes the advisory locks of id's URL and SiteKey until the
// transaction ends, in ascending order so that two transactions cannot
// each hold the lock the other waits for.
func lockIdentity(ctx context.Context, tx pgx.Tx, id Identity) error {
	keys := []int32{lockKey("url", id.URL)}
	if id.SiteKey != "" {
		keys = append(keys, lockKey("key", id.SiteKey))
	}
	slices.Sort(keys)
	// unnest yields the keys in the array's order.
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int4[]) AS k`, lockStory, keys)
	return err
}

// lockKey hashes a name into the second key of an advisory lock. Names
// that collide only take turns needlessly.
func lockKey(kind, name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int32(h.Sum32())
}

// rememberPg is remember for PostgreSQL: it creates the story id names
// when there is none, fills in a SiteKey learnt since, records id's URL as
// one of the story's URLs, and returns the story with its row locked.
func rememberPg(ctx context.Context, tx pgx.Tx, id Identity) (row, error) {
	if err := lockIdentity(ctx, tx, id); err != nil {
		return row{}, err
	}
	r, ok, err := findPg(ctx, tx, id, true)
	if err != nil {
		return row{}, err
	}
	if !ok {
		r = row{Record: Record{ID: id, State: StatePending}}
		err := tx.QueryRow(ctx, `INSERT INTO articles (url, site_key) VALUES ($1, $2) RETURNING id`,
			id.URL, nullIfEmpty(id.SiteKey)).Scan(&r.id)
		if err != nil {
			return row{}, err
		}
	} else if learnsSiteKey(r.ID, id) {
		if _, err := tx.Exec(ctx, `UPDATE articles SET site_key = $1 WHERE id = $2`, id.SiteKey, r.id); err != nil {
			return row{}, err
		}
		r.ID.SiteKey = id.SiteKey
	}
	_, err = tx.Exec(ctx, `INSERT INTO article_urls (url, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id.URL, r.id)
	return r, err
}

// ownedPg returns the story id names, its row locked, when owner holds
// its claim.
func ownedPg(ctx context.Context, tx pgx.Tx, id Identity, owner string) (row, error) {
	r, ok, err := findPg(ctx, tx, id, true)
	switch {
	case err != nil:
		return row{}, err
	case !ok:
		return row{}, ErrNotFound
	}
	return r, holdRefusal(r.Owner, owner)
}

// savePg stores r as its story's row: state, claim, failures, post and
// re-fetches. It
// returns ErrPathTaken when another story holds r's path.
func savePg(ctx context.Context, tx pgx.Tx, r row) error {
	_, err := tx.Exec(ctx, `UPDATE articles SET state = $1, owner = $2, lease_until = $3, attempts = $4,
		last_error = $5, retry_at = $6, path = $7, sha256 = $8, truncated = $9, refetch_at = $10, refetches = $11,
		lease_gen = $12 WHERE id = $13`,
		r.State, r.Owner, pgTime(r.LeaseUntil), r.Attempts, r.LastError, pgTime(r.RetryAt), nullIfEmpty(r.Path), r.SHA256,
		r.Truncated, pgTime(r.RefetchAt), r.Refetches, r.Token, r.id)
	if isPathTaken(err) {
		return fmt.Errorf("%s: %w", r.Path, ErrPathTaken)
	}
	return err
}

// Lookup implements Backend.
func (p *Postgres) Lookup(ctx context.Context, id Identity) (Record, bool, error) {
	r, ok, err := findPg(ctx, p.pool, id, false)
	if err != nil {
		return Record{}, false, fmt.Errorf("lookup %s: %w", id.URL, err)
	}
	return r.Record, ok, nil
}

// Claim implements Backend.
func (p *Postgres) Claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return p.claim(ctx, id, owner, lease, now, false)
}

// ForceClaim implements Backend.
func (p *Postgres) ForceClaim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	return p.claim(ctx, id, owner, lease, now, true)
}

func (p *Postgres) claim(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time, force bool) (Record, error) {
	if owner == "" {
		return Record{}, fmt.Errorf("claim %s: empty owner", id.URL)
	}
	var rec Record
	var refused error // a refusal commits what rememberPg recorded
	err := p.write(ctx, func(tx pgx.Tx) error {
		refused = nil
		r, err := rememberPg(ctx, tx, id)
		if err != nil {
			return err
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		if rec, refused = claimed(r.Record, owner, lease, at, force); refused != nil {
			return nil
		}
		// The record returned is the one stored, to the microsecond.
		rec.LeaseUntil = fromMicro(micro(rec.LeaseUntil))
		r.Record = rec
		return savePg(ctx, tx, r)
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
func (p *Postgres) Release(ctx context.Context, id Identity, owner string) error {
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		r.Record = released(r.Record)
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", id.URL, err)
	}
	return nil
}

// MarkFailed implements Backend.
func (p *Postgres) MarkFailed(ctx context.Context, id Identity, owner, reason string, permanent bool, retryAt time.Time) error {
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		r.Record = failed(r.Record, reason, permanent, retryAt)
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s failed: %w", id.URL, err)
	}
	return nil
}

// ReservePath implements Backend.
func (p *Postgres) ReservePath(ctx context.Context, id Identity, owner, wantName string) (string, error) {
	if !filepath.IsLocal(wantName) {
		return "", fmt.Errorf("reserve path %q for %s: not a local path", wantName, id.URL)
	}
	var path string
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if r.Path != "" {
			path = r.Path
			return nil
		}
		// The first candidate no committed story holds, in one statement.
		err = tx.QueryRow(ctx, `UPDATE articles SET path = pick.name FROM (
				SELECT c.name FROM unnest($2::text[]) WITH ORDINALITY AS c(name, n)
				WHERE NOT EXISTS (SELECT 1 FROM articles t WHERE t.path = c.name)
				ORDER BY c.n LIMIT 1) pick
			WHERE id = $1 RETURNING path`, r.id, candidateNames(wantName, r.ID)).Scan(&path)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errors.New("every candidate name is taken")
		case isPathTaken(err):
			return errPathRace
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reserve path %q for %s: %w", wantName, id.URL, err)
	}
	return path, nil
}

// MarkWritten implements Backend.
func (p *Postgres) MarkWritten(ctx context.Context, id Identity, owner, path, sha256 string) error {
	return p.markWritten(ctx, id, owner, path, func(r Record) Record { return written(r, path, sha256) }, nil)
}

// MarkTruncated implements Backend.
func (p *Postgres) MarkTruncated(ctx context.Context, id Identity, owner, path, sha256 string, refetchAt time.Time) error {
	return p.markWritten(ctx, id, owner, path, func(r Record) Record { return writtenTruncated(r, path, sha256, refetchAt) }, nil)
}

// commitPost implements fencedBackend: markWritten fenced by token, with
// commit (the post's rename) run while the story's row is locked, so that
// no other owner can take the story over between the check and the
// rename.
func (p *Postgres) commitPost(ctx context.Context, id Identity, owner string, token int64, path string, rule func(Record) Record, commit func() error) error {
	return p.markWritten(ctx, id, owner, path, rule, &fence{token, commit})
}

// renew implements fencedBackend.
func (p *Postgres) renew(ctx context.Context, id Identity, owner string, token int64, lease time.Duration, now time.Time) (Record, error) {
	var rec Record
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, ok, err := findPg(ctx, tx, id, true)
		switch {
		case err != nil:
			return err
		case !ok:
			return ErrNotFound
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		if r.Record, err = renewed(r.Record, owner, token, lease, at); err != nil {
			return err
		}
		r.LeaseUntil = fromMicro(micro(r.LeaseUntil))
		rec = r.Record
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return Record{}, fmt.Errorf("renew claim of %s: %w", id.URL, err)
	}
	return rec, nil
}

// pgClock is the database server's clock, read through q: the one clock
// of every worker's leases and host slots.
func pgClock(ctx context.Context, q pgQuerier) func() (time.Time, error) {
	return func() (time.Time, error) {
		var t time.Time
		err := q.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t)
		return fromMicro(micro(t)), err
	}
}

// markWritten stores rule's record of the story owner holds, written at
// path; with a fence, only when owner's claim has the fence's token, and
// after the fence's commit succeeded in the same transaction.
func (p *Postgres) markWritten(ctx context.Context, id Identity, owner, path string, rule func(Record) Record, f *fence) error {
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s written: path %q is not local", id.URL, path)
	}
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if f != nil {
			// The path must be free before the file lands on it: the
			// unique index would only say so at the update, after the
			// rename.
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM articles WHERE path = $1 AND id != $2)`, path, r.id).Scan(&taken); err != nil {
				return err
			}
			if taken {
				return fmt.Errorf("%s: %w", path, ErrPathTaken)
			}
		}
		if err := f.check(r.Record); err != nil {
			return err
		}
		r.Record = rule(r.Record)
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s written: %w", id.URL, err)
	}
	return nil
}

// ClaimRefetch implements Backend. It creates no story, so it needs no
// advisory lock: the row lock orders it with the other steps.
func (p *Postgres) ClaimRefetch(ctx context.Context, id Identity, owner string, lease time.Duration, now time.Time) (Record, error) {
	if owner == "" {
		return Record{}, fmt.Errorf("claim re-fetch of %s: empty owner", id.URL)
	}
	var rec Record
	var refused error
	err := p.write(ctx, func(tx pgx.Tx) error {
		refused = nil
		r, ok, err := findPg(ctx, tx, id, true)
		switch {
		case err != nil:
			return err
		case !ok:
			return ErrNotFound
		}
		at, err := decisionTime(now, pgClock(ctx, tx))
		if err != nil {
			return err
		}
		if rec, refused = refetchClaimed(r.Record, owner, lease, at); refused != nil {
			return nil
		}
		rec.LeaseUntil = fromMicro(micro(rec.LeaseUntil))
		r.Record = rec
		return savePg(ctx, tx, r)
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
func (p *Postgres) KeepTruncated(ctx context.Context, id Identity, owner string, refetchAt time.Time) error {
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if r.Record, err = keptTruncated(r.Record, refetchAt); err != nil {
			return err
		}
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("keep truncated post of %s: %w", id.URL, err)
	}
	return nil
}

// DueRefetch implements Backend.
func (p *Postgres) DueRefetch(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	now, err := decisionTime(now, pgClock(ctx, p.pool))
	if err != nil {
		return nil, fmt.Errorf("due re-fetches: %w", err)
	}
	rows, _ := p.pool.Query(ctx, `SELECT `+pgRecordColumns+` FROM articles a
		WHERE a.refetch_at IS NOT NULL AND a.refetch_at <= $1
		  AND a.state = 'written' AND a.truncated
		  AND (a.owner = '' OR a.lease_until <= $1)
		ORDER BY a.refetch_at, a.id LIMIT $2`, pgTime(now), limit)
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) {
		rec, err := scanPgRow(r)
		return rec.Record, err
	})
	if err != nil {
		return nil, fmt.Errorf("due re-fetches: %w", err)
	}
	return due, nil
}

// MarkKnown implements Backend.
func (p *Postgres) MarkKnown(ctx context.Context, id Identity, path string) error {
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s known: path %q is not local", id.URL, path)
	}
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := rememberPg(ctx, tx, id)
		if err != nil {
			return err
		}
		rec, ok := known(r.Record, path)
		if !ok {
			return nil
		}
		r.Record = rec
		return savePg(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("mark %s known: %w", id.URL, err)
	}
	return nil
}

// Due implements Backend.
func (p *Postgres) Due(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	now, err := decisionTime(now, pgClock(ctx, p.pool))
	if err != nil {
		return nil, fmt.Errorf("due stories: %w", err)
	}
	rows, _ := p.pool.Query(ctx, `SELECT `+pgRecordColumns+` FROM articles a
		WHERE a.state IN ('pending', 'failed')
		  AND (a.state = 'pending' OR a.retry_at IS NULL OR a.retry_at <= $1)
		  AND (a.owner = '' OR a.lease_until <= $1)
		ORDER BY a.retry_at NULLS FIRST, a.id LIMIT $2`, pgTime(now), limit)
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Record, error) {
		rec, err := scanPgRow(r)
		return rec.Record, err
	})
	if err != nil {
		return nil, fmt.Errorf("due stories: %w", err)
	}
	return due, nil
}
