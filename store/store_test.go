package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

var (
	t0      = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	zaobao1 = store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1214802", SiteKey: "zaobao:1214802"}
)

const postName = "2021-11-18-日本长期失业者人数上升.md"

func newStore(t *testing.T) *store.Store {
	t.Helper()
	dir := t.TempDir()
	return store.New(openSQLite(t, filepath.Join(dir, "state.db")), filepath.Join(dir, "_posts"))
}

// token is the fencing token of the story's claim as stored, for the
// holder's steps.
func token(t *testing.T, s *store.Store, id store.Identity) int64 {
	t.Helper()
	rec, _, err := s.Lookup(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Token
}

// postFiles returns the names in the archive folder, and those of the
// temporary files in its TempFolder.
func postFiles(t *testing.T, s *store.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != store.TempFolder {
			names = append(names, e.Name())
			continue
		}
		temps, err := os.ReadDir(filepath.Join(s.Dir(), store.TempFolder))
		if err != nil {
			t.Fatal(err)
		}
		for _, tmp := range temps {
			names = append(names, tmp.Name())
		}
	}
	return names
}

func TestPublish(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	content := []byte("---\ntitle: 日本长期失业者人数上升\n---\n")
	path, err := s.Publish(ctx, zaobao1, "a", token(t, s, zaobao1), postName, content)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.Dir(), postName); path != want {
		t.Errorf("path: got %s, want %s", path, want)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(content) {
		t.Errorf("file: got %q, %v; want %q", got, err, content)
	}
	rec, _, err := s.Lookup(ctx, zaobao1)
	sum := sha256.Sum256(content)
	if err != nil || rec.State != store.StateWritten || rec.Path != postName || rec.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("record: got %+v, %v; want written at %s with the content's SHA-256", rec, err, postName)
	}
	if _, err := s.Publish(ctx, zaobao1, "a", token(t, s, zaobao1), postName, content); !errors.Is(err, store.ErrNotOwner) {
		t.Errorf("Publish without the claim: got %v, want ErrNotOwner", err)
	}
}

