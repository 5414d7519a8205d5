package store_test

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// The benchmarks of a SQLite store holding many keyless stories (a site
// without a story_id rule, such as every generic site): a new story's store
// work, and the counts /metrics reads, beside the same in an empty store.
//
//	go test ./store -run '^$' -bench 'SQLiteKeyless' -count 5
//
// Building a store of a million stories takes a while, so it is built once
// per schema version under os.TempDir and copied for each benchmark.

const keylessStories = 1_000_000

func BenchmarkSQLiteKeylessNewStoryEmpty(b *testing.B) {
	benchNewStory(b, openSQLite(b, filepath.Join(b.TempDir(), "state.db")), false)
}

func BenchmarkSQLiteKeylessNewStory1M(b *testing.B) {
	benchNewStory(b, openSQLite(b, keylessStore(b, keylessStories)), false)
}

// BenchmarkSQLiteKeyedNewStory1M is a new story with a SiteKey among a
// million keyless ones: not found by its key, it is looked for by URL
// among the keyless stories.
func BenchmarkSQLiteKeyedNewStoryEmpty(b *testing.B) {
	benchNewStory(b, openSQLite(b, filepath.Join(b.TempDir(), "state.db")), true)
}

func BenchmarkSQLiteKeyedNewStory1M(b *testing.B) {
	benchNewStory(b, openSQLite(b, keylessStore(b, keylessStories)), true)
}

func BenchmarkSQLiteStatsEmpty(b *testing.B) {
	benchStats(b, openSQLite(b, filepath.Join(b.TempDir(), "state.db")))
}

func BenchmarkSQLiteStats1M(b *testing.B) {
	benchStats(b, openSQLite(b, keylessStore(b, keylessStories)))
}

// benchNewStory is a new story's store work: Claim, ReservePath,
// MarkWritten.
func benchNewStory(b *testing.B, s store.Backend, keyed bool) {
	now := time.Now()
	i := 0
	for b.Loop() {
		id := store.Identity{URL: fmt.Sprintf("https://news.example/new/%d", i)}
		if keyed {
			id.SiteKey = fmt.Sprintf("news:%d", i)
		}
		if _, err := s.Claim(b.Context(), id, "bench", time.Minute, now); err != nil {
			b.Fatal(err)
		}
		name, err := s.ReservePath(b.Context(), id, "bench", fmt.Sprintf("new-%d.md", i))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.MarkWritten(b.Context(), id, "bench", name, "00ff"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchStats(b *testing.B, s store.Backend) {
	for b.Loop() {
		if _, err := s.Stats(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// keylessStore returns the path of a copy of a store holding n written
// keyless stories, building the original once per schema version.
func keylessStore(b *testing.B, n int) string {
	b.Helper()
	fresh := openSQLite(b, filepath.Join(b.TempDir(), "version.db"))
	version := len(fresh.Applied())
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("newsmd-bench-keyless-%d-v%d.db", n, version))
	if _, err := os.Stat(cached); err != nil {
		b.Logf("building %s", cached)
		if err := buildKeyless(b, cached, n); err != nil {
			os.Remove(cached)
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "state.db")
	if err := copyFile(cached, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// buildKeyless writes n keyless written stories into a new store at
// path, in one transaction, as the store's own methods would leave them
// (its triggers keep their counts).
func buildKeyless(b *testing.B, path string, n int) error {
	tmp := path + ".building"
	os.Remove(tmp)
	s, err := store.OpenSQLite(b.Context(), tmp)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", tmp+"?_journal_mode=DELETE")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	article, err := tx.Prepare(`INSERT INTO articles (id, url, state, path, sha256) VALUES (?, ?, 'written', ?, '00ff')`)
	if err != nil {
		return err
	}
	urls, err := tx.Prepare(`INSERT INTO article_urls (url, article_id) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		u := fmt.Sprintf("https://news.example/story/%d", i)
		if _, err := article.Exec(i, u, fmt.Sprintf("story-%d.md", i)); err != nil {
			return err
		}
		if _, err := urls.Exec(u, i); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
