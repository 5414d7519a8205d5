package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// pgSchema makes a fresh schema in the test database and returns a DSN
// whose search_path is that schema; it is dropped after the test.
func pgSchema(t *testing.T) string {
	t.Helper()
	return pgSchemaTB(t)
}

func pgSchemaTB(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("NEWSMD_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v\nstart it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", dsn, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("newsmd_cmd_%d", rand.Int64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// TestPostgresEndToEnd: migrate, then once and once again, on PostgreSQL.
func TestPostgresEndToEnd(t *testing.T) {
	dsn := pgSchema(t)
	stories := fakesite.Stories(16, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	c := DefaultConfig()
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
// host ever sees more requests at once, or closer together, than
// configured.
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
	c := DefaultConfig()
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

	var workers []*exec.Cmd
	for range 3 {
		cmd := exec.Command(newsmdBinary(t), "run", "--config", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, cmd)
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
	for _, w := range workers[1:] {
		w.Process.Signal(syscall.SIGTERM)
		if err := w.Wait(); err != nil {
			t.Errorf("worker exited with %v after SIGTERM", err)
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
		// Starts are spaced by the delay: over the whole run, the span of
		// the host's request starts is at least delay per gap. (Single
		// gaps are not checked: a request that leaves a few milliseconds
		// late on a loaded machine shortens the gap after it, not the
		// span.)
		rs := s.Requests()
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start.Before(rs[j].Start) })
		if n := len(rs); n > 1 {
			span, want := rs[n-1].Start.Sub(rs[0].Start), time.Duration(n-1)*delay-100*time.Millisecond
			if span < want {
				t.Errorf("host %d saw %d requests in %v, want at least %v at one per %v", k, n, span, want, delay)
			}
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
