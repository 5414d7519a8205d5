package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"sync/atomic"
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
	commits atomic.Int64
}

// WriteTransactions counts the write transactions this SQLite committed
// since it was opened (each one an fsync of the write-ahead log): what an
// idle daemon should not add to.
func (s *SQLite) WriteTransactions() int64 { return s.commits.Load() }

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
	if err := tx.Commit(); err != nil {
		return err
	}
	s.commits.Add(1)
	return nil
}

func isBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff       // the primary result code
	return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
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
