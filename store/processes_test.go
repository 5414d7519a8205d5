package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/store"
)

// runPublishers starts `processes` copies of this test binary running
// helperTest, each with the environment variable env(p), lets them start
// together through files in dir, and checks that together they published
// every story once.
func runPublishers(t *testing.T, helperTest, dir string, env func(p int) string) {
	t.Helper()
	outs := make([]strings.Builder, processes)
	errs := make([]error, processes)
	done := make([]chan struct{}, processes)
	for p := range processes {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+helperTest+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), env(p))
		cmd.Stdout, cmd.Stderr = &outs[p], &outs[p]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done[p] = make(chan struct{})
		go func() {
			errs[p] = cmd.Wait()
			close(done[p])
		}()
	}
	// Start them together: each says it is ready, then waits for "go".
	for p := range processes {
		for {
			if _, err := os.Stat(filepath.Join(dir, "ready-"+strconv.Itoa(p))); err == nil {
				break
			}
			select {
			case <-done[p]:
				t.Fatalf("process %d ended before it was ready: %v\n%s", p, errs[p], outs[p].String())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	total := 0
	for p := range processes {
		<-done[p]
		if errs[p] != nil {
			t.Fatalf("process %d: %v\n%s", p, errs[p], outs[p].String())
		}
		m := regexp.MustCompile(`published (\d+)`).FindStringSubmatch(outs[p].String())
		if m == nil {
			t.Fatalf("process %d printed no count:\n%s", p, outs[p].String())
		}
		n, _ := strconv.Atoi(m[1])
		t.Logf("process %d published %d stories", p, n)
		total += n
	}
	if total != stories {
		t.Errorf("processes published %d stories in all, want %d", total, stories)
	}
}

// publishAll is one publishing process: it waits for the go signal in
// dir, then claims and publishes every story it can, in its own order.
func publishAll(t *testing.T, s *store.Store, dir, proc string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "ready-"+proc), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	owner := "worker-" + proc + "-" + strconv.Itoa(os.Getpid())
	published := 0
	for _, n := range rand.Perm(stories) {
		id := helperStory(n)
		rec, err := s.Claim(t.Context(), id, owner, time.Minute, time.Now())
		if errors.Is(err, store.ErrWritten) || errors.Is(err, store.ErrClaimed) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// Ten stories want each name, so processes race for names too.
		name := fmt.Sprintf("2021-11-18-title-%d.md", n%20)
		content := fmt.Sprintf("story %d by process %s\n", n, proc)
		if _, err := s.Publish(t.Context(), id, owner, rec.Token, name, []byte(content)); err != nil {
			t.Fatal(err)
		}
		published++
	}
	fmt.Printf("published %d\n", published)
}

// checkPublished checks the store and the folder after the publishers:
// every story written exactly once, whole, from one process, matching
// its recorded SHA-256, and no temporary file left.
func checkPublished(t *testing.T, s store.Backend, posts string) {
	t.Helper()
	entries, err := os.ReadDir(posts)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		if e.Name() == store.TempFolder {
			if left, _ := os.ReadDir(filepath.Join(posts, e.Name())); len(left) > 0 {
				t.Errorf("temporary files left behind: %d", len(left))
			}
			continue
		}
		if strings.HasPrefix(e.Name(), ".newsmd-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
		files[e.Name()] = true
	}
	if len(files) != stories {
		t.Errorf("got %d files, want %d", len(files), stories)
	}
	content := regexp.MustCompile(`^story (\d+) by process \d\n$`)
	for n := range stories {
		id := helperStory(n)
		rec, ok, err := s.Lookup(t.Context(), id)
		if err != nil || !ok || rec.State != store.StateWritten {
			t.Errorf("story %d: got %+v, %v, %v; want written", n, rec, ok, err)
			continue
		}
		data, err := os.ReadFile(filepath.Join(posts, rec.Path))
		if err != nil {
			t.Errorf("story %d: %v", n, err)
			continue
		}
		if m := content.FindStringSubmatch(string(data)); m == nil || m[1] != strconv.Itoa(n) {
			t.Errorf("story %d: file %s holds %q, want the story from one process", n, rec.Path, data)
		}
		sum := sha256.Sum256(data)
		if rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("story %d: file %s does not match the recorded SHA-256", n, rec.Path)
		}
		delete(files, rec.Path)
	}
	if len(files) != 0 {
		t.Errorf("files no story owns: %v", files)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Written != stories || st.Claimed != 0 {
		t.Errorf("stats: got %+v, %v; want %d written, none claimed", st, err, stories)
	}
}

// benchClaimPublish claims and publishes one small post per iteration.
func benchClaimPublish(b *testing.B, backend store.Backend, posts string) {
	s := store.New(backend, posts)
	content := []byte(strings.Repeat("（早报讯）日本媒体周四报道……\n", 40))
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		id := benchStory(i)
		rec, err := s.Claim(b.Context(), id, "bench", time.Minute, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Publish(b.Context(), id, "bench", rec.Token, fmt.Sprintf("2021-11-18-%d.md", i%100), content); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchClaimMark is benchClaimPublish without the file: the store's share
// of publishing a post (its three transactions).
func benchClaimMark(b *testing.B, s store.Backend) {
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		id := benchStory(i)
		if _, err := s.Claim(b.Context(), id, "bench", time.Minute, now); err != nil {
			b.Fatal(err)
		}
		name, err := s.ReservePath(b.Context(), id, "bench", fmt.Sprintf("2021-11-18-%d.md", i%100))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.MarkWritten(b.Context(), id, "bench", name, "00ff"); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchStory(i int) store.Identity {
	return store.Identity{URL: fmt.Sprintf("https://www.zaobao.com/realtime/world/story%d", i), SiteKey: fmt.Sprintf("zaobao:%d", i)}
}
