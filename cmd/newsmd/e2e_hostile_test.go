package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"github.com/newsmd/newsmd/store"
	"go.yaml.in/yaml/v3"
)

// The hostile tests run the real binary against a fake site that
// misbehaves the way a compromised or broken server, or a poisoned feed,
// would: gzip bombs, bodies that never end, absurd Retry-After, flaky
// pages, feeds pointing elsewhere, listings of a hundred thousand links;
// and against its own crashes. Each names the defect it guards against.

// setKeys sets keys of the config file at path, such as
// "crawl.max_wait", editing the file as YAML so that it can hold keys the
// Config struct of this build does not know: such a config is refused
// with "unknown key" until the binary knows them.
func setKeys(t *testing.T, path string, kv map[string]any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	for key, v := range kv {
		m := root
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = v
	}
	if data, err = yaml.Marshal(root); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, replaceLists(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostileConfig writes e2eConfig's config for site in dir with edit
// applied to it, then the keys of kv (see setKeys).
func hostileConfig(t *testing.T, site *fakesite.Site, dir string, edit func(c *config.Config), kv map[string]any) string {
	t.Helper()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	if edit != nil {
		edit(c)
	}
	path := writeYAMLConfig(t, c, dir)
	if len(kv) > 0 {
		setKeys(t, path, kv)
	}
	return path
}

// guardedRun is one finished newsmd process.
type guardedRun struct {
	code           int
	stdout, stderr string
	// peakRSS is the process's peak resident set size in bytes: its
	// VmHWM, sampled every 10 ms. Not wait4's ru_maxrss: a child started
	// by os/exec (vfork) is charged the test process's own peak there.
	peakRSS int64
	// killed says why the guard killed the process; "" when it ended by
	// itself.
	killed string
}

// runGuarded runs newsmd to its end, as run1 does, measuring its peak
// resident memory, and kills it when that passes rssLimit bytes or when it
// is still running after limit: a defect must fail the test, not take the
// shared machine down or hang it. The limit is a guard, not a
// measurement: set it far above what the run needs.
func runGuarded(t *testing.T, rssLimit int64, limit time.Duration, args ...string) guardedRun {
	t.Helper()
	cmd := exec.Command(newsmdBinary(t), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	status := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status"
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var killed string
	var peak int64
	kill := func(why string) {
		if killed == "" {
			killed = why
			cmd.Process.Kill()
		}
	}
wait:
	for {
		select {
		case <-exited:
			break wait
		case <-t.Context().Done():
			kill("the test ended")
		case <-deadline.C:
			kill(fmt.Sprintf("still running after %v", limit))
		case <-tick.C:
			peak = max(peak, int64(procHWM(status)))
			if peak > rssLimit {
				kill(fmt.Sprintf("its resident memory passed %d MB (%d MB)", rssLimit/mb, peak/mb))
			}
		}
	}
	return guardedRun{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String(), peakRSS: peak, killed: killed}
}

// daemon is a running `newsmd run`.
type daemon struct {
	cmd    *exec.Cmd
	stderr strings.Builder // read only once it has exited
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

func startDaemon(t *testing.T, cfg string) *daemon {
	t.Helper()
	d := &daemon{exited: make(chan struct{})}
	d.cmd = exec.Command(newsmdBinary(t), "run", "--config", cfg)
	d.cmd.Stderr = &d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.exited
	})
	return d
}

// waitUntil polls cond until it holds and reports whether it did; it
// gives up after limit, or as soon as the daemon d (when not nil) has
// exited. The limit only keeps a broken binary from hanging the test.
func waitUntil(limit time.Duration, d *daemon, cond func() bool) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		if d != nil {
			select {
			case <-d.exited:
				return cond()
			default:
			}
		}
		<-tick.C
	}
	return true
}

// stop sends SIGTERM and waits for the daemon to exit: the error is the
// exit status (nil for 143, a clean stop by SIGTERM). A daemon that does
// not stop within stopGuard is killed and fails the test.
func (d *daemon) stop(t *testing.T) error {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return stoppedBySIGTERM(d.err)
	case <-time.After(stopGuard):
		d.cmd.Process.Kill()
		<-d.exited
		t.Fatalf("run did not stop within %v of SIGTERM\n%s", stopGuard, d.stderr.String())
		return nil
	}
}

