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
	"sync"
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
// Writes go through one connection whose transactions begin with BEGIN
// IMMEDIATE: a transaction takes the file's write lock before it reads, so a claim's read-check-write is atomic across
// processes. One goroutine (commitLoop) owns that connection: it runs the
// writes waiting, each in a savepoint, in one transaction, and commits them
// together (group commit), so concurrent writers of this process share an
// fsync instead of queueing for one each. Another process holding the lock
// is waited for up to busyTimeout, and a batch that still meets SQLITE_BUSY
// is retried a few times. Each query is prepared once per connection
// (stmts), not parsed at every call. Reads (Lookup, Due, Stats,
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
	conn    *sql.Conn // w's one connection, commitLoop's
	wst     *stmts    // conn's prepared statements
	rst     *stmts    // r's
	applied []string  // migrations applied when opened
	commits atomic.Int64

	writes   chan *writeReq // to commitLoop
	closed   chan struct{}  // closed by Close
	loopDone chan struct{}  // closed by commitLoop when it returns
	once     sync.Once
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
	conn, err := writerConn(ctx, w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &SQLite{w: w, conn: conn, wst: newStmts(conn), writes: make(chan *writeReq), closed: make(chan struct{}), loopDone: make(chan struct{})}
	go s.commitLoop()
	if s.applied, err = s.Migrate(ctx); err != nil {
		s.stop()
		s.closeWriter()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_query_only=1")
	if err != nil {
		s.stop()
		s.closeWriter()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.r, s.rst = r, newStmts(r)
	return s, nil
}

// writerConn opens w's one connection. Opening sets the file's journal
// mode, which processes opening a new store together may find locked
// without SQLite waiting (SQLITE_BUSY at once): that is retried, as a
// busy write is.
func writerConn(ctx context.Context, w *sql.DB) (*sql.Conn, error) {
	for attempt := 0; ; attempt++ {
		conn, err := w.Conn(ctx)
		if !isBusy(err) || attempt == 8 {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(25<<min(attempt, 4)) * time.Millisecond):
		}
	}
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
	if err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL)`)
		return err
	}); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migs {
		var done bool
		err = s.write(ctx, func(ctx context.Context, tx *wtx) error {
			done = false
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil || n > 0 {
				return err
			}
			// A script of several statements: run unprepared, as a whole.
			if _, err := tx.conn.ExecContext(ctx, m.script); err != nil {
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

// writeFunc is one atomic write: it runs in its own savepoint of a
// shared transaction, and either all it did is committed or none.
type writeFunc func(ctx context.Context, tx *wtx) error

type writeReq struct {
	ctx  context.Context
	fn   writeFunc
	done chan error // buffered: the committer never waits on a caller
}

// maxBatch bounds the writes one transaction carries.
const maxBatch = 64

// errClosed answers a write asked of a closed store.
var errClosed = errors.New("store closed")

// write runs fn as one atomic write and returns once it is committed (on
// disk, synchronous=FULL) or has failed. Writes asked at the same time
// share one transaction, and so one fsync: see commitLoop.
func (s *SQLite) write(ctx context.Context, fn writeFunc) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
	// Once taken, a write is answered, even when ctx ends meanwhile:
	// the caller must know whether it was committed.
	return <-req.done
}

// commitLoop is group commit: it takes the writes waiting (at least one,
// at most maxBatch), runs each in a savepoint of one immediate transaction
// and commits them together, so that the writers of one process pay one
// fsync between them instead of one each. While a batch commits, the next
// gathers. A write that fails rolls back to its savepoint only; a commit
// that fails fails every write of the batch. Until Close.
func (s *SQLite) commitLoop() {
	defer close(s.loopDone)
	for {
		var batch []*writeReq
		select {
		case req := <-s.writes:
			batch = append(batch, req)
		case <-s.closed:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

// commit runs batch, retrying it when SQLite stays busy past its busy
// timeout (another process's long checkpoint, WAL recovery), and answers
// each write.
func (s *SQLite) commit(batch []*writeReq) {
	const retries = 3
	var (
		errs []error
		err  error
	)
	for attempt := 0; ; attempt++ {
		errs, err = s.runBatch(batch)
		if !isBusy(err) || attempt == retries {
			break
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
	}
	for i, req := range batch {
		if errs[i] != nil {
			req.done <- errs[i]
		} else {
			req.done <- err
		}
	}
}

// runBatch runs the writes of batch in one transaction: their own errors,
// and the transaction's.
func (s *SQLite) runBatch(batch []*writeReq) ([]error, error) {
	errs := make([]error, len(batch))
	ctx := context.Background() // a caller's ending ctx must not cut the others' transaction
	if _, err := s.conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return errs, err
	}
	tx := &wtx{conn: s.conn, c: s.wst}
	rollback := func(err error) ([]error, error) {
		s.conn.ExecContext(ctx, `ROLLBACK`)
		return errs, err
	}
	wrote := false
	for i, req := range batch {
		if errs[i] = req.ctx.Err(); errs[i] != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			return rollback(err)
		}
		// Without its cancellation: an interrupted statement would roll
		// back the whole transaction, the other writes with it.
		if errs[i] = req.fn(context.WithoutCancel(req.ctx), tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				return rollback(err)
			}
		} else {
			wrote = true
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			return rollback(err)
		}
	}
	if !wrote {
		return rollback(nil)
	}
	if _, err := s.conn.ExecContext(ctx, `COMMIT`); err != nil {
		return rollback(err)
	}
	s.commits.Add(1)
	return errs, nil
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
	if err := s.rst.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close implements Backend. Writes under way are answered first.
func (s *SQLite) Close() error {
	s.stop()
	return errors.Join(s.rst.close(), s.r.Close(), s.closeWriter())
}

func (s *SQLite) closeWriter() error {
	return errors.Join(s.wst.close(), s.conn.Close(), s.w.Close())
}

// stop ends commitLoop, after the batch it is committing.
func (s *SQLite) stop() {
	s.once.Do(func() { close(s.closed) })
	<-s.loopDone
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
