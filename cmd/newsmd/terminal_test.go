package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/fakesite"
)

// screen is a terminal made by tmux, on a server of the test's own, in
// which newsmd runs as a person would run it, with stdout and stderr on
// the terminal.
type screen struct {
	t      *testing.T
	sock   string
	status string // the file bash writes newsmd's exit status to
}

// newScreen starts newsmd with args in a detached tmux terminal of 200
// columns and 50 rows, which stays on the screen after newsmd exits.
func newScreen(t *testing.T, args ...string) *screen {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is needed for the terminal tests: apt-get install tmux")
		}
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "tmux.conf")
	os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g status off\n"), 0o644)
	s := &screen{t: t, sock: filepath.Join(dir, "sock"), status: filepath.Join(dir, "status")}
	// bash runs newsmd in the foreground, as a terminal's shell would, and
	// writes its exit status once it has exited and written all it had to
	// write: whether tmux has noticed the exit yet does not matter. A
	// SIGINT that newsmd handles (it exits 130) does not stop bash.
	script := `"$0" "$@"; echo $? > ` + s.status + `.tmp && mv ` + s.status + `.tmp ` + s.status
	s.tmux(append([]string{"-f", conf, "new-session", "-d", "-x", "200", "-y", "50", "bash", "-c", script, newsmdBinary(t)}, args...)...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *screen) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// capture is the screen's rows, wrapped lines joined, trailing empty rows
// dropped.
func (s *screen) capture() []string {
	rows := strings.Split(strings.TrimRight(s.tmux("capture-pane", "-p", "-J"), "\n "), "\n")
	for i, r := range rows {
		rows[i] = strings.TrimRight(r, " ")
	}
	return rows
}

