package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// Advisory lock classes: the first key of pg_advisory_xact_lock(int, int),
// so that newsmd's locks keep apart from other users of the database.
const (
	lockMigrate int32 = 0x6e6d0001 // "nm" 1: the schema, while migrating
	lockStory   int32 = 0x6e6d0002 // "nm" 2: a story's URL or SiteKey
)

// Postgres is the server Backend: many workers on many hosts share one
// PostgreSQL database.
//
// Transactions run at READ COMMITTED and make their read-check-write atomic
// with locks, not with serializable isolation and retries: every claim is
// contended by design (all workers see the same feeds), and serializable
// transactions would fail and retry most of them.
//
//   - A transaction that may create a story or change its identity (Claim,
//     ForceClaim, MarkKnown) first takes transaction advisory locks on the
//     hashes of the identity's URL and SiteKey, in ascending order. Two
//     identities that name one story share the SiteKey or, when either has
//     none, the URL, so their transactions take turns: the second finds the
//     story the first created instead of creating another. No constraint
//     can say this, since a URL alone does not name a story.
//   - The story's row is then read with SELECT … FOR UPDATE, so its state,
//     owner and lease are checked and changed under the row lock; steps
//     that need the claim (Release, MarkFailed, ReservePath, MarkWritten)
//     do the same.
//   - Paths are unique by constraint. ReservePath picks the first
//     candidate name no committed story holds; when a concurrent
//     transaction took it meanwhile, the unique index makes the update
//     wait for it and fail, and the transaction is run again.
//   - Feed leases are single INSERT … ON CONFLICT DO UPDATE … WHERE
//     statements, which lock the feed's row.
//
// Deadlocks (40P01) and serialization failures (40001) should not occur,
// but a transaction meeting one is run again rather than failed.
type Postgres struct {
	pool    *pgxpool.Pool
	applied []string // migrations applied when opened
}

// Applied lists the migrations OpenPostgres applied.
func (p *Postgres) Applied() []string { return p.applied }

var _ Backend = (*Postgres)(nil)

// OpenPostgres connects to the database dsn names (a URL or key=value
// connection string, as pgx reads it) and applies the schema migrations it
// lacks. Tables live in the connection's search_path, so a DSN with
// search_path=name keeps the store in its own schema.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Name the server without the password the DSN may hold.
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	p := &Postgres{pool: pool}
	if p.applied, err = p.Migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	return p, nil
}

