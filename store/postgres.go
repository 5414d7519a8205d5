package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"syscall"
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
//     owner and lease are checked, by the rules of policy.go, and changed
//     under the row lock; steps that need the claim (Release, MarkFailed,
//     ReservePath, MarkWritten) do the same.
//   - Paths are unique by constraint. ReservePath picks the first
//     candidate name no committed story holds; when a concurrent
//     transaction took it meanwhile, the unique index makes the update
//     wait for it and fail, and the transaction is run again.
//   - A feed's lease and a host's budget are read the same way, with
//     SELECT … FOR UPDATE on the feed's or the host's row, which ClaimFeed
//     and the host gate first create when missing (INSERT … ON CONFLICT DO
//     NOTHING). NoteFailure locks the story's failure row; when there is
//     none yet and a concurrent transaction inserts it first, NoteFailure
//     is run again and finds it.
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
	if errors.Is(err, errPathRace) || errors.Is(err, errFailureRace) {
		return true
	}
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// Unavailable reports whether err says that the database server could not
// be reached, or is not taking connections yet (starting up, shutting
// down, in recovery): waiting for it may help, unlike a wrong DSN,
// password or schema.
func Unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED)
}

// isPathTaken reports whether err is the violation of the unique paths.
func isPathTaken(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" && e.ConstraintName == "articles_path_key"
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
