package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// freeAddr is an address where nothing listens. Something else may bind
// it later (another test process), so it is only for a port that must
// not answer; a daemon that listens is given 127.0.0.1:0 and read its
// address from its log (boundAddr).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// boundAddr waits for a daemon started with server.listen 127.0.0.1:0 to
// log the address it bound, and returns it: a port chosen at bind time
// cannot have been taken by another process meanwhile.
func boundAddr(t *testing.T, alive func(string), logs *lockedBuffer) string {
	t.Helper()
	listening := regexp.MustCompile(`"msg":"listening".*?"addr":"([^"]+)"|msg=listening .*?addr=(\S+)`)
	var addr string
	waitFor(t, "the daemon to log the address it listens on", alive, func() bool {
		m := listening.FindStringSubmatch(logs.String())
		if m != nil {
			addr = m[1] + m[2]
		}
		return m != nil
	}, logs)
	return addr
}

// stopGuard is how long a daemon may take to exit after SIGTERM before a
// test calls it hung. It is a guard, not a measurement: a daemon that
// does not wait stops in well under a second, however loaded the
// machine, while one that waits for its next poll, a fetch timeout or
// the work in progress takes many minutes.
const stopGuard = time.Minute

// sigterm sends SIGTERM to a daemon whose Wait result arrives on exited
// and returns its exit error, nil for a clean stop (exit 143, which says
// it was stopped by SIGTERM); a daemon still running after stopGuard is
// killed and fails the test.
func sigterm(t *testing.T, cmd *exec.Cmd, exited <-chan error, logs *lockedBuffer) error {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		return stoppedBySIGTERM(err)
	case <-time.After(stopGuard):
		cmd.Process.Kill()
		t.Fatalf("run did not stop within %v of SIGTERM\n%s", stopGuard, logs.String())
		return nil
	}
}

// stoppedBySIGTERM is nil for the exit error of a process that exited
// 143 (stopped by SIGTERM, as it should), else that error or one saying
// that it exited 0.
func stoppedBySIGTERM(err error) error {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return errors.New("exit status 0, want 143 after SIGTERM")
	case errors.As(err, &ee) && ee.ExitCode() == 143:
		return nil
	}
	return err
}

func httpGet(url string) (int, string) {
	// Generous: the daemon answers at once, but a loaded machine may be
	// slow to run it.
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startRun starts newsmd run with cfg; alive fails the test if it has
// exited, saying when.
func startRun(t *testing.T, cfg string) (cmd *exec.Cmd, exited chan error, alive func(string), logs *lockedBuffer) {
	t.Helper()
	logs = &lockedBuffer{}
	cmd = exec.Command(newsmdBinary(t), "run", "--config", cfg)
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	alive = func(when string) {
		t.Helper()
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("newsmd run exited %s: %v\n%s", when, err, logs.String())
		default:
		}
	}
	return cmd, exited, alive, logs
}

// TestRunDaemon starts a real newsmd run: it becomes ready, writes every
// story, serves metrics, answers healthcheck, and stops cleanly on
// SIGTERM without waiting for its next poll.
func TestRunDaemon(t *testing.T) {
	stories := fakesite.Stories(20, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = "127.0.0.1:0"
	c.Server.Tick = 200 * time.Millisecond
	cfg := writeYAMLConfig(t, c, dir)

	cmd, exited, alive, stderr := startRun(t, cfg)
	c.Server.Listen = boundAddr(t, alive, stderr)
	// healthcheck reads the address from the config: the one bound.
	cfg = writeYAMLConfig(t, c, t.TempDir())
	base := "http://" + c.Server.Listen
	waitFor(t, "readyz and the 20 posts", alive, func() bool {
		code, _ := httpGet(base + "/readyz")
		// Ready comes before the first cycle ends: count the posts
		// without posts' check for temporary files, which a cycle
		// under way has.
		return code == 200 && countMD(dir) == 20
	}, stderr)
	if n := len(storyIDs(t, posts(t, dir))); n != 20 {
		t.Fatalf("daemon wrote %d stories, want 20\n%s", n, stderr.String())
	}
	if code, body := httpGet(base + "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz: %d %q", code, body)
	}
	_, metrics := httpGet(base + "/metrics")
	if n := sumSeries(t, metrics, "newsmd_articles_written_total"); n != 20 {
		t.Errorf("newsmd_articles_written_total: %v over its series, want 20:\n%s", n, metrics)
	}
	for _, want := range []string{
		`newsmd_feed_polls_total{result="ok"} 6`,
		`newsmd_http_responses_total{code="200",host="127.0.0.1"}`,
		`newsmd_fetch_politeness_wait_seconds_count{host="127.0.0.1"}`,
		"newsmd_publication_lag_seconds_bucket",
		`newsmd_stories{state="written"} 20`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if code, out, errOut := run1(t, "healthcheck", "--config", cfg); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("healthcheck: exit %d %s %s", code, out, errOut)
	}
	if code, out, errOut := run1(t, "healthcheck", "--config", cfg, "--ready"); code != 0 {
		t.Errorf("healthcheck --ready: exit %d %s %s", code, out, errOut)
	}

	// Feeds are not polled again before their interval: the site sees
	// no new feed request across several ticks.
	before := site.Hits("/rsshub/zaobao/realtime/china")
	time.Sleep(time.Second)
	if after := site.Hits("/rsshub/zaobao/realtime/china"); after != before {
		t.Errorf("feed polled %d more times within its interval", after-before)
	}

	// The next poll is ten minutes away: a daemon that waited for it
	// would outlast the guard.
	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
	if code, _, _ := run1(t, "healthcheck", "--config", cfg); code == 0 {
		t.Errorf("healthcheck succeeded after the daemon stopped")
	}
}

