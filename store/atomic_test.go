package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "_posts", "2021-11-18-日本长期失业者人数上升.md")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("got %q, %v; want %q", got, err, content)
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode: got %v, want 0644", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want 1 (no temporary files)", len(entries))
	}
}

// TestWriteFileFailureLeavesNothing: a write that cannot finish leaves the
// old file as it was and no temporary file.
func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "post.md")
	if err := WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the file should be makes the rename fail.
	blocked := filepath.Join(dir, "blocked")
	os.Mkdir(blocked, 0o755)
	os.WriteFile(filepath.Join(blocked, "x"), nil, 0o644)
	err := WriteFile(blocked, []byte("new\n"), 0o644)
	if err == nil || !strings.Contains(err.Error(), blocked) {
		t.Fatalf("got %v, want an error naming %s", err, blocked)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".newsmd-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Errorf("old file changed: %q", got)
	}
	if err := WriteFile(filepath.Join(dir, "post.md", "sub", "x.md"), []byte("x"), 0o644); err == nil {
		t.Errorf("writing under a file: got %v, want an error", err)
	}
}

// TestCleanTemp: leftovers of a dead writer go, a live writer's stay.
func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, tempPrefix()+"123.tmp")
	dead := filepath.Join(dir, ".newsmd-"+hostName()+"-999999999-abc.tmp")
	other := filepath.Join(dir, ".newsmd-otherhost-1-abc.tmp")
	post := filepath.Join(dir, "2024-03-01-post.md")
	for _, p := range []string{mine, dead, other, post} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := CleanTemp(dir, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v; want 1 removed", n, err)
	}
	for p, want := range map[string]bool{mine: true, dead: false, other: true, post: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	// Another host's file is removed once it is old.
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(other, old, old)
	if n, _ := CleanTemp(dir, time.Hour); n != 1 {
		t.Errorf("old file of another host: got %d removed, want 1", n)
	}
	if n, err := CleanTemp(filepath.Join(dir, "missing"), time.Hour); n != 0 || err != nil {
		t.Errorf("missing folder: got %d, %v", n, err)
	}
}
