package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// busyTimeout is how long SQLite waits for another connection or process
// to finish its write before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// SQLite is the embedded Backend: one SQLite file, which several processes
// may open at once.
//
// Writes go through a pool of one connection whose transactions begin with
// BEGIN IMMEDIATE (_txlock=immediate): a transaction takes the file's write
// lock before it reads, so a claim's read-check-write is atomic across
// processes, and the single connection serialises this process's writers
// in database/sql instead of in SQLite's busy handler. Another process
// holding the lock is waited for up to busyTimeout, and a write that still
// meets SQLITE_BUSY is retried a few times. Reads (Lookup, Due, Stats,
// FeedState, Ping) use a separate read-only pool; in WAL mode they neither
// wait for writers nor block them.
//
// synchronous=FULL: a transaction is on disk when its commit returns. With
// NORMAL, a power cut may roll back the last commits, MarkWritten and
// ReservePath among them, while the post files they describe survive (they
// are fsynced first). A rolled-back reservation lets another story take the
// name on the next run, and the first story then lands under a second name:
// a duplicate file. One more fsync per commit is cheap next to fetching a
// page.
type SQLite struct {
	w, r    *sql.DB
	applied []string // migrations applied when opened
}

// Applied lists the migrations OpenSQLite applied.
func (s *SQLite) Applied() []string { return s.applied }

var _ Backend = (*SQLite)(nil)

// OpenSQLite opens the store in the file at path, creating it and applying
// the schema migrations it lacks.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// A file: URI, so that '?', '#' and '%' in the path are the file's.
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	base := uri + "?_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + "&_foreign_keys=1"
	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &SQLite{w: w}
	if s.applied, err = s.Migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.r = r
	return s, nil
}

// Migrate applies, in order, each migration not yet in schema_migrations,
// each in its own transaction, and returns the names of those it applied:
// processes opening a new store together apply each migration once.
// OpenSQLite calls it; `newsmd migrate` reports what it did.
func (s *SQLite) Migrate(ctx context.Context) (applied []string, err error) {
	migs, err := readMigrations(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL)`)
		return err
	}); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migs {
		var done bool
		err = s.write(ctx, func(tx *sql.Tx) error {
			done = false
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.script); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixMicro())
			done = err == nil
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// write runs fn in an immediate transaction, retrying it when SQLite
// stays busy past its busy timeout (a long checkpoint, WAL recovery).
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	const retries = 3
	for attempt := 0; ; attempt++ {
		err := s.tx(ctx, fn)
		if !isBusy(err) || attempt == retries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
}

func (s *SQLite) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func isBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff       // the primary result code
	return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
}

// querier is what reads need of a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// row is a stored story with its row id.
type row struct {
	id int64
	Record
}

const recordColumns = `a.id, a.url, coalesce(a.site_key, ''), a.state, a.owner, a.lease_until,
	a.attempts, a.last_error, a.retry_at, coalesce(a.path, ''), a.sha256`

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var r row
	var lease, retry int64
	err := sc.Scan(&r.id, &r.ID.URL, &r.ID.SiteKey, &r.State, &r.Owner, &lease,
		&r.Attempts, &r.LastError, &retry, &r.Path, &r.SHA256)
	r.LeaseUntil, r.RetryAt = fromMicro(lease), fromMicro(retry)
	return r, err
}

// find returns the story id names, following the identity rule of
// Identity: by SiteKey when id has one, else (or when no story has that
// key) by URL among stories whose SiteKey does not contradict it.
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
		sc = q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM article_urls u JOIN articles a ON a.id = u.article_id
			WHERE u.url = ? AND a.site_key IS NULL ORDER BY a.id LIMIT 1`, id.URL)
	} else {
		sc = q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM article_urls u JOIN articles a ON a.id = u.article_id
			WHERE u.url = ? ORDER BY a.id LIMIT 1`, id.URL)
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
func remember(ctx context.Context, tx *sql.Tx, id Identity) (row, error) {
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
	} else if r.ID.SiteKey == "" && id.SiteKey != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET site_key = ? WHERE id = ?`, id.SiteKey, r.id); err != nil {
			return row{}, err
		}
		r.ID.SiteKey = id.SiteKey
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO article_urls (url, article_id) VALUES (?, ?)`, id.URL, r.id)
	return r, err
}

// owned returns the story id names when owner holds its claim.
func owned(ctx context.Context, tx *sql.Tx, id Identity, owner string) (row, error) {
	r, ok, err := find(ctx, tx, id)
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
func (s *SQLite) Lookup(ctx context.Context, id Identity) (Record, bool, error) {
	r, ok, err := find(ctx, s.r, id)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		refused = nil
		r, err := remember(ctx, tx, id)
		if err != nil {
			return err
		}
		rec = r.Record
		if refused = claimRefusal(r.Record, owner, now, force); refused != nil {
			return nil
		}
		rec.Owner, rec.LeaseUntil = owner, now.Add(lease)
		_, err = tx.ExecContext(ctx, `UPDATE articles SET owner = ?, lease_until = ? WHERE id = ?`,
			owner, micro(rec.LeaseUntil), r.id)
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
func (s *SQLite) Release(ctx context.Context, id Identity, owner string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE articles SET owner = '', lease_until = 0 WHERE id = ?`, r.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", id.URL, err)
	}
	return nil
}