// Migrate applies the schema migrations not yet in schema_migrations, all
// in one transaction holding an advisory lock, and returns the names of
// those it applied: workers starting together on a new database wait for
// the first one, then find nothing left to do. OpenPostgres calls it;
// `newsmd migrate` reports what it did.
func (p *Postgres) Migrate(ctx context.Context) (applied []string, err error) {
	migs, err := readMigrations(postgresMigrations, "migrations/postgres")
	if err != nil {
		return nil, err
	}
	err = pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		applied = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockMigrate); err != nil {
			return err
		}
		// 0001 creates schema_migrations itself.
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
			return err
		}
		var done []int
		if exists {
			rows, _ := tx.Query(ctx, `SELECT version FROM schema_migrations`)
			var err error
			if done, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
				return err
			}
		}
		for _, m := range migs {
			if slices.Contains(done, m.version) {
				continue
			}
			if _, err := tx.Exec(ctx, m.script); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			applied = append(applied, m.name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// errPathRace: a concurrent transaction reserved the name ReservePath
// picked; running the transaction again picks another.
var errPathRace = errors.New("path reserved concurrently")

// write runs fn in a transaction, running it again, a few times, when it
// fails only because of concurrent transactions.
func (p *Postgres) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	const retries = 8
	for attempt := 0; ; attempt++ {
		// READ COMMITTED, which the locking is designed for, whatever
		// default_transaction_isolation the server sets.
		err := pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
		if !retryable(err) || attempt == retries {
			return err
		}
		// Jitter, so that the transactions that met do not meet again.
		wait := time.Duration(1+rand.N(5<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func retryable(err error) bool {
	if errors.Is(err, errPathRace) {
		return true
	}
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// isPathTaken reports whether err is the violation of the unique paths.
func isPathTaken(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" && e.ConstraintName == "articles_path_key"
}

const pgRecordColumns = `a.id, a.url, coalesce(a.site_key, ''), a.state, a.owner, a.lease_until,
	a.attempts, a.last_error, a.retry_at, coalesce(a.path, ''), a.sha256`

func scanPgRow(sc pgx.Row) (row, error) {
	var r row
	var lease, retry *time.Time
	err := sc.Scan(&r.id, &r.ID.URL, &r.ID.SiteKey, &r.State, &r.Owner, &lease,
		&r.Attempts, &r.LastError, &retry, &r.Path, &r.SHA256)
	r.LeaseUntil, r.RetryAt = fromPg(lease), fromPg(retry)
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
	} else if r.ID.SiteKey == "" && id.SiteKey != "" {
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
	case owner == "" || r.Owner != owner:
		return row{}, ErrNotOwner
	}
	return r, nil
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
		rec = r.Record
		if refused = claimRefusal(r.Record, owner, now, force); refused != nil {
			return nil
		}
		// The record returned is the one stored, to the microsecond.
		rec.Owner, rec.LeaseUntil = owner, fromMicro(micro(now.Add(lease)))
		_, err = tx.Exec(ctx, `UPDATE articles SET owner = $1, lease_until = $2 WHERE id = $3`,
			owner, pgTime(rec.LeaseUntil), r.id)
		return err
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
		_, err = tx.Exec(ctx, `UPDATE articles SET owner = '', lease_until = NULL WHERE id = $1`, r.id)
		return err
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
		state, retry := StateFailed, retryAt
		switch {
		case r.State == StateWritten || r.State == StateKnown:
			state, retry = r.State, time.Time{}
		case permanent:
			state, retry = StatePermanent, time.Time{}
		}
		_, err = tx.Exec(ctx, `UPDATE articles SET owner = '', lease_until = NULL, state = $1,
			attempts = attempts + 1, last_error = $2, retry_at = $3 WHERE id = $4`,
			state, reason, pgTime(retry), r.id)
		return err
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
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s written: path %q is not local", id.URL, path)
	}
	err := p.write(ctx, func(tx pgx.Tx) error {
		r, err := ownedPg(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE articles SET owner = '', lease_until = NULL, state = 'written',
			last_error = '', retry_at = NULL, path = $1, sha256 = $2 WHERE id = $3`, path, sha256, r.id)
		if isPathTaken(err) {
			return fmt.Errorf("%s: %w", path, ErrPathTaken)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s written: %w", id.URL, err)
	}
	return nil
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
		if r.State == StateWritten || r.State == StateKnown {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE articles SET state = 'known', last_error = '', retry_at = NULL,
			path = $1 WHERE id = $2`, path, r.id)
		if isPathTaken(err) {
			return fmt.Errorf("%s: %w", path, ErrPathTaken)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s known: %w", id.URL, err)
	}
	return nil
}

// Due implements Backend.
func (p *Postgres) Due(ctx context.Context, now time.Time, limit int) ([]Record, error) {
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

// FeedState implements Backend.
func (p *Postgres) FeedState(ctx context.Context, feedURL string) (FeedState, error) {
	st := FeedState{FeedURL: feedURL}
	var last, next *time.Time
	var owner string
	err := p.pool.QueryRow(ctx, `SELECT etag, last_modified, last_poll, next_poll, failures, last_error,
		CASE WHEN lease_until IS NULL THEN '' ELSE owner END
		FROM feeds WHERE url = $1`, feedURL).Scan(&st.ETag, &st.LastModified, &last, &next, &st.Failures, &st.LastError, &owner)
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

// NoteFailure implements Backend.
func (p *Postgres) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (Failure, error) {
	var f Failure
	var since time.Time
	if feedCopy == nil {
		feedCopy = []byte{}
	}
	err := p.pool.QueryRow(ctx, `INSERT INTO failures (url, since, feed_copy) VALUES ($1, $2, $3)
		ON CONFLICT (url) DO UPDATE SET feed_copy = CASE WHEN length($3) > 0 THEN $3 ELSE failures.feed_copy END
		RETURNING since, feed_copy`, url, pgTime(now), feedCopy).Scan(&since, &f.FeedCopy)
	if err != nil {
		return Failure{}, fmt.Errorf("note failure of %s: %w", url, err)
	}
	f.Since = fromMicro(micro(since))
	return f, nil
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
	// ON CONFLICT locks the feed's row and checks the WHERE against its
	// latest version, so of owners claiming at once one updates it.
	tag, err := p.pool.Exec(ctx, `INSERT INTO feeds (url, owner, lease_until) VALUES ($1, $2, $3)
		ON CONFLICT (url) DO UPDATE SET owner = $2, lease_until = $3
		WHERE feeds.owner = '' OR feeds.owner = $2 OR feeds.lease_until <= $4`,
		feedURL, owner, pgTime(now.Add(lease)), pgTime(now))
	if err != nil {
		return false, fmt.Errorf("claim feed %s: %w", feedURL, err)
	}
	return tag.RowsAffected() > 0, nil
}

// ReleaseFeed implements Backend.
func (p *Postgres) ReleaseFeed(ctx context.Context, feedURL, owner string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE feeds SET owner = '', lease_until = NULL
		WHERE url = $1 AND owner = $2 AND owner != ''`, feedURL, owner)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotOwner
	}
	if err != nil {
		return fmt.Errorf("release feed %s: %w", feedURL, err)
	}
	return nil
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

// Ping implements Backend: the server answers and the schema is there.
func (p *Postgres) Ping(ctx context.Context) error {
	var n int
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close implements Backend.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// pgTime is t as a timestamptz parameter: NULL for the zero time, else t
// to the microsecond.
func pgTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = time.UnixMicro(t.UnixMicro()).UTC()
	return &t
}

// fromPg is a scanned timestamptz as the store's times are: the zero time
// for NULL, else in UTC.
func fromPg(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