// TestPublishAfterCrash: a worker dies at each point of Publish; once its
// lease ends another worker publishes the story, and the archive holds one
// whole file for it.
func TestPublishAfterCrash(t *testing.T) {
	tests := []struct {
		name  string
		crash func(t *testing.T, s *store.Store) // what the dead worker did after its claim
	}{
		{"after the claim", func(t *testing.T, s *store.Store) {}},
		{"after ReservePath", func(t *testing.T, s *store.Store) {
			if _, err := s.ReservePath(t.Context(), zaobao1, "a", postName); err != nil {
				t.Fatal(err)
			}
		}},
		{"after the write, before MarkWritten", func(t *testing.T, s *store.Store) {
			name, err := s.ReservePath(t.Context(), zaobao1, "a", postName)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.WriteFile(filepath.Join(s.Dir(), name), []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := newStore(t)
			if _, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0); err != nil {
				t.Fatal(err)
			}
			tt.crash(t, s)
			// Meanwhile another story wants the same name.
			other := store.Identity{URL: "https://www.zaobao.com/realtime/world/story20211118-1", SiteKey: "zaobao:1"}
			if _, err := s.Claim(ctx, other, "c", time.Minute, t0); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Publish(ctx, other, "c", token(t, s, other), postName, []byte("other\n")); err != nil {
				t.Fatal(err)
			}

			due, err := s.Due(ctx, t0.Add(time.Minute), 10)
			if err != nil || len(due) != 1 || due[0].ID != zaobao1 {
				t.Fatalf("Due after the lease: got %+v, %v; want the story", due, err)
			}
			if _, err := s.Claim(ctx, zaobao1, "b", time.Minute, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			path, err := s.Publish(ctx, zaobao1, "b", token(t, s, zaobao1), postName, []byte("new\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != "new\n" {
				t.Errorf("post: got %q, want %q", got, "new\n")
			}
			if files := postFiles(t, s); len(files) != 2 {
				t.Errorf("archive: got %v, want two posts (the story and the other)", files)
			}
		})
	}
}

// TestPublishWriteFailure: when the file cannot be written (a full disk),
// Publish leaves no temporary file and the story claimed, not written, with
// its name kept for the retry.
func TestPublishWriteFailure(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	// A folder where the post should be makes the rename fail.
	blocked := filepath.Join(s.Dir(), postName)
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := s.Publish(ctx, zaobao1, "a", token(t, s, zaobao1), postName, []byte("post\n"))
	if err == nil || !strings.Contains(err.Error(), zaobao1.URL) {
		t.Fatalf("got %v, want an error naming the story", err)
	}
	for _, name := range postFiles(t, s) {
		if strings.HasPrefix(name, ".newsmd-") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	rec, _, err := s.Lookup(ctx, zaobao1)
	if err != nil || rec.State != store.StatePending || rec.Owner != "a" || rec.Path != postName {
		t.Errorf("record: got %+v, %v; want pending, claimed by a, path %s", rec, err, postName)
	}
	if err := s.MarkFailed(ctx, zaobao1, "a", "disk full", false, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(blocked)
	if _, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if path, err := s.Publish(ctx, zaobao1, "a", token(t, s, zaobao1), "another.md", []byte("post\n")); err != nil || path != blocked {
		t.Errorf("retry: got %s, %v; want %s", path, err, blocked)
	}
}

// TestRefetchRewriteInPlace: a truncated post re-fetched is rewritten in
// its file, whatever name the new copy asks for; a worker that dies after
// writing the new copy but before recording it leaves a whole file, and
// the next worker's re-fetch, once the lease ends, records it.
func TestRefetchRewriteInPlace(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(24 * time.Hour)
	cut := []byte("---\ntruncated: true\n---\n第一段。\n")
	path, err := s.PublishTruncated(ctx, zaobao1, "a", token(t, s, zaobao1), postName, cut, due)
	if err != nil {
		t.Fatal(err)
	}
	if rec, _, err := s.Lookup(ctx, zaobao1); err != nil || !rec.Truncated || !rec.RefetchAt.Equal(due) || rec.Owner != "" {
		t.Fatalf("after PublishTruncated: got %+v, %v; want truncated, due at %v", rec, err, due)
	}

	// Worker b re-fetches, writes the full text and dies before MarkWritten.
	if _, err := s.ClaimRefetch(ctx, zaobao1, "b", time.Minute, due); err != nil {
		t.Fatal(err)
	}
	full := []byte("---\n---\n第一段。\n第二段。\n")
	if err := store.WriteFile(path, full, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimRefetch(ctx, zaobao1, "c", time.Minute, due.Add(time.Second)); !errors.Is(err, store.ErrClaimed) {
		t.Fatalf("re-fetch claim within b's lease: got %v, want ErrClaimed", err)
	}
	if _, err := s.ClaimRefetch(ctx, zaobao1, "c", time.Minute, due.Add(time.Minute)); err != nil {
		t.Fatalf("re-fetch claim after b's lease: %v", err)
	}
	again, err := s.Publish(ctx, zaobao1, "c", token(t, s, zaobao1), "2021-11-18-another title.md", full)
	if err != nil || again != path {
		t.Fatalf("rewrite: got %s, %v; want %s", again, err, path)
	}
	if got := postFiles(t, s); len(got) != 1 || got[0] != postName {
		t.Errorf("archive: got %v, want only %s", got, postName)
	}
	if got, _ := os.ReadFile(path); string(got) != string(full) {
		t.Errorf("post: got %q, want the full text", got)
	}
	rec, _, err := s.Lookup(ctx, zaobao1)
	sum := sha256.Sum256(full)
	if err != nil || rec.Truncated || !rec.RefetchAt.IsZero() || rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Refetches != 1 {
		t.Errorf("record: got %+v, %v; want whole, the full text's SHA-256, 1 re-fetch", rec, err)
	}
}

// TestPublishSlowWriteFenced: a's lease runs out while its post is being
// written; b takes the story over and publishes. a's rename, when its
// write ends, is refused: b's post stays, and matches the store's
// checksum.
func TestPublishSlowWriteFenced(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	bPost := []byte("b's post\n")
	store.SetBeforeCommit(s, func() {
		store.SetBeforeCommit(s, nil)
		b, err := s.Claim(ctx, zaobao1, "b", time.Minute, t0.Add(2*time.Minute))
		if err != nil {
			t.Errorf("b's takeover: %v", err)
			return
		}
		if _, err := s.Publish(ctx, zaobao1, "b", b.Token, postName, bPost); err != nil {
			t.Errorf("b's publish: %v", err)
		}
	})
	if _, err := s.Publish(ctx, zaobao1, "a", a.Token, postName, []byte("a's slow post\n")); !errors.Is(err, store.ErrNotOwner) {
		t.Fatalf("a's publish after the takeover: got %v, want ErrNotOwner", err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir(), postName))
	if err != nil || string(got) != string(bPost) {
		t.Errorf("post: got %q, %v; want b's", got, err)
	}
	rec, _, err := s.Lookup(ctx, zaobao1)
	sum := sha256.Sum256(got)
	if err != nil || rec.State != store.StateWritten || rec.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("record: got %+v, %v; want written with the file's checksum", rec, err)
	}
	if files := postFiles(t, s); len(files) != 1 {
		t.Errorf("archive: got %v, want b's post alone (no temporary file)", files)
	}
}

// TestStoreCleanTempListsTempFolderOnly: Publish leaves nothing in the
// archive's TempFolder, and the housekeeping's CleanTemp looks in that
// folder only: a dead writer's leftover there goes, while one in the
// archive folder itself (which it never lists, however many posts it
// holds) stays.
func TestStoreCleanTempListsTempFolderOnly(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	rec, err := s.Claim(ctx, zaobao1, "a", time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, zaobao1, "a", rec.Token, postName, []byte("post\n")); err != nil {
		t.Fatal(err)
	}
	temps, err := os.ReadDir(filepath.Join(s.Dir(), store.TempFolder))
	if err != nil || len(temps) != 0 {
		t.Fatalf("temporary folder after Publish: got %v, %v; want it empty", temps, err)
	}
	dead := ".newsmd-" + "deadhost-1-abc.tmp"
	inTemp := filepath.Join(s.Dir(), store.TempFolder, dead)
	inArchive := filepath.Join(s.Dir(), dead)
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{inTemp, inArchive} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	if n, err := s.CleanTemp(time.Hour); err != nil || n != 1 {
		t.Fatalf("CleanTemp: got %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(inTemp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover in the temporary folder: got %v, want removed", err)
	}
	if _, err := os.Stat(inArchive); err != nil {
		t.Errorf("file in the archive folder: got %v, want it untouched (not listed)", err)
	}
}
