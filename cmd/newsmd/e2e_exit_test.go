package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/fakesite"
)

// started is a newsmd process started by a test.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	code           int
}

// start starts newsmd with args and env (added to the test's).
func start(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	p := &started{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(newsmdBinary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// until polls cond until it holds; the process exiting first, or a
// generous deadline that only keeps a broken binary from hanging the
// test, fails the test.
func (p *started) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case <-p.exited:
			t.Fatalf("newsmd exited (%d) before %s\nstdout:\n%s\nstderr:\n%s", p.code, what, p.stdout, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 2 minutes\nstderr:\n%s", what, p.stderr)
		}
	}
}

// signal sends sig and returns the exit code.
func (p *started) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return p.code
	case <-time.After(stopGuard):
		t.Fatalf("newsmd did not stop within %v of %v\n%s", stopGuard, sig, p.stderr)
		return -1
	}
}

// signals are the two that stop newsmd, with the exit code each means.
var signals = []struct {
	sig  syscall.Signal
	name string
	code int
}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}}

// TestExitCodes: each exit code of once and backfill, from the real
// binary: 0 all done, 1 something left undone (a failed story, a refused
// line of a backfill), 2 bad invocation or configuration, 3 a store that
// cannot be opened.
func TestExitCodes(t *testing.T) {
	stories := fakesite.Stories(4, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories[:3])
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("fetch:\n  delai: 1s\n"), 0o644)
	notAFolder := filepath.Join(dir, "file")
	os.WriteFile(notAFolder, []byte("x"), 0o644)
	badStore := "NEWSMD_STORE_PATH=" + filepath.Join(notAFolder, "state.db") // its folder is a file
	list := filepath.Join(dir, "urls.txt")
	os.WriteFile(list, []byte(site.StoryURL(stories[0])+"\nhttps://elsewhere.example/story1\nnot a url\n"), 0o644)

	fail := func() {
		// A fourth story, whose page fails each attempt of the run.
		site.SetStories(stories)
		site.Fail(stories[3].Path(), fakesite.Fault{Status: 500}, fakesite.Fault{Status: 500}, fakesite.Fault{Status: 500})
	}
	for _, tc := range []struct {
		name     string
		before   func()
		env      []string
		args     []string
		code     int
		stdout   []string // all of them, in order
		stderr   []string
		notInOut string
	}{
		{"once, all done", nil, nil, []string{"once", "--config", cfg}, 0,
			[]string{"feeds: 6 polled", "3 written", "0 failed"}, nil, ""},
		{"once, a story failed", fail, nil, []string{"once", "--config", cfg}, 1,
			[]string{"feeds: 6 polled", "0 written", "1 failed (http_500=1)"}, []string{"some items failed", "the next run retries them"}, ""},
		{"backfill, lines refused", nil, nil, []string{"backfill", "--config", cfg, "--file", list}, 1,
			[]string{"backfill: stories: 0 new, 0 written, 1 duplicate, 0 failed, 2 lines refused"}, []string{"line 2: ", "line 3: "}, "feeds:"},
		{"unknown flag", nil, nil, []string{"once", "--nope"}, 2, nil, []string{"flag provided but not defined"}, ""},
		{"unknown key", nil, nil, []string{"once", "--config", unknownKey}, 2, nil, []string{"delai"}, ""},
		{"unknown variable", nil, []string{"NEWSMD_FETCH_DELAI=1s"}, []string{"once", "--config", cfg}, 2, nil, []string{"NEWSMD_FETCH_DELAI: no such setting"}, ""},
		{"store will not open", nil, []string{badStore}, []string{"once", "--config", cfg}, 3, nil, []string{"open store", "hint: "}, ""},
		{"backfill, store will not open", nil, []string{badStore}, []string{"backfill", "--config", cfg, "--file", list}, 3, nil, []string{"open store"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			p := start(t, tc.env, tc.args...)
			<-p.exited
			out, errOut := p.stdout.String(), p.stderr.String()
			if p.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", p.code, tc.code, out, errOut)
			}
			if !inOrder(out, tc.stdout) {
				t.Errorf("stdout:\n%s\nwant, in order: %q", out, tc.stdout)
			}
			if !inOrder(errOut, tc.stderr) {
				t.Errorf("stderr:\n%s\nwant, in order: %q", errOut, tc.stderr)
			}
			if tc.notInOut != "" && strings.Contains(out, tc.notInOut) {
				t.Errorf("stdout has %q:\n%s", tc.notInOut, out)
			}
		})
	}
}

// inOrder reports whether s holds each of subs, one after the other.
func inOrder(s string, subs []string) bool {
	for _, sub := range subs {
		i := strings.Index(s, sub)
		if i < 0 {
			return false
		}
		s = s[i+len(sub):]
	}
	return true
}

