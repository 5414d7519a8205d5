package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// pgSchema makes a fresh schema in the test database and returns a DSN
// whose search_path is that schema; it is dropped after the test.
func pgSchema(t *testing.T) string {
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
