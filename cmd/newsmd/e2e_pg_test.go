package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// pgSchema makes a fresh schema in the test database and returns a DSN
// whose search_path is that schema; it is dropped after the test. The
// server is NEWSMD_TEST_POSTGRES, or the default one. When it cannot be
// reached the test is skipped, saying so, except under CI (the CI
// variable set), where .ci/run has started one and its absence is a
// failure.
func pgSchema(t *testing.T) string {
	t.Helper()
	return pgSchemaTB(t)
}

const pgEnv = "NEWSMD_TEST_POSTGRES"

func pgDSN() string {
	if dsn := os.Getenv(pgEnv); dsn != "" {
		return dsn
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

func pgSchemaTB(t testing.TB) string {
	t.Helper()
	dsn := pgDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		pgUnavailable(t, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("newsmd_cmd_%d", rand.Int64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// pgUnavailable ends a test that could not connect to the test server: a
// skip when nothing answers there (outside CI), else a failure.
func pgUnavailable(t testing.TB, err error) {
	t.Helper()
	addr := pgEnv
	if c, perr := pgconn.ParseConfig(pgDSN()); perr == nil {
		addr = net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
	}
	const hint = "start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) " +
		"or set " + pgEnv + " to another server's DSN"
	var dial *net.OpError
	switch {
	case !errors.As(err, &dial) || dial.Op != "dial":
		t.Fatalf("PostgreSQL at %s refused the test connection: %v\nhint: the tests use its database test, as root with trust auth, or set %s", addr, err, pgEnv)
	case os.Getenv("CI") != "":
		t.Fatalf("PostgreSQL not reachable at %s: %v\nCI is set, and under CI the PostgreSQL tests must run: %s", addr, err, hint)
	default:
		t.Skipf("PostgreSQL not reachable at %s: %v; %s (with CI set, this is a failure)", addr, err, hint)
	}
}

// TestPostgresEndToEnd: migrate, then once and once again, on PostgreSQL.
func TestPostgresEndToEnd(t *testing.T) {
	dsn := pgSchema(t)
	stories := fakesite.Stories(16, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Store.Driver = "postgres"
	c.Store.DSN = dsn
	cfg := writeYAMLConfig(t, c, dir)

	code, out, errOut := run1(t, "migrate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "applied 0001_init.sql") || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := run1(t, "migrate", "--config", cfg); code != 0 || strings.Contains(out, "applied") {
		t.Errorf("second migrate: exit %d, %s", code, out)
	}
	code, out, errOut = run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "16 written") {
		t.Fatalf("once on postgres: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := run1(t, "once", "--config", cfg); code != 0 || !strings.Contains(out, "0 written") {
		t.Errorf("second once: exit %d, %s", code, out)
	}
	if n := len(storyIDs(t, posts(t, dir))); n != 16 {
		t.Errorf("got %d stories on disk, want 16", n)
	}

	// A password in the DSN is refused; from the environment it is used.
	c.Store.DSN = strings.Replace(dsn, "root@", "root:hunter2xyz@", 1)
	bad := writeYAMLConfig(t, c, t.TempDir())
	if code, _, errOut := run1(t, "config", "check", "--config", bad); code != exitUsage || !strings.Contains(errOut, "NEWSMD_STORE_PASSWORD") || strings.Contains(errOut, "hunter2xyz") {
		t.Errorf("DSN with a password: exit %d, %s", code, errOut)
	}
}

// TestWorkersOnPostgres: three real newsmd run workers share PostgreSQL,
// a fake site of 1,000 stories on three hosts and one archive folder; one
// is killed with SIGKILL mid-run. Every story is written exactly once, no
// partial file is left, no feed is polled by two workers at once, and no
// host ever sees more requests at once than configured, or its requests
// come in faster than one per delay over the run.
func TestWorkersOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("a 1,000-story run")
	}
	dsn := pgSchema(t)
	const (
		perHost     = 334
		concurrency = 2
		delay       = 30 * time.Millisecond
	)
	var sites []*fakesite.Site
	total := 0
	for k := range 3 {
		stories := fakesite.Stories(perHost, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
		for i := range stories {
			stories[i].ID += 100000 * (k + 1)
		}
		total += len(stories)
		s := fakesite.New(stories)
		defer s.Close()
		sites = append(sites, s)
	}
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, sites[0], dir), c)
	c.Store.Driver, c.Store.DSN = "postgres", dsn
	c.Sites[0].CanonicalHost = "" // each fake host keeps its own URLs
	for _, s := range sites {
		c.Sites[0].Hosts = append(c.Sites[0].Hosts, s.Host()) // and its port
	}
	c.Fetch.Concurrency = concurrency
	c.Fetch.Delay = delay
	c.Fetch.Timeout = 5 * time.Second
	c.Crawl.Lease = 10 * time.Second
	c.Crawl.Workers = 3
	c.Server.Listen = ""
	c.Server.Tick = 200 * time.Millisecond
	c.Feeds = nil
	for k, s := range sites {
		for _, sec := range fakesite.Sections {
			c.Feeds = append(c.Feeds, yamlFeed(fmt.Sprintf("h%d-%s", k, sec), "rss", s.FeedURL(sec)))
		}
	}
	cfg := writeYAMLConfig(t, c, dir)
	if code, out, errOut := run1(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %s %s", out, errOut)
	}

	var (
		workers []*exec.Cmd
		logs    []*lockedBuffer
	)
	for range 3 {
		cmd := exec.Command(newsmdBinary(t), "run", "--config", cfg)
		log := &lockedBuffer{}
		cmd.Stderr = log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		workers, logs = append(workers, cmd), append(logs, log)
		defer cmd.Process.Kill()
	}
	time.Sleep(1500 * time.Millisecond)
	workers[0].Process.Signal(syscall.SIGKILL)
	workers[0].Wait()
	t.Logf("killed worker 0 with %d posts written", countMD(dir))

	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) && countMD(dir) < total {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a tick: housekeeping of leftovers
	for i, w := range workers[1:] {
		w.Process.Signal(syscall.SIGTERM)
		if err := stoppedBySIGTERM(w.Wait()); err != nil {
			t.Errorf("worker %d exited with %v after SIGTERM; its warnings and errors:\n%s", i+1, err, logs[i+1].lines("level=WARN", "level=ERROR", "error:"))
		}
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != total || len(ids) != total {
		t.Errorf("got %d posts for %d stories, want %d each", len(ps), len(ids), total)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("story %s written %d times", id, n)
		}
	}
	for k, s := range sites {
		if got := s.MaxInFlight(); got > concurrency {
			t.Errorf("host %d saw %d requests at once, configured %d", k, got, concurrency)
		}
		// Starts are spaced by the delay, checked over every stretch of
		// the run rather than between neighbours. The shared gate
		// reserves each start at least a delay after the one before, and
		// no request reaches the host before its reserved start. So the
		// j-th request the host sees comes no sooner than the j-th
		// reserved start, and the i-th no later than the i-th reserved
		// start plus how late a request can be: requests i to j span at
		// least (j-i) delays less that lateness, for which a second is
		// allowed (a worker stalled that long). A late request only
		// shortens the gap after it, so single gaps are no measure; a
		// host that got its requests without the delay would see
		// stretches of many requests in far less.
		rs := s.Requests()
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		const margin = time.Second
		if i, j, short := densest(rs, delay); short > margin {
			t.Errorf("host %d saw requests %d to %d of %d in %v, want at least %v (one per %v, less %v)",
				k, i+1, j+1, len(rs), rs[j].Start.Sub(rs[i].Start), time.Duration(j-i)*delay-margin, delay, margin)
		}
		if n := len(rs); n > 1 {
			t.Logf("host %d: %d requests in %v", k, n, rs[n-1].Start.Sub(rs[0].Start).Round(time.Millisecond))
		}
		// No feed polled by two workers at once.
		byFeed := map[string][]fakesite.Request{}
		for _, r := range s.Requests() {
			if strings.HasPrefix(r.Path, "/rsshub/") {
				byFeed[r.Path] = append(byFeed[r.Path], r)
			}
		}
		for path, rs := range byFeed {
			sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
			for i := 1; i < len(rs); i++ {
				if rs[i].Start.Before(rs[i-1].End) {
					t.Errorf("%s polled by two workers at once", path)
				}
			}
		}
	}
}

// densest finds, among requests sorted by start, the stretch from i to j
// whose span falls furthest short of (j-i) delays, and by how much.
func densest(rs []fakesite.Request, delay time.Duration) (i, j int, short time.Duration) {
	// With b(k) = start(k) - k·delay, stretch i..j falls short by
	// b(i) - b(j): the largest b before each j is all that is needed.
	b := func(k int) time.Duration { return rs[k].Start.Sub(rs[0].Start) - time.Duration(k)*delay }
	top := 0
	for k := 1; k < len(rs); k++ {
		if d := b(top) - b(k); d > short {
			i, j, short = top, k, d
		}
		if b(k) > b(top) {
			top = k
		}
	}
	return i, j, short
}

func countMD(dir string) int {
	entries, _ := os.ReadDir(filepath.Join(dir, "_posts"))
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}
