package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/newsmd/newsmd/store"
	"github.com/newsmd/newsmd/store/storetest"
)

// postgresEnv names the server the PostgreSQL tests use, when it is not
// the default one. A server that cannot be reached skips them, saying so,
// except under CI (the CI variable set), where .ci/run has started one
// and its absence is a failure.
const postgresEnv = "NEWSMD_TEST_POSTGRES"

func postgresDSN() string {
	if dsn := os.Getenv(postgresEnv); dsn != "" {
		return dsn
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

// connectAdmin connects to the test server outside any test schema; see
// postgresEnv for when it skips.
func connectAdmin(t testing.TB, ctx context.Context) *pgx.Conn {
	t.Helper()
	conn, err := dialAdmin(ctx)
	if err != nil {
		postgresUnavailable(t, err)
	}
	return conn
}

func dialAdmin(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, postgresDSN())
}

// postgresUnavailable ends a test that could not connect to the test
// server: a skip when nothing answers there (outside CI), else a failure.
func postgresUnavailable(t testing.TB, err error) {
	t.Helper()
	addr := postgresEnv
	if c, perr := pgconn.ParseConfig(postgresDSN()); perr == nil {
		addr = net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	}
	const hint = "start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) " +
		"or set " + postgresEnv + " to another server's DSN"
	var dial *net.OpError
	switch {
	case !errors.As(err, &dial) || dial.Op != "dial":
		t.Fatalf("PostgreSQL at %s refused the test connection: %v\nhint: the tests use its database test, as root with trust auth, or set %s", addr, err, postgresEnv)
	case os.Getenv("CI") != "":
		t.Fatalf("PostgreSQL not reachable at %s: %v\nCI is set, and under CI the PostgreSQL tests must run: %s", addr, err, hint)
	default:
		t.Skipf("PostgreSQL not reachable at %s: %v; %s (with CI set, this is a failure)", addr, err, hint)
	}
}

// needPostgres skips or fails the test at once, as connectAdmin does,
// when the test server cannot be reached: before subtests that would
// each say so.
func needPostgres(t *testing.T) {
	t.Helper()
	connectAdmin(t, t.Context()).Close(context.Background())
}

// postgresSchema creates an empty schema of its own for the test, dropped
// when it ends, and returns its name and a DSN whose connections use it.
func postgresSchema(t testing.TB) (schema, dsn string) {
	t.Helper()
	conn := connectAdmin(t, t.Context())
	defer conn.Close(context.Background())
	schema = "newsmd_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := dialAdmin(ctx)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return schema, withSearchPath(t, postgresDSN(), schema)
}

// withSearchPath adds search_path=schema to a URL or key=value DSN.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t testing.TB, dsn string) *store.Postgres {
	t.Helper()
	p, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPostgresConformance(t *testing.T) {
	needPostgres(t)
	storetest.Run(t, func(t *testing.T) store.Backend {
		_, dsn := postgresSchema(t)
		return openPostgres(t, dsn)
	})
}

// postgresMigrationNames lists the migration files, in order.
func postgresMigrationNames(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "postgres", "*.sql"))
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations: got %v, %v; want at least two", names, err)
	}
	for i, name := range names {
		names[i] = filepath.Base(name)
	}
	slices.Sort(names)
	return names
}

// schemaSnapshot describes schema: its columns, indexes, constraints and
// applied migrations, one line each.
func schemaSnapshot(t *testing.T, schema string) []string {
	t.Helper()
	conn := connectAdmin(t, t.Context())
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), `
		SELECT format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable, column_default)
			FROM information_schema.columns WHERE table_schema = $1
		UNION ALL
		SELECT format('index %s.%s', tablename, indexdef) FROM pg_indexes WHERE schemaname = $1
		UNION ALL
		SELECT format('constraint %s.%s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
			FROM pg_constraint WHERE connamespace = $1::regnamespace
		UNION ALL
		SELECT format('migration %s at %s', version, applied_at) FROM `+schema+`.schema_migrations
		ORDER BY 1`, schema)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestPostgresMigrate: a fresh database gets every migration; migrating