// MarkFailed implements Backend.
func (s *SQLite) MarkFailed(ctx context.Context, id Identity, owner, reason string, permanent bool, retryAt time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		state := StateFailed
		switch {
		case r.State == StateWritten || r.State == StateKnown:
			state, retryAt = r.State, time.Time{}
		case permanent:
			state, retryAt = StatePermanent, time.Time{}
		}
		_, err = tx.ExecContext(ctx, `UPDATE articles SET owner = '', lease_until = 0, state = ?,
			attempts = attempts + 1, last_error = ?, retry_at = ? WHERE id = ?`,
			state, reason, micro(retryAt), r.id)
		return err
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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

// candidateNames lists the names ReservePath tries, in order: wantName,
// then wantName with a suffix from the SiteKey, from a hash of the URL,
// and from the hash and a counter. The suffixes depend on the story alone,
// so a story gets the same name whichever process reserves it.
func candidateNames(wantName string, id Identity) []string {
	base, hasExt := strings.CutSuffix(wantName, ".md")
	ext := ""
	if hasExt {
		ext = ".md"
	}
	names := []string{wantName}
	if key := fileSafe(id.SiteKey); key != "" {
		names = append(names, base+"-"+key+ext)
	}
	sum := sha256.Sum256([]byte(id.URL))
	hash := hex.EncodeToString(sum[:4])
	names = append(names, base+"-"+hash+ext)
	for i := 2; i <= 100; i++ {
		names = append(names, base+"-"+hash+"-"+strconv.Itoa(i)+ext)
	}
	return names
}

// fileSafe keeps the letters and digits of s and joins their runs with
// '-': "zaobao:1214802" becomes "zaobao-1214802".
func fileSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch {
		case ok:
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// MarkWritten implements Backend.
func (s *SQLite) MarkWritten(ctx context.Context, id Identity, owner, path, sha256 string) error {
	if !filepath.IsLocal(path) {
		return fmt.Errorf("mark %s written: path %q is not local", id.URL, path)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := owned(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		if err := pathFree(ctx, tx, path, r.id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE articles SET owner = '', lease_until = 0, state = 'written',
			last_error = '', retry_at = 0, path = ?, sha256 = ? WHERE id = ?`, path, sha256, r.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s written: %w", id.URL, err)
	}
	return nil
}

// pathFree returns ErrPathTaken when a story other than article holds path.
func pathFree(ctx context.Context, tx *sql.Tx, path string, article int64) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := remember(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.State == StateWritten || r.State == StateKnown {
			return nil
		}
		if err := pathFree(ctx, tx, path, r.id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE articles SET state = 'known', last_error = '', retry_at = 0,
			path = ? WHERE id = ?`, path, r.id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s known: %w", id.URL, err)
	}
	return nil
}

// Due implements Backend.
func (s *SQLite) Due(ctx context.Context, now time.Time, limit int) ([]Record, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM articles a
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

// FeedState implements Backend.
func (s *SQLite) FeedState(ctx context.Context, feedURL string) (FeedState, error) {
	st := FeedState{FeedURL: feedURL}
	var last, next int64
	var owner string
	var lease int64
	err := s.r.QueryRowContext(ctx, `SELECT etag, last_modified, last_poll, next_poll, failures, last_error, owner, lease_until
		FROM feeds WHERE url = ?`, feedURL).Scan(&st.ETag, &st.LastModified, &last, &next, &st.Failures, &st.LastError, &owner, &lease)
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

// NoteFailure implements Backend.
func (s *SQLite) NoteFailure(ctx context.Context, url string, now time.Time, feedCopy []byte) (Failure, error) {
	var f Failure
	if feedCopy == nil {
		feedCopy = []byte{}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var since int64
		err := tx.QueryRowContext(ctx, `INSERT INTO failures (url, since, feed_copy) VALUES (?1, ?2, ?3)
			ON CONFLICT (url) DO UPDATE SET feed_copy = CASE WHEN length(?3) > 0 THEN ?3 ELSE failures.feed_copy END
			RETURNING since, feed_copy`, url, micro(now), feedCopy).Scan(&since, &f.FeedCopy)
		f.Since = fromMicro(since)
		return err
	})
	if err != nil {
		return Failure{}, fmt.Errorf("note failure of %s: %w", url, err)
	}
	return f, nil
}

// SaveFeedState implements Backend.
func (s *SQLite) SaveFeedState(ctx context.Context, st FeedState) error {
	if st.FeedURL == "" {
		return errors.New("save feed state: empty feed URL")
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO feeds (url, owner, lease_until) VALUES (?1, ?2, ?3)
			ON CONFLICT (url) DO UPDATE SET owner = ?2, lease_until = ?3
			WHERE feeds.owner = '' OR feeds.owner = ?2 OR feeds.lease_until <= ?4`,
			feedURL, owner, micro(now.Add(lease)), micro(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim feed %s: %w", feedURL, err)
	}
	return won, nil
}

// ReleaseFeed implements Backend.
func (s *SQLite) ReleaseFeed(ctx context.Context, feedURL, owner string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET owner = '', lease_until = 0 WHERE url = ? AND owner = ? AND owner != ''`, feedURL, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpErr(err, ErrNotOwner)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release feed %s: %w", feedURL, err)
	}
	return nil
}

// cmpErr returns err, or otherwise when err is nil.
func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Stats implements Backend.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	rows, err := s.r.QueryContext(ctx, `SELECT state, count(*) FROM articles GROUP BY state`)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state State
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return Stats{}, fmt.Errorf("stats: %w", err)
		}
		switch state {
		case StatePending:
			st.Pending = n
		case StateFailed:
			st.Failed = n
		case StatePermanent:
			st.Permanent = n
		case StateWritten:
			st.Written = n
		case StateKnown:
			st.Known = n
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	err = s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM articles WHERE owner != ''), (SELECT count(*) FROM feeds)`).
		Scan(&st.Claimed, &st.Feeds)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// Ping implements Backend: the file can be read.
func (s *SQLite) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close implements Backend.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicro(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