// until captures the screen until cond holds of it, and returns it. The
// deadline only keeps a broken binary from hanging the test.
func (s *screen) until(what string, cond func(rows []string) bool) []string {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rows := s.capture()
		if cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s on the screen after 2 minutes:\n%s", what, strings.Join(rows, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitStatus is newsmd's exit status once it has exited, else "".
func (s *screen) exitStatus() string {
	b, err := os.ReadFile(s.status)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// shows reports whether a row of rows starts with prefix.
func shows(rows []string, prefix string) bool {
	for _, r := range rows {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

// barRow matches the backfill's progress bar: "backfill 7/8 [====>-]
// written 7, failed 0 1.5/s ETA 00:01".
var barRow = regexp.MustCompile(`^backfill +\d+/\d+ \[[=>-]+\] written \d+, failed \d+ +\d+\.\d/s +ETA \d\d:\d\d$`)

// bars returns the indexes of the rows that hold a bar or a piece of one.
func bars(rows []string) (whole, pieces []int) {
	for i, r := range rows {
		switch {
		case barRow.MatchString(r):
			whole = append(whole, i)
		case strings.Contains(r, "backfill ") && strings.Contains(r, "["), strings.Contains(r, "ETA "):
			pieces = append(pieces, i)
		}
	}
	return whole, pieces
}

// backfillScreen starts, on a screen, a backfill of the n stories of a
// fake site whose story held waits until hold is closed.
func backfillScreen(t *testing.T, n, held int) (*screen, *fakesite.Site, chan struct{}) {
	t.Helper()
	stories := fakesite.Stories(n, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	t.Cleanup(site.Close)
	hold := make(chan struct{})
	site.Fail(stories[held].Path(), fakesite.Fault{Hold: hold})
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	list := filepath.Join(dir, "urls.txt")
	var b strings.Builder
	for _, st := range stories {
		b.WriteString(site.StoryURL(st) + "\n")
	}
	os.WriteFile(list, []byte(b.String()), 0o644)
	return newScreen(t, "backfill", "--config", cfg, "--file", list), site, hold
}

// TestBackfillTerminal: on a terminal at the INFO level, the bar owns the
// last line and every log line prints above it, whole; at the end the
// bar stays and one summary follows on its own line.
func TestBackfillTerminal(t *testing.T) {
	s, site, hold := backfillScreen(t, 8, 5)
	// Mid-run: seven stories written, the sixth held by the site.
	rows := s.until("7/8 on the bar", func(rows []string) bool {
		return site.Holding() == 1 && strings.Contains(strings.Join(rows, "\n"), "backfill 7/8 [")
	})
	screenText := strings.Join(rows, "\n")
	whole, pieces := bars(rows)
	if len(whole) != 1 || len(pieces) != 0 || whole[0] != len(rows)-1 {
		t.Errorf("want one intact bar on the last row; got whole bars on rows %v, pieces on rows %v:\n%s", whole, pieces, screenText)
	}
	if n := strings.Count(screenText, `msg="article written"`); n != 7 {
		t.Errorf("got %d \"article written\" lines, want 7:\n%s", n, screenText)
	}
	for i, r := range rows[:max(len(rows)-1, 0)] {
		if r != "" && !strings.HasPrefix(r, "time=") {
			t.Errorf("row %d above the bar is not a whole log line: %q", i, r)
		}
	}

	close(hold)
	// The terminal shows what newsmd wrote a moment after it exits.
	rows = s.until("the summary", func(rows []string) bool {
		return s.exitStatus() != "" && shows(rows, "backfill: stories: ")
	})
	screenText = strings.Join(rows, "\n")
	if st := s.exitStatus(); st != "0" {
		t.Errorf("exit status %s, want 0:\n%s", st, screenText)
	}
	whole, pieces = bars(rows)
	sum := -1
	for i, r := range rows {
		if strings.HasPrefix(r, "backfill: stories: ") {
			if sum >= 0 {
				t.Errorf("the summary is printed twice (rows %d and %d):\n%s", sum, i, screenText)
			}
			sum = i
		}
	}
	if len(whole) != 1 || len(pieces) != 0 || sum != whole[0]+1 || !strings.Contains(rows[sum], "8 written") {
		t.Errorf("want the whole bar, then the summary with 8 written on the next row; bars %v, pieces %v, summary at %d:\n%s", whole, pieces, sum, screenText)
	}
}

// TestBackfillTerminalInterrupt: Ctrl-C mid-backfill leaves the bar where
// it stopped, then the summary on a row of its own, then the line saying
// that nothing is lost; exit 130.
func TestBackfillTerminalInterrupt(t *testing.T) {
	s, site, hold := backfillScreen(t, 4, 2)
	defer close(hold)
	s.until("3/4 on the bar", func(rows []string) bool {
		return site.Holding() == 1 && strings.Contains(strings.Join(rows, "\n"), "backfill 3/4 [")
	})
	s.tmux("send-keys", "C-c")
	rows := s.until("the end", func(rows []string) bool {
		return s.exitStatus() != "" && shows(rows, "newsmd: interrupted")
	})
	screenText := strings.Join(rows, "\n")
	if st := s.exitStatus(); st != "130" {
		t.Errorf("exit status %s, want 130:\n%s", st, screenText)
	}
	whole, pieces := bars(rows)
	if len(whole) != 1 || len(pieces) != 0 {
		t.Fatalf("want one whole bar; got bars on rows %v, pieces on rows %v:\n%s", whole, pieces, screenText)
	}
	after := rows[whole[0]+1:]
	if len(after) < 2 || !strings.HasPrefix(after[0], "backfill: stories: ") || !strings.Contains(after[0], "3 written") ||
		!strings.HasPrefix(after[1], "newsmd: interrupted by SIGINT: stopped; nothing is lost") {
		t.Errorf("want the summary (3 written) and the interrupted line under the bar:\n%s", screenText)
	}
}

// TestLogLines: every log line of a run names one component (the fetch
// lines said component=once component=fetch), and durations are seconds
// in keys that say so, in JSON (not nanoseconds) and in text (not
// "664.622036ms").
func TestLogLines(t *testing.T) {
	stories := fakesite.Stories(3, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	goDuration := regexp.MustCompile(`[= ]"?\d+(\.\d+)?(ns|µs|ms|s|m|h)\b`)
	for i, format := range []string{"json", "text"} {
		// A page that fails once: a "retrying" line with its wait.
		site.Fail(stories[i+1].Path(), fakesite.Fault{Status: 503}) // a story new to this run
		site.SetStories(stories[:i+2])
		p := start(t, []string{"NEWSMD_LOG_LEVEL=debug", "NEWSMD_LOG_FORMAT=" + format}, "once", "--config", cfg)
		<-p.exited
		lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
		var retry string
		for _, l := range lines {
			key := `"component":`
			if format == "text" {
				key = " component="
			}
			if n := strings.Count(l, key); n != 1 {
				t.Errorf("%s: %d components in %s", format, n, l)
			}
			if m := goDuration.FindString(l); m != "" {
				t.Errorf("%s: a duration as Go prints it (%s) in %s", format, m, l)
			}
			if strings.Contains(l, "retrying") {
				retry = l
			}
		}
		if !strings.Contains(retry, "wait_seconds") || !strings.Contains(retry, "fetch") {
			t.Errorf("%s: no retrying line of component fetch with wait_seconds:\n%s", format, p.stderr)
		}
	}
}
