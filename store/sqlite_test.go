package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
	"github.com/newsmd/newsmd/store/storetest"
)

func openSQLite(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		return openSQLite(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

// TestSQLiteReopen: the state survives closing and opening the file again,
// and opening applies no migration twice.
func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	id := store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1214802", SiteKey: "zaobao:1214802"}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, id, "a", time.Minute, now); err != nil {
		t.Fatal(err)
	}
	name, err := s.ReservePath(ctx, id, "a", "post.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkWritten(ctx, id, "a", name, "00ff"); err != nil {
		t.Fatal(err)
	}
	feed := store.FeedState{FeedURL: "https://example.com/feed", ETag: `"e"`, LastPoll: now}
	if err := s.SaveFeedState(ctx, feed); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		s := openSQLite(t, path)
		rec, ok, err := s.Lookup(ctx, id)
		if err != nil || !ok || rec.State != store.StateWritten || rec.Path != "post.md" {
			t.Errorf("open %d: got %+v, %v, %v; want written at post.md", i, rec, ok, err)
		}
		if got, err := s.FeedState(ctx, feed.FeedURL); err != nil || got != feed {
			t.Errorf("open %d: feed state: got %+v, %v; want %+v", i, got, err, feed)
		}
	}
}

// TestSQLiteMigrateFromPrevious: a file holding stories at the previous
// schema version (every migration but the last, as the previous release
// left it) is brought up to date at open, keeps its stories, and takes the
// last migrations' steps: here, a written story's truncated post, and its
// count kept for Stats.
func TestSQLiteMigrateFromPrevious(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	names, err := filepath.Glob(filepath.Join("migrations", "sqlite", "*.sql"))
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations: got %v, %v; want at least two", names, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names[:len(names)-1] {
		script, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		version, _ := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if _, err := db.ExecContext(ctx, string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 1)`, version); err != nil {
			t.Fatal(err)
		}
	}
	id := store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1214802", SiteKey: "zaobao:1214802"}
	if _, err := db.ExecContext(ctx, `INSERT INTO articles (id, url, site_key, state, path, sha256) VALUES (1, ?, ?, 'written', 'post.md', '00ff')`,
		id.URL, id.SiteKey); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO article_urls (url, article_id) VALUES (?, 1)`, id.URL); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openSQLite(t, path)
	if got, want := s.Applied(), []string{filepath.Base(names[len(names)-1])}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("applied at open: got %v, want %v", got, want)
	}
	want := store.Record{ID: id, State: store.StateWritten, Path: "post.md", SHA256: "00ff"}
	if rec, ok, err := s.Lookup(ctx, id); err != nil || !ok || rec != want {
		t.Fatalf("written story: got %+v, %v, %v; want %+v", rec, ok, err, want)
	}
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{Written: 1}) {
		t.Errorf("Stats after the upgrade: got %+v, %v; want the written story counted", st, err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if _, err := s.ClaimRefetch(ctx, id, "a", time.Minute, now); !errors.Is(err, store.ErrNoRefetch) {
		t.Errorf("ClaimRefetch of a story stored before: got %v, want ErrNoRefetch", err)
	}
	if _, err := s.ForceClaim(ctx, id, "a", time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTruncated(ctx, id, "a", "post.md", "0a0a", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due, err := s.DueRefetch(ctx, now.Add(time.Hour), 10); err != nil || len(due) != 1 || !due[0].Truncated {
		t.Errorf("DueRefetch after the upgrade: got %+v, %v; want the story", due, err)
	}
}

// TestSQLiteConcurrentOpen: processes starting together on a new file
// (here: connections of one process) all open it, and the schema is applied
// once.
func TestSQLiteConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			s, err := store.OpenSQLite(t.Context(), path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s := openSQLite(t, path)
	if err := s.Ping(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestSQLitePath: the store is the file at the path given, whatever
// characters its name holds.
func TestSQLitePath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"state.db", "新闻 state?#%20.db"} {
		path := filepath.Join(dir, name)
		openSQLite(t, path)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	// A relative path is relative to the working folder.
	t.Chdir(dir)
	openSQLite(t, "relative.db")
	if _, err := os.Stat(filepath.Join(dir, "relative.db")); err != nil {
		t.Error(err)
	}
}

func TestSQLiteOpenError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "state.db")
	if s, err := store.OpenSQLite(t.Context(), path); err == nil {
		s.Close()
		t.Fatalf("OpenSQLite(%s): got nil, want an error", path)
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}

// The multi-process test: helper processes run publishWorker.
const (
	helperEnv = "NEWSMD_STORE_HELPER"
	stories   = 200
	processes = 4
)

// TestSQLiteProcesses: four processes claim and publish the same 200
// stories into one folder at once, as two `once` runs and a `backfill`
// would. Every story ends up written exactly once: one file each, whole,
// from one process, and no temporary file is left.
func TestSQLiteProcesses(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("helper process")
	}
	dir := t.TempDir()
	dbPath, posts := filepath.Join(dir, "state.db"), filepath.Join(dir, "_posts")
	runPublishers(t, "TestSQLiteHelperProcess", dir, func(p int) string {
		return fmt.Sprintf("%s=%d:%s:%s", helperEnv, p, dbPath, posts)
	})
	checkPublished(t, openSQLite(t, dbPath), posts)
}

// helperStory is story n of the multi-process test: half with a SiteKey,
// half without, so that name clashes take both kinds of suffix.
func helperStory(n int) store.Identity {
	id := store.Identity{URL: fmt.Sprintf("https://www.zaobao.com/realtime/world/story20211118-%d", n)}
	if n%2 == 0 {
		id.SiteKey = fmt.Sprintf("zaobao:%d", n)
	}
	return id
}

// TestSQLiteHelperProcess is one process of TestSQLiteProcesses; it runs
// only when that test starts it.
func TestSQLiteHelperProcess(t *testing.T) {
	arg := os.Getenv(helperEnv)
	if arg == "" {
		t.Skip("run by TestSQLiteProcesses")
	}
	parts := strings.SplitN(arg, ":", 3)
	proc, dbPath, posts := parts[0], parts[1], parts[2]
	b, err := store.OpenSQLite(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	publishAll(t, store.New(b, posts), filepath.Dir(dbPath), proc)
}

func BenchmarkSQLiteClaimPublish(b *testing.B) {
	dir := b.TempDir()
	benchClaimPublish(b, openSQLite(b, filepath.Join(dir, "state.db")), filepath.Join(dir, "_posts"))
}

// BenchmarkSQLiteClaimMark is BenchmarkSQLiteClaimPublish without the
// file: the store's share of publishing a post.
func BenchmarkSQLiteClaimMark(b *testing.B) {
	benchClaimMark(b, openSQLite(b, filepath.Join(b.TempDir(), "state.db")))
}

// TestSQLiteGroupCommit: writers running at once share transactions
// (group commit), and a write that fails inside a shared transaction
// (here: a release by an owner that holds nothing) leaves the others of
// its batch committed.
func TestSQLiteGroupCommit(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	const writers, each = 8, 25
	before := s.WriteTransactions()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := store.Identity{URL: fmt.Sprintf("https://news.example/%d/%d", w, i)}
				owner := fmt.Sprintf("w%d", w)
				if _, err := s.Claim(ctx, id, owner, time.Minute, now); err != nil {
					errs <- err
					return
				}
				if err := s.Release(ctx, id, "nobody"); !errors.Is(err, store.ErrNotOwner) {
					errs <- fmt.Errorf("release by another owner: got %v, want ErrNotOwner", err)
				}
				if err := s.MarkWritten(ctx, id, owner, fmt.Sprintf("%d-%d.md", w, i), "00ff"); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st != (store.Stats{Written: writers * each}) {
		t.Errorf("Stats: got %+v, %v; want %d written, none claimed", st, err, writers*each)
	}
	// Two committing writes per story; the failed releases commit nothing.
	commits := s.WriteTransactions() - before
	if commits > 2*writers*each {
		t.Errorf("got %d transactions for %d writes; want at most one each", commits, 2*writers*each)
	}
	t.Logf("%d committing writes in %d transactions", 2*writers*each, commits)
}