// again changes nothing.
func TestPostgresMigrate(t *testing.T) {
	schema, dsn := postgresSchema(t)
	p := openPostgres(t, dsn)
	before := schemaSnapshot(t, schema)
	for _, name := range postgresMigrationNames(t) {
		version, _, _ := strings.Cut(name, "_")
		n, _ := strconv.Atoi(version)
		if !slices.ContainsFunc(before, func(line string) bool { return strings.HasPrefix(line, fmt.Sprintf("migration %d at ", n)) }) {
			t.Errorf("fresh database: migration %s not recorded in schema_migrations", name)
		}
	}
	applied, err := p.Migrate(t.Context())
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate: got %v, %v; want nothing applied", applied, err)
	}
	if after := schemaSnapshot(t, schema); !slices.Equal(after, before) {
		t.Errorf("second Migrate changed the schema:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// migratePrevious brings the schema dsn uses to the previous version: it
// applies every migration but the last, as the previous release did, and
// returns the last one's name.
func migratePrevious(t *testing.T, conn *pgx.Conn) (last string) {
	t.Helper()
	names := postgresMigrationNames(t)
	for _, name := range names[:len(names)-1] {
		script, err := os.ReadFile(filepath.Join("migrations", "postgres", name))
		if err != nil {
			t.Fatal(err)
		}
		version, _, _ := strings.Cut(name, "_")
		if _, err := conn.Exec(t.Context(), string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, version); err != nil {
			t.Fatal(err)
		}
	}
	return names[len(names)-1]
}

// TestPostgresMigrateFromPrevious: a database holding stories at the
// previous schema version is brought up to date at open and keeps its
// stories.
func TestPostgresMigrateFromPrevious(t *testing.T) {
	ctx := t.Context()
	schema, dsn := postgresSchema(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	last := migratePrevious(t, conn)

	// A written story, a claimed one and a feed, stored by the previous
	// release.
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	written := store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1214802", SiteKey: "zaobao:1214802"}
	claimed := store.Identity{URL: "https://example.com/news/1"}
	_, err = conn.Exec(ctx, `
		WITH a AS (INSERT INTO articles (url, site_key, state, path, sha256)
			VALUES ($1, $2, 'written', 'post.md', '00ff') RETURNING id)
		INSERT INTO article_urls (url, article_id) SELECT $1, id FROM a`, written.URL, written.SiteKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `
		WITH a AS (INSERT INTO articles (url, owner, lease_until) VALUES ($1, 'worker-1', $2) RETURNING id)
		INSERT INTO article_urls (url, article_id) SELECT $1, id FROM a`, claimed.URL, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	feed := store.FeedState{FeedURL: "https://example.com/feed", ETag: `"e"`, LastPoll: now}
	if _, err := conn.Exec(ctx, `INSERT INTO feeds (url, etag, last_poll) VALUES ($1, $2, $3)`, feed.FeedURL, feed.ETag, feed.LastPoll); err != nil {
		t.Fatal(err)
	}

	p := openPostgres(t, dsn)
	rows, _ := conn.Query(ctx, `SELECT version FROM `+schema+`.schema_migrations ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if want := len(postgresMigrationNames(t)); len(versions) != want {
		t.Errorf("after open: versions %v applied, want %d (up to %s)", versions, want, last)
	}
	if rec, ok, err := p.Lookup(ctx, written); err != nil || !ok || rec.State != store.StateWritten || rec.Path != "post.md" || rec.SHA256 != "00ff" {
		t.Errorf("written story: got %+v, %v, %v; want written at post.md", rec, ok, err)
	}
	if rec, ok, err := p.Lookup(ctx, claimed); err != nil || !ok || rec.Owner != "worker-1" || !rec.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed story: got %+v, %v, %v; want claimed by worker-1 until %v", rec, ok, err, now.Add(time.Minute))
	}
	if _, err := p.Claim(ctx, claimed, "worker-2", time.Minute, now); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("claim of the claimed story: got %v, want ErrClaimed", err)
	}
	if got, err := p.FeedState(ctx, feed.FeedURL); err != nil || got != feed {
		t.Errorf("feed state: got %+v, %v; want %+v", got, err, feed)
	}
	if applied, err := p.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Errorf("Migrate after open: got %v, %v; want nothing applied", applied, err)
	}
}

// TestPostgresMigrateReports: Migrate names the migrations it applied, for
// `newsmd migrate` to print. OpenPostgres migrates, so the test swaps the
// store's schema, under the name its connections use, for one at the
// previous version.
func TestPostgresMigrateReports(t *testing.T) {
	ctx := t.Context()
	schema, dsn := postgresSchema(t)
	p := openPostgres(t, dsn)
	previous, previousDSN := postgresSchema(t)
	conn, err := pgx.Connect(ctx, previousDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	last := migratePrevious(t, conn)
	// The cleanups drop both schemas by their names: swap them.
	_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER SCHEMA %[1]s RENAME TO %[1]s_swap;
		ALTER SCHEMA %[2]s RENAME TO %[1]s; ALTER SCHEMA %[1]s_swap RENAME TO %[2]s`, schema, previous))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := p.Migrate(ctx)
	if err != nil || !slices.Equal(applied, []string{last}) {
		t.Errorf("Migrate: got %v, %v; want [%s]", applied, err, last)
	}
}

// TestPostgresConcurrentOpen: workers starting together on a new database
// all open it, and each migration is applied once.
func TestPostgresConcurrentOpen(t *testing.T) {
	schema, dsn := postgresSchema(t)
	const workers = 4
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			p, err := store.OpenPostgres(t.Context(), dsn)
			if err == nil {
				err = p.Ping(t.Context())
				p.Close()
			}
			errs[w] = err
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
	conn := connectAdmin(t, t.Context())
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+schema+`.schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := len(postgresMigrationNames(t)); n != want {
		t.Errorf("got %d migrations recorded, want %d", n, want)
	}
}

// TestPostgresConcurrentVariantClaims: workers claiming one story at once
// under different URLs of it, which take no lock in common, still see one
// winner: the story's row is what serialises them. (The conformance suite
// claims a story under one identity at a time.)
func TestPostgresConcurrentVariantClaims(t *testing.T) {
	const workers = 8
	ctx := t.Context()
	_, dsn := postgresSchema(t)
	p := openPostgres(t, dsn)
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for round := range 10 {
		key := fmt.Sprintf("zaobao:%d", round)
		variants := make([]store.Identity, workers)
		for w := range variants {
			variants[w] = store.Identity{URL: fmt.Sprintf("https://www.zaobao.com/news/%d/story-%d", w, round), SiteKey: key}
			if _, err := p.Claim(ctx, variants[w], "setup", time.Minute, t0); err != nil {
				t.Fatal(err)
			}
			variants[w].SiteKey = "" // known by its URL alone from now on
		}
		if err := p.Release(ctx, variants[0], "setup"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				_, errs[w] = p.Claim(ctx, variants[w], fmt.Sprintf("worker-%d", w), time.Minute, t0)
			})
		}
		wg.Wait()
		won := 0
		for w, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrClaimed):
				t.Errorf("round %d, worker %d: got %v, want nil or ErrClaimed", round, w, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d workers won the claim, want 1", round, won)
		}
	}
}

// TestPostgresOpenError: a server that does not answer is an error that
// names it, without the password.
func TestPostgresOpenError(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dsn := "postgres://newsmd:s3cret@127.0.0.1:1/newsmd?sslmode=disable&connect_timeout=2"
	p, err := store.OpenPostgres(ctx, dsn)
	if err == nil {
		p.Close()
		t.Fatalf("OpenPostgres(%s): got nil, want an error", dsn)
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "s3cret") {
		t.Errorf("got %q, want an error naming 127.0.0.1 without the password", msg)
	}
}

// The PostgreSQL multi-process test: helper processes run
// TestPostgresHelperProcess.
const postgresHelperEnv = "NEWSMD_STORE_PG_HELPER"

// TestPostgresProcesses: four processes claim and publish the same 200
// stories into one folder at once, as three workers on a shared volume
// would. Every story ends up written exactly once: one file each, whole,
// from one process, and no temporary file is left.
func TestPostgresProcesses(t *testing.T) {
	if os.Getenv(postgresHelperEnv) != "" {
		t.Skip("helper process")
	}
	_, dsn := postgresSchema(t) // the processes migrate it together
	dir := t.TempDir()
	runPublishers(t, "TestPostgresHelperProcess", dir, func(p int) string {
		return fmt.Sprintf("%s=%d:%s:%s", postgresHelperEnv, p, dir, dsn)
	})
	checkPublished(t, openPostgres(t, dsn), filepath.Join(dir, "_posts"))
}

// TestPostgresHelperProcess is one process of TestPostgresProcesses; it
// runs only when that test starts it.
func TestPostgresHelperProcess(t *testing.T) {
	arg := os.Getenv(postgresHelperEnv)
	if arg == "" {
		t.Skip("run by TestPostgresProcesses")
	}
	parts := strings.SplitN(arg, ":", 3) // the DSN last: it holds colons
	proc, dir, dsn := parts[0], parts[1], parts[2]
	b, err := store.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	publishAll(t, store.New(b, filepath.Join(dir, "_posts")), dir, proc)
}

func BenchmarkPostgresClaimPublish(b *testing.B) {
	_, dsn := postgresSchema(b)
	benchClaimPublish(b, openPostgres(b, dsn), filepath.Join(b.TempDir(), "_posts"))
}

// BenchmarkPostgresClaimMark is BenchmarkPostgresClaimPublish without the
// file: the store's share of publishing a post.
func BenchmarkPostgresClaimMark(b *testing.B) {
	_, dsn := postgresSchema(b)
	benchClaimMark(b, openPostgres(b, dsn))
}