// storyPaths counts the requests for each of paths (queries dropped).
func storyPaths(site *fakesite.Site, paths []string) map[string]int {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	n := map[string]int{}
	for _, r := range site.Requests() {
		if p, _, _ := strings.Cut(r.Path, "?"); want[p] {
			n[p]++
		}
	}
	return n
}

// complete checks every post holds its story's last paragraph.
func complete(t *testing.T, ps map[string]string) {
	t.Helper()
	for name, p := range ps {
		if !strings.Contains(p, "第三段是结尾。") {
			t.Errorf("%s is incomplete (no last paragraph):\n%s", name, p)
		}
	}
}

// onceEach checks the posts are exactly one per story of want.
func onceEach(t *testing.T, ps map[string]string, want []fakesite.Story) {
	t.Helper()
	ids := storyIDs(t, ps)
	for _, st := range want {
		if n := ids[strconv.Itoa(st.ID)]; n != 1 {
			t.Errorf("story %d (%s): %d posts, want 1", st.ID, st.Path(), n)
		}
	}
	if len(ps) != len(want) || len(ids) != len(want) {
		t.Errorf("got %d posts of %d stories, want %d each", len(ps), len(ids), len(want))
	}
}

// TestHostileGzipBombs: pages that are gzip bombs (512 MiB of zeros or
// HTML in half a megabyte), announced by Content-Encoding: x-gzip, by
// Content-Type: application/x-gzip or only by a .xml.gz path, each fail
// as too large, and the process never holds them: fetch.max_body_bytes
// bounds the inflated body, not only the bytes on the wire.
func TestHostileGzipBombs(t *testing.T) {
	stories := fakesite.Stories(5, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := hostileConfig(t, site, dir, func(c *config.Config) {
		// Time enough to inflate a bomb whole: what stops it must be
		// max_body_bytes, not the timeout.
		c.Fetch.Timeout = time.Minute
	}, nil)

	bombs := []struct{ variant, path, fill string }{
		{"x-gzip", "/realtime/china/story20240301-3000901", "<p>炸弹</p>"},
		{"content-type", "/realtime/world/story20240301-3000902", ""},
		{"path", "/realtime/finance/story20240301-3000903.xml.gz", ""},
	}
	var list strings.Builder
	for _, b := range bombs {
		// Three in a row, in case a bomb is fetched again; it fails the
		// same way each time.
		for range 3 {
			site.Fail(b.path, fakesite.Fault{GzipBomb: b.variant, GzipBombFill: b.fill})
		}
		list.WriteString(site.URL() + b.path + "\n")
	}
	for _, st := range stories {
		list.WriteString(site.StoryURL(st) + "\n")
	}
	listFile := filepath.Join(dir, "urls.txt")
	os.WriteFile(listFile, []byte(list.String()), 0o644)

	r := runGuarded(t, 1<<30, 5*time.Minute, "backfill", "--config", cfg, "--file", listFile)
	t.Logf("backfill: exit %d, peak RSS %d MB: %s", r.code, r.peakRSS/mb, strings.TrimSpace(r.stdout))
	if r.killed != "" {
		t.Fatalf("backfill killed: %s\n%s", r.killed, lastLines(r.stderr, 20))
	}
	if r.code != 1 || !strings.Contains(r.stdout, " 5 written") || !strings.Contains(r.stdout, " 3 failed") || !strings.Contains(r.stdout, "too_large=3") {
		t.Errorf("backfill: exit %d, %s; want exit 1, 5 written, 3 failed (too_large=3)\n%s", r.code, r.stdout, lastLines(r.stderr, 20))
	}
	ps := posts(t, dir)
	onceEach(t, ps, stories)
	complete(t, ps)
	if r.peakRSS >= 100*mb {
		t.Errorf("peak RSS: got %d MB, want under 100 MB", r.peakRSS/mb)
	}
}

// TestHostileSlowTail: a page whose head comes at once and whose tail
// trickles in a byte at a time is a timeout, not a short article: nothing
// is written for it, and once the site answers normally the whole story
// is written, once.
func TestHostileSlowTail(t *testing.T) {
	for _, withLength := range []bool{false, true} {
		t.Run(fmt.Sprintf("content_length=%v", withLength), func(t *testing.T) {
			stories := fakesite.Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
			site := fakesite.New(stories)
			defer site.Close()
			slow := stories[4] // sg layout: its last paragraph is in the tail
			site.Fail(slow.Path(), fakesite.Fault{SlowTail: 200 * time.Millisecond, SlowTailLength: withLength})
			dir := t.TempDir()
			cfg := hostileConfig(t, site, dir, func(c *config.Config) {
				// The trickle outlasts it many times over; the other
				// pages need it to spare on a loaded machine.
				c.Fetch.Timeout = 2 * time.Second
				c.Fetch.Retries = 0
				c.Crawl.RetryDelay = time.Second // the least the config allows
			}, nil)

			code, out, errOut := run1(t, "once", "--config", cfg)
			t.Logf("first once: exit %d: %s", code, strings.TrimSpace(out))
			if code != 1 || !strings.Contains(out, " 1 failed") {
				t.Errorf("first once: exit %d, %s; want exit 1, 1 failed\n%s", code, out, lastLines(errOut, 20))
			}
			ids := storyIDs(t, posts(t, dir))
			if n := ids[strconv.Itoa(slow.ID)]; n != 0 {
				t.Fatalf("the slow story was written by the first once (%d posts): the trickle was taken for a whole page\n%s", n, out)
			}
			if len(ids) != 7 {
				t.Errorf("first once: %d stories written, want the 7 others\n%s", len(ids), out)
			}

			// The site now answers normally; later runs write the story
			// once its retry time has come.
			written := waitUntil(2*time.Minute, nil, func() bool {
				code, out, errOut = run1(t, "once", "--config", cfg)
				return storyIDs(t, posts(t, dir))[strconv.Itoa(slow.ID)] > 0
			})
			if !written {
				t.Fatalf("the slow story was never written: last once exit %d\n%s\n%s", code, out, lastLines(errOut, 20))
			}
			// Its exit code is not checked: on a loaded machine another
			// page of the run may time out and leave it 1. What matters
			// is below: every story once, and whole.
			t.Logf("the once that wrote it: exit %d: %s", code, strings.TrimSpace(out))
			ps := posts(t, dir)
			onceEach(t, ps, stories)
			complete(t, ps)
		})
	}
}

// TestHostileRetryAfterCapped: Retry-After: 31536000 (a year) on a feed
// and on a page does not park them for a year: the feed's next poll and
// the story's retry time are at most crawl.max_wait away.
func TestHostileRetryAfterCapped(t *testing.T) {
	const year = "31536000"
	const maxWait = 2 * time.Minute
	const margin = 5 * time.Second // clock rounding and the store's microseconds
	setup := func(t *testing.T) (*fakesite.Site, fakesite.Story, string, string) {
		stories := fakesite.Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
		site := fakesite.New(stories)
		t.Cleanup(site.Close)
		limited := stories[1] // in world, whose feed answers
		for range 5 {
			site.Fail("/rsshub/zaobao/realtime/china", fakesite.Fault{Status: 503, RetryAfter: year})
			site.Fail(limited.Path(), fakesite.Fault{Status: 429, RetryAfter: year})
		}
		dir := t.TempDir()
		cfg := hostileConfig(t, site, dir, func(c *config.Config) {
			c.Fetch.Retries = 0
			c.Server.Listen = ""
			c.Server.Tick = 200 * time.Millisecond
			// The feeds' own interval is under max_wait, so that any wait
			// past it is the server's.
			for i := range c.Feeds {
				c.Feeds[i].Interval = "1m"
			}
		}, map[string]any{"crawl.max_wait": maxWait.String()})
		return site, limited, cfg, filepath.Join(dir, "state.db")
	}
	// check reads the feed's and the story's next attempt from the store:
	// after start, and at most max_wait after end.
	check := func(t *testing.T, db *store.SQLite, site *fakesite.Site, limited fakesite.Story, start, end time.Time) {
		t.Helper()
		fs, err := db.FeedState(t.Context(), site.FeedURL("china"))
		if err != nil {
			t.Fatal(err)
		}
		limit := end.Add(maxWait + margin)
		if fs.LastError == "" || !fs.NextPoll.After(start) || fs.NextPoll.After(limit) {
			t.Errorf("feed after 503 with Retry-After: %s: next poll %v (in %v), want after %v and by %v (max_wait %v); last error %q",
				year, fs.NextPoll.Format(time.RFC3339), fs.NextPoll.Sub(end).Round(time.Second), start.Format(time.RFC3339), limit.Format(time.RFC3339), maxWait, fs.LastError)
		}
		id := store.Identity{URL: "http://" + site.Host() + limited.Path(), SiteKey: "zaobao:" + strconv.Itoa(limited.ID)}
		rec, found, err := db.Lookup(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Fatalf("the story answering 429 is not in the store (%+v)", id)
		}
		if rec.State != store.StateFailed || !rec.RetryAt.After(start) || rec.RetryAt.After(limit) {
			t.Errorf("story after 429 with Retry-After: %s: state %s, retry at %v (in %v), want failed, after %v and by %v (max_wait %v)",
				year, rec.State, rec.RetryAt.Format(time.RFC3339), rec.RetryAt.Sub(end).Round(time.Second), start.Format(time.RFC3339), limit.Format(time.RFC3339), maxWait)
		}
	}

	t.Run("once", func(t *testing.T) {
		site, limited, cfg, dbPath := setup(t)
		start := time.Now()
		code, out, errOut := run1(t, "once", "--config", cfg)
		end := time.Now()
		if code != 1 {
			t.Fatalf("once: exit %d, want 1 (a feed and a story failed)\n%s\n%s", code, out, lastLines(errOut, 20))
		}
		if site.Hits(limited.Path()) == 0 || site.Hits("/rsshub/zaobao/realtime/china") == 0 {
			t.Fatalf("the failing feed or story was not requested\n%s", out)
		}
		db, err := store.OpenSQLite(t.Context(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db, site, limited, start, end)
	})

	t.Run("run", func(t *testing.T) {
		site, limited, cfg, dbPath := setup(t)
		start := time.Now()
		d := startDaemon(t, cfg)
		// Once both failures are recorded, the daemon runs a few more
		// ticks: neither must be due again meanwhile.
		var db *store.SQLite
		recorded := waitUntil(time.Minute, d, func() bool {
			if db == nil {
				if _, err := os.Stat(dbPath); err != nil {
					return false
				}
				var err error
				if db, err = store.OpenSQLite(t.Context(), dbPath); err != nil {
					t.Fatal(err)
				}
			}
			fs, _ := db.FeedState(t.Context(), site.FeedURL("china"))
			rec, _, _ := db.Lookup(t.Context(), store.Identity{URL: "http://" + site.Host() + limited.Path(), SiteKey: "zaobao:" + strconv.Itoa(limited.ID)})
			return fs.LastError != "" && rec.State == store.StateFailed
		})
		if db != nil {
			defer db.Close()
		}
		if !recorded {
			err := d.stop(t)
			t.Fatalf("the daemon did not record both failures (exit %v)\n%s", err, lastLines(d.stderr.String(), 20))
		}
		time.Sleep(2 * time.Second)
		end := time.Now()
		if err := d.stop(t); err != nil {
			t.Errorf("run: %v after SIGTERM, want exit 143\n%s", err, lastLines(d.stderr.String(), 20))
		}
		check(t, db, site, limited, start, end)
	})
}

// TestHostileRunConverges: with 30% of the pages failing (500) eight
// times before they answer, the daemon keeps retrying, sooner than its
// defaults, until every story is written once, whole; and it never asks
// for a written story again.
func TestHostileRunConverges(t *testing.T) {
	runConverges(t, 40, func(c *config.Config) {
		c.Server.Listen = ""
		c.Server.Tick = 200 * time.Millisecond
		c.Fetch.Retries = 2
		c.Fetch.BackoffBase = 10 * time.Millisecond
		c.Fetch.BackoffMax = 100 * time.Millisecond
		c.Fetch.Delay = 0
		c.Fetch.Timeout = 10 * time.Second // no timeouts on a loaded machine: only the 500s fail
		// The host's own pause after failures in a row is fetch's
		// politeness, not what this test is about; keep it short.
		c.Fetch.HostBackoffMax = time.Second
	}, map[string]any{
		"crawl.retry_delay":     "1s", // the least the config allows
		"crawl.retry_delay_max": "2s",
		"crawl.max_attempts":    10,
		"crawl.give_up_after":   "72h",
	}, 3*time.Minute)
}

// TestHostileRunConvergesDefaults is the same with the shipped politeness
// and retry settings (fetch.delay 1s, 2 at once, 4 retries from 1s,
// crawl.retry_delay 1m, host backoff from 1m) and 76 stories, as the
// review found it: every story within 15 minutes. It takes minutes, so it
// runs only with LONG_TESTS=1.
func TestHostileRunConvergesDefaults(t *testing.T) {
	if os.Getenv("LONG_TESTS") == "" {
		t.Skip("takes minutes: set LONG_TESTS=1")
	}
	start := time.Now()
	runConverges(t, 76, func(c *config.Config) {
		d := config.Default()
		c.Fetch, c.Crawl = d.Fetch, d.Crawl
		c.Server.Listen = ""
	}, nil, 15*time.Minute)
	t.Logf("all 76 stories written after %v", time.Since(start).Round(time.Second))
}

// runConverges: n stories, 30% of whose pages answer 500 to their first 8
// requests; run, left alone, writes every story within limit, each once,
// and asks for none again once written.
func runConverges(t *testing.T, n int, edit func(c *config.Config), kv map[string]any, limit time.Duration) {
	stories := fakesite.Stories(n, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	var paths []string
	flaky := map[string]bool{}
	for i, st := range stories {
		paths = append(paths, st.Path())
		if i%10 < 3 {
			flaky[st.Path()] = true
			for range 8 {
				site.Fail(st.Path(), fakesite.Fault{Status: 500})
			}
		}
	}
	dir := t.TempDir()
	cfg := hostileConfig(t, site, dir, edit, kv)

	d := startDaemon(t, cfg)
	all := waitUntil(limit, d, func() bool { return countMD(dir) >= len(stories) })
	if !all {
		select {
		case <-d.exited:
			t.Fatalf("run exited early (%v) with %d posts\n%s", d.err, countMD(dir), lastLines(d.stderr.String(), 20))
		default:
		}
		err := d.stop(t)
		t.Fatalf("after %v: %d posts of %d stories (run: %v)\n%s", limit, countMD(dir), len(stories), err, lastLines(d.stderr.String(), 20))
	}
	// A few more ticks: no written story is asked for again.
	before := storyPaths(site, paths)
	time.Sleep(time.Second)
	after := storyPaths(site, paths)
	if err := d.stop(t); err != nil {
		t.Errorf("run: %v after SIGTERM, want exit 143\n%s", err, lastLines(d.stderr.String(), 20))
	}
	ps := posts(t, dir)
	onceEach(t, ps, stories)
	complete(t, ps)
	for _, p := range paths {
		if after[p] != before[p] {
			t.Errorf("%s requested %d more times after every story was written", p, after[p]-before[p])
		}
		switch n := after[p]; {
		case flaky[p] && n > 9+2:
			t.Errorf("flaky %s requested %d times, want 9 (8 failures and the answer), give or take 2", p, n)
		case !flaky[p] && n != 1:
			t.Errorf("%s requested %d times, want 1", p, n)
		}
	}
}

// TestHostileTakeoverAfterKill: a once or backfill killed with SIGKILL
// mid-story leaves a claim behind; a run started right after, on the same
// host, sees that the claim's process is gone and takes the story over at
// once, instead of skipping it for the lease (10 minutes).
func TestHostileTakeoverAfterKill(t *testing.T) {
	killMidWay := func(t *testing.T, dir string, after int, args ...string) {
		t.Helper()
		cmd := exec.Command(newsmdBinary(t), args...)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		reached := waitUntil(time.Minute, nil, func() bool {
			select {
			case <-exited:
				return true
			default:
				return countMD(dir) >= after
			}
		})
		select {
		case <-exited:
			t.Fatalf("%s ended by itself (exit %d) with %d posts written, before it could be killed\n%s", args[0], cmd.ProcessState.ExitCode(), countMD(dir), lastLines(errb.String(), 20))
		default:
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		if !reached {
			t.Fatalf("%s wrote %d posts in a minute, want %d before the kill\n%s", args[0], countMD(dir), after, lastLines(errb.String(), 20))
		}
		t.Logf("%s killed with %d posts written", args[0], countMD(dir))
	}
	config := func(t *testing.T, site *fakesite.Site, dir string) string {
		return hostileConfig(t, site, dir, func(c *config.Config) {
			c.Fetch.Concurrency = 1
			c.Fetch.Timeout = 10 * time.Second
			c.Crawl.Workers = 1
		}, nil)
	}
	check := func(t *testing.T, dir, what string, code int, out, errOut string, stories []fakesite.Story) {
		t.Helper()
		if code != 0 || !strings.Contains(out, " 0 failed") {
			t.Errorf("%s after the kill: exit %d, %s; want exit 0, 0 failed\n%s", what, code, out, lastLines(errOut, 20))
		}
		for _, held := range []string{"elsewhere", "in progress"} {
			if strings.Contains(out, held) {
				t.Errorf("%s after the kill says stories are %q: the killed process's claims were not taken over\n%s", what, held, out)
			}
		}
		ps := posts(t, dir)
		onceEach(t, ps, stories)
		complete(t, ps)
	}

	t.Run("once", func(t *testing.T) {
		stories := fakesite.Stories(30, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
		site := fakesite.New(stories)
		defer site.Close()
		site.SetLatency(300 * time.Millisecond)
		dir := t.TempDir()
		cfg := config(t, site, dir)
		killMidWay(t, dir, 1, "once", "--config", cfg)
		code, out, errOut := run1(t, "once", "--config", cfg)
		t.Logf("once after the kill: exit %d: %s", code, strings.TrimSpace(out))
		check(t, dir, "once", code, out, errOut, stories)
	})

	t.Run("backfill", func(t *testing.T) {
		stories := fakesite.Stories(60, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
		site := fakesite.New(stories)
		defer site.Close()
		site.SetLatency(300 * time.Millisecond)
		dir := t.TempDir()
		cfg := config(t, site, dir)
		var list strings.Builder
		for _, st := range stories {
			list.WriteString(site.StoryURL(st) + "\n")
		}
		listFile := filepath.Join(dir, "urls.txt")
		os.WriteFile(listFile, []byte(list.String()), 0o644)
		killMidWay(t, dir, 20, "backfill", "--config", cfg, "--file", listFile)
		code, out, errOut := run1(t, "backfill", "--config", cfg, "--file", listFile)
		t.Logf("backfill after the kill: exit %d: %s", code, strings.TrimSpace(out))
		check(t, dir, "backfill", code, out, errOut, stories)
	})
}

// TestHostileFeedScope: a feed's items are stories of its site only. An
// item linking the cloud metadata address, another port of the site's
// host, another site or a port where nothing listens is neither fetched
// nor written from the feed's copy, though each carries its whole text.
func TestHostileFeedScope(t *testing.T) {
	stories := fakesite.Stories(2, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, fakesite.ArticleHTML(stories[0]))
	}))
	defer other.Close()
	closed := freeAddr(t)
	otherHost := strings.TrimPrefix(other.URL, "http://")

	outside := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://" + otherHost + "/realtime/china/story20240301-1.html",
		"https://evil.example/realtime/china/story20240301-2",
		"http://" + closed + "/realtime/china/story20240301-3",
	}
	var feed strings.Builder
	feed.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>联合早报 即时新闻</title><link>` + site.URL() + `/realtime/china</link><description>hostile</description>
`)
	item := func(link, title string, published time.Time) {
		fmt.Fprintf(&feed, `<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate>
<description><![CDATA[<p>摘要。</p>]]></description>
<content:encoded><![CDATA[<p>（早报讯）%s的全文第一段。</p><p>第二段。</p><p>第三段是结尾。</p>]]></content:encoded></item>
`, title, link, link, published.UTC().Format(time.RFC1123Z), title)
	}
	for i, u := range outside {
		item(u, fmt.Sprintf("不该写的第%d则", i+1), time.Date(2024, 3, 1, 7, i, 0, 0, time.UTC))
	}
	for _, st := range stories {
		item(site.StoryURL(st), st.Title, st.Published)
	}
	feed.WriteString("</channel></rss>\n")
	site.AddFeed("/hostile/feed.xml", feed.String())

	dir := t.TempDir()
	cfg := hostileConfig(t, site, dir, func(c *config.Config) {
		c.Feeds = nil
		c.Feeds = append(c.Feeds, yamlFeed("hostile", "rss", site.URL()+"/hostile/feed.xml"))
	}, nil)
	code, out, errOut := run1(t, "once", "--config", cfg)
	t.Logf("once: exit %d: %s", code, strings.TrimSpace(out))
	if code == 2 {
		t.Fatalf("once: exit 2\n%s", errOut)
	}
	if !strings.Contains(out, "2 written") {
		t.Errorf("summary: %s; want 2 written", out)
	}
	ps := posts(t, dir)
	for name, p := range ps {
		info, err := converter.ReadPost([]byte(p))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if u, err := url.Parse(info.Source); err != nil || u.Host != site.Host() {
			t.Errorf("%s is from %q, outside the site (%s)", name, info.Source, site.Host())
		}
	}
	onceEach(t, ps, stories)
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the server at %s, another port of the site's host, got %d requests, want 0", otherHost, n)
	}
	var mentioned []string
	for _, u := range outside {
		if host := hostOf(u); strings.Contains(out+errOut, host) {
			mentioned = append(mentioned, host)
		}
	}
	if len(mentioned) == 0 {
		t.Errorf("neither the summary nor the log mentions the %d out-of-scope items\n%s", len(outside), lastLines(errOut, 20))
	}
	for _, line := range strings.Split(errOut, "\n") {
		if slices.ContainsFunc(outside, func(u string) bool { return strings.Contains(line, hostOf(u)) }) {
			t.Logf("log: %s", line)
		}
	}
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

// TestHostileHugeListing: a listing of 100,000 links, HTML in page order
// or JSON shuffled with timestamps, is cut to crawl.feed_items (its
// newest), the other feeds are all polled before its stories are worked
// through, and the process's memory stays modest.
func TestHostileHugeListing(t *testing.T) {
	for _, typ := range []string{"listing", "json_listing"} {
		t.Run(typ, func(t *testing.T) { hugeListing(t, typ) })
	}
}

func hugeListing(t *testing.T, typ string) {
	start := time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)
	stories := fakesite.Stories(16, start)
	site := fakesite.New(stories)
	defer site.Close()

	// The huge listing's stories are none of the feeds'; story i is i
	// minutes older than the newest. Every tenth of the first thousand
	// has a page, the rest are 404.
	const huge, feedItems = 100_000, 50
	listed := make([]fakesite.Story, huge)
	index := map[string]int{}
	for i := range listed {
		listed[i] = fakesite.Story{
			ID: 5_000_000 + i, Section: "china", Title: "第" + strconv.Itoa(i) + "则",
			Published:  start.Add(-time.Duration(i) * time.Minute),
			Paragraphs: []string{"第一段。", "第二段。", "第三段是结尾。"},
		}
		index[listed[i].Path()] = i
		if i < 1000 && i%10 == 0 {
			site.AddPage(listed[i].Path(), fakesite.Page{ContentType: "text/html; charset=utf-8", Body: fakesite.ArticleHTML(listed[i])})
		}
	}
	hugeFeed := yamlFeed("huge", typ, site.URL()+"/huge/listing")
	var body string
	maxBody := int64(0)
	switch typ {
	case "listing":
		// An HTML listing has no times: its order is the page's, newest
		// first. At 12 MB it is over the default max_body_bytes (10 MiB),
		// which is raised: its length is the point.
		hugeFeed.Links = []string{`[data-testid="article-list"] article a`}
		body = fakesite.ListingHTML("china", listed)
		maxBody = 64 << 20
		site.AddPage("/huge/listing", fakesite.Page{ContentType: "text/html; charset=utf-8", Body: body})
	default:
		// Shuffled: the newest are found by their timestamps.
		shuffled := slices.Clone(listed)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		body = fakesite.JSONListing(shuffled)
		site.AddPage("/huge/listing", fakesite.Page{ContentType: "application/json", Body: body})
	}
	t.Logf("huge %s: %d items, %d MB", typ, huge, len(body)/mb)

	dir := t.TempDir()
	cfg := hostileConfig(t, site, dir, func(c *config.Config) {
		c.Fetch.Delay = 5 * time.Millisecond
		if maxBody > 0 {
			c.Fetch.MaxBodyBytes = maxBody
		}
		// First, so that a runner that works through each feed's stories
		// before polling the next meets it first.
		c.Feeds = []config.Feed{hugeFeed}
		for _, sec := range fakesite.Sections {
			c.Feeds = append(c.Feeds, yamlFeed(sec, "rss", site.FeedURL(sec)))
		}
	}, map[string]any{"crawl.feed_items": feedItems})

	r := runGuarded(t, 1<<30, 3*time.Minute, "once", "--config", cfg)
	t.Logf("once: exit %d, peak RSS %d MB: %s", r.code, r.peakRSS/mb, strings.TrimSpace(r.stdout))
	if r.killed != "" {
		t.Errorf("once killed: %s\n%s", r.killed, lastLines(r.stderr, 10))
	}
	if r.code == 2 {
		t.Fatalf("once: exit 2\n%s", r.stderr)
	}

	// Story requests of the huge listing, and the polls of the four feeds,
	// in the order they arrived.
	reqs := site.Requests()
	slices.SortFunc(reqs, func(a, b fakesite.Request) int { return a.Seq - b.Seq })
	var hugeSeqs []int
	var older []string
	polled := map[string]int{}
	for _, rq := range reqs {
		p, _, _ := strings.Cut(rq.Path, "?")
		if i, ok := index[p]; ok {
			hugeSeqs = append(hugeSeqs, rq.Seq)
			if i >= feedItems {
				older = append(older, p)
			}
		} else if strings.HasPrefix(p, "/rsshub/zaobao/realtime/") {
			if _, seen := polled[p]; !seen {
				polled[p] = rq.Seq
			}
		}
	}
	if len(hugeSeqs) > feedItems+5 {
		t.Errorf("the huge listing's stories: %d requested, want at most crawl.feed_items (%d) give or take 5", len(hugeSeqs), feedItems)
	}
	if len(older) > 0 {
		t.Errorf("%d of the huge listing's stories requested are not among its %d newest, such as %s", len(older), feedItems, older[0])
	}
	for _, sec := range fakesite.Sections {
		p := "/rsshub/zaobao/realtime/" + sec
		seq, ok := polled[p]
		switch {
		case !ok:
			t.Errorf("feed %s was never polled", sec)
		case len(hugeSeqs) >= 10 && seq > hugeSeqs[9]:
			t.Errorf("feed %s was polled after the huge listing's 10th story request (request %d, after %d): feeds wait for another feed's stories", sec, seq, hugeSeqs[9])
		}
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	for _, st := range stories {
		if ids[strconv.Itoa(st.ID)] != 1 {
			t.Errorf("story %d of the feeds: %d posts, want 1", st.ID, ids[strconv.Itoa(st.ID)])
		}
	}
	// The HTML listing is parsed whole into a DOM before its links are
	// taken (about 170 MB of heap for 12 MB of HTML, measured alone):
	// the item cap bounds the work, not that parse. docs/PERFORMANCE.md.
	limit := int64(200 * mb)
	if typ == "listing" {
		limit = 320 * mb
	}
	if r.peakRSS >= limit {
		t.Errorf("peak RSS: got %d MB, want under %d MB", r.peakRSS/mb, limit/mb)
	}
}

// TestHostileCorruptStore: a state database that is not one fails with one
// "open store" prefix and a hint that says what to do, and loses nothing
// (the file is left as it was).
func TestHostileCorruptStore(t *testing.T) {
	site := fakesite.New(fakesite.Stories(2, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	garbage := []byte(strings.Repeat("not a database, ", 512))
	db := filepath.Join(dir, "state.db")
	if err := os.WriteFile(db, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run1(t, "once", "--config", cfg)
	if code != exitStore || strings.Count(errOut, "open store") != 1 || !strings.Contains(errOut, "hint: the state database") {
		t.Errorf("once on a corrupt store: exit %d, want %d, one \"open store\" and a hint\n%s", code, exitStore, errOut)
	}
	if got, _ := os.ReadFile(db); string(got) != string(garbage) {
		t.Errorf("the corrupt store was changed")
	}
}