// TestInterruptedOnce: SIGINT or SIGTERM while once waits for a page
// exits 130 or 143 with the summary and a line saying nothing is lost
// (no error); the next once writes the rest, each story once.
func TestInterruptedOnce(t *testing.T) {
	for _, s := range signals {
		t.Run(s.name, func(t *testing.T) {
			stories := fakesite.Stories(4, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
			site := fakesite.New(stories)
			defer site.Close()
			hold := make(chan struct{})
			site.Fail(stories[2].Path(), fakesite.Fault{Hold: hold})
			dir := t.TempDir()
			cfg := e2eConfig(t, site, dir)

			p := start(t, nil, "once", "--config", cfg)
			p.until(t, "the held page requested", func() bool { return site.Holding() == 1 })
			code := p.signal(t, s.sig)
			close(hold)
			out, errOut := p.stdout.String(), p.stderr.String()
			if code != s.code {
				t.Errorf("once after %s: exit %d, want %d\n%s\n%s", s.name, code, s.code, out, errOut)
			}
			if n := strings.Count(out, "feeds: "); n != 1 {
				t.Errorf("stdout has %d summaries, want 1:\n%s", n, out)
			}
			want := "newsmd: interrupted by " + s.name + ": stopped; nothing is lost, the next run continues"
			if !strings.Contains(errOut, want) || strings.Contains(errOut, "error:") {
				t.Errorf("stderr lacks %q or has an error line:\n%s", want, errOut)
			}
			written := summaryCount(t, out, "written")
			if got := len(posts(t, dir)); got != written {
				t.Errorf("%d posts on disk, the summary says %d written", got, written)
			}

			code, out, errOut = run1(t, "once", "--config", cfg)
			if code != 0 {
				t.Errorf("the next once: exit %d, want 0\n%s\n%s", code, out, errOut)
			}
			ids := storyIDs(t, posts(t, dir))
			for _, st := range stories {
				if n := ids[strconv.Itoa(st.ID)]; n != 1 {
					t.Errorf("story %d written %d times, want 1", st.ID, n)
				}
			}
		})
	}
}

// TestInterruptedBackfill: SIGINT or SIGTERM mid-backfill exits 130 or
// 143; the summary counts every post written, and run again the backfill
// writes the rest and finds the others known.
func TestInterruptedBackfill(t *testing.T) {
	for _, s := range signals {
		t.Run(s.name, func(t *testing.T) {
			stories := fakesite.Stories(6, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
			site := fakesite.New(stories)
			defer site.Close()
			hold := make(chan struct{})
			site.Fail(stories[3].Path(), fakesite.Fault{Hold: hold})
			dir := t.TempDir()
			cfg := e2eConfig(t, site, dir)
			var list strings.Builder
			for _, st := range stories {
				list.WriteString(site.StoryURL(st) + "\n")
			}
			listFile := filepath.Join(dir, "urls.txt")
			os.WriteFile(listFile, []byte(list.String()), 0o644)

			p := start(t, nil, "backfill", "--config", cfg, "--file", listFile)
			p.until(t, "the held page requested", func() bool { return site.Holding() == 1 })
			code := p.signal(t, s.sig)
			close(hold)
			out, errOut := p.stdout.String(), p.stderr.String()
			if code != s.code {
				t.Errorf("backfill after %s: exit %d, want %d\n%s\n%s", s.name, code, s.code, out, errOut)
			}
			if !strings.HasPrefix(out, "backfill: stories: ") || strings.Count(out, "\n") != 1 {
				t.Errorf("stdout: %q, want one summary line", out)
			}
			if !strings.Contains(errOut, "newsmd: interrupted by "+s.name+": stopped") || strings.Contains(errOut, "error:") {
				t.Errorf("stderr:\n%s", errOut)
			}
			written := summaryCount(t, out, "written")
			if got := len(posts(t, dir)); got != written || written >= len(stories) {
				t.Errorf("%d posts on disk, the summary says %d written of %d", got, written, len(stories))
			}

			code, out, errOut = run1(t, "backfill", "--config", cfg, "--file", listFile)
			want := fmt.Sprintf("%d written, %d duplicate, 0 failed", len(stories)-written, written)
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("backfill again: exit %d, %q, want 0 and %q\n%s", code, out, want, errOut)
			}
			if got := len(posts(t, dir)); got != len(stories) {
				t.Errorf("%d posts, want %d", got, len(stories))
			}
		})
	}
}

// summaryCount is the "N <what>" count of a summary line.
func summaryCount(t *testing.T, summary, what string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) ` + what).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("summary %q has no %q count", summary, what)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestInterruptedRun: the daemon stopped by SIGINT exits 130, by SIGTERM
// 143 (TestRunDaemon), with no error line.
func TestInterruptedRun(t *testing.T) {
	site := fakesite.New(fakesite.Stories(2, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	p := start(t, []string{"NEWSMD_SERVER_LISTEN="}, "run", "--config", cfg)
	p.until(t, "the daemon running", func() bool { return strings.Contains(p.stderr.String(), `"msg":"running"`) })
	if code := p.signal(t, syscall.SIGINT); code != 130 {
		t.Errorf("run after SIGINT: exit %d, want 130\n%s", code, p.stderr)
	}
	if errOut := p.stderr.String(); strings.Contains(errOut, "error:") || !strings.Contains(errOut, `"msg":"stopped"`) {
		t.Errorf("stderr:\n%s", errOut)
	}
}