// TestRunStopsMidWork: SIGTERM while pages are being fetched stops the
// daemon at once, without waiting for the fetches, and the interrupted
// stories are written by the next run, once each. The pages answer only
// when the client gives up, so the daemon is mid-work when signalled
// however fast the machine, and one that waited for its fetches would
// wait for their timeout, far longer than the guard.
func TestRunStopsMidWork(t *testing.T) {
	stories := fakesite.Stories(12, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	site.SetLatency(time.Hour) // every article page, until the client goes away
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = ""
	c.Fetch.Timeout = 10 * stopGuard
	cfg := writeYAMLConfig(t, c, dir)

	cmd, exited, alive, stderr := startRun(t, cfg)
	waitFor(t, "story pages to be fetched", alive, func() bool {
		return site.InFlight() >= c.Fetch.Concurrency
	}, stderr)
	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
	if n := len(posts(t, dir)); n != 0 {
		t.Errorf("%d posts written while every page was held", n)
	}

	site.SetLatency(0)
	if code, out, errOut := run1(t, "once", "--config", cfg); code != 0 {
		t.Fatalf("once after the stop: exit %d\n%s\n%s", code, out, errOut)
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != 12 || len(ids) != 12 {
		t.Errorf("got %d posts for %d stories, want 12 each", len(ps), len(ids))
	}
}

// BenchmarkRunIdleRSS measures the resident memory of a real newsmd run
// that has written its stories and waits for the next poll.
func BenchmarkRunIdleRSS(b *testing.B) {
	for b.Loop() {
		stories := fakesite.Stories(200, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
		site := fakesite.New(stories)
		dir := b.TempDir()
		c := config.Default()
		c.Output.Dir = dir + "/_posts"
		c.Store.Path = dir + "/state.db"
		c.Sites[0].Hosts = append(c.Sites[0].Hosts, "127.0.0.1")
		c.Sites[0].CanonicalHost = site.Host()
		c.Sites[0].CanonicalScheme = "http"
		c.Fetch.Delay = 0
		c.Server.Tick = 200 * time.Millisecond
		c.Server.Listen = ""
		c.Feeds = nil
		for _, sec := range fakesite.Sections {
			c.Feeds = append(c.Feeds, yamlFeed(sec, "rss", site.FeedURL(sec)))
		}
		cfg := writeYAMLConfig(b, c, dir)
		bin := buildBinary(b)
		cmd := exec.Command(bin, "run", "--config", cfg)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if countMD(dir) == 200 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3 * time.Second) // idle: a few ticks with nothing due
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		site.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			for _, key := range []string{"VmRSS:", "VmHWM:"} {
				if strings.HasPrefix(line, key) {
					var kb float64
					fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, key)), "%f", &kb)
					b.ReportMetric(kb/1024, strings.ToLower(strings.TrimSuffix(key, ":"))+"-MB")
				}
			}
		}
	}
}
