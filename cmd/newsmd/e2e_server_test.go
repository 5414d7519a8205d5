package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// TestServerSurvivesIdleConnections: a real newsmd run with 128 file
// descriptors is sent 500 connections that never finish or sit idle after
// one request. It stays alive, writes the stories its feeds list meanwhile,
// answers /healthz once they are gone and stops cleanly on SIGTERM.
func TestServerSurvivesIdleConnections(t *testing.T) {
	const (
		fdLimit = 128
		conns   = 500
	)
	needFileLimit(t, conns+200)

	stories := fakesite.Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	// The feeds are reached through a gate that holds every request until
	// released, so that the daemon's crawling happens while the
	// connections are held, whatever the speed of the machine.
	release := make(chan struct{})
	siteURL, _ := url.Parse(site.URL())
	proxy := httputil.NewSingleHostReverseProxy(siteURL)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	defer gate.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = "127.0.0.1:0"
	c.Server.Tick = 200 * time.Millisecond
	c.Fetch.Timeout = 5 * time.Minute // the gate holds the first poll
	c.Feeds = nil
	for _, sec := range fakesite.Sections {
		c.Feeds = append(c.Feeds, yamlFeed(sec, "rss", gate.URL+strings.TrimPrefix(site.FeedURL(sec), site.URL())))
	}
	cfg := writeYAMLConfig(t, c, dir)

	// sh lowers both the soft and the hard limit, so that the Go runtime
	// of newsmd cannot raise it again; exec keeps the pid.
	var stderr lockedBuffer
	cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, fdLimit), newsmdBinary(t), "run", "--config", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("newsmd run exited %s: %v\n%s", when, err, stderr.String())
		default:
		}
	}
	c.Server.Listen = boundAddr(t, alive, &stderr)
	base := "http://" + c.Server.Listen
	waitFor(t, "/healthz to answer 200", alive, func() bool {
		code, _ := httpGet(base + "/healthz")
		return code == 200
	}, &stderr)
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Max open files            %d", fdLimit); !strings.Contains(string(limits), want) {
		t.Fatalf("newsmd does not run with %d file descriptors:\n%s", fdLimit, limits)
	}

	// Half the connections send nothing, the other half one keep-alive
	// request, whose answer they never read, and then nothing more.
	var held []net.Conn
	defer func() {
		for _, nc := range held {
			nc.Close()
		}
	}()
	d := net.Dialer{Timeout: 10 * time.Second}
	for i := range conns {
		nc, err := d.DialContext(t.Context(), "tcp", c.Server.Listen)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, nc)
		if i%2 == 1 {
			if _, err := fmt.Fprintf(nc, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", c.Server.Listen); err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
		}
	}
	alive("with the connections open")

	// While they are held, the daemon polls its feeds and writes the
	// stories: the listener must leave it file descriptors.
	close(release)
	released = true
	waitFor(t, "the stories to be written while the connections are held", alive, func() bool {
		return countMD(dir) == len(stories)
	}, &stderr)
	alive("with the connections open")
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)); err == nil {
		t.Logf("with %d connections open, newsmd holds %d of its %d file descriptors", conns, len(fds), fdLimit)
	}
	if n := len(storyIDs(t, posts(t, dir))); n != len(stories) {
		t.Errorf("got %d stories, want %d", n, len(stories))
	}

	for _, nc := range held {
		nc.Close()
	}
	held = nil
	waitFor(t, "/healthz to answer 200 once the connections are closed", alive, func() bool {
		code, _ := httpGet(base + "/healthz")
		return code == 200
	}, &stderr)

	logs := stderr.String()
	if n := strings.Count(logs, "connection cap reached"); n == 0 || n > 10 {
		t.Errorf("the connection cap was logged %d times, want once or a few\n%s", n, logs)
	}
	if strings.Contains(logs, "too many open files") {
		t.Errorf("newsmd ran out of file descriptors\n%s", logs)
	}

	if err := sigterm(t, cmd, exited, &stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM, want exit 143\n%s", err, stderr.String())
	}
}

// waitFor polls cond every 100 ms for up to 60 s, failing the test if the
// daemon dies meanwhile or cond never holds. The bound is generous: it
// only keeps a broken daemon from hanging the test.
func waitFor(t *testing.T, what string, alive func(string), cond func() bool, logs *lockedBuffer) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		alive("waiting for " + what)
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, logs.String())
		}
		<-tick.C
	}
}

// needFileLimit skips the test unless this process may open n files.
// The Go runtime has already raised its soft limit to the hard one, which
// only a privileged process could raise further.
func needFileLimit(t *testing.T, n int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc and sh's ulimit")
	}
	limits, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(limits), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if soft, err := strconv.Atoi(f[0]); err == nil && soft < n {
				t.Skipf("the open-file limit is %d, want at least %d for the test's connections", soft, n)
			}
			return
		}
	}
}

// lockedBuffer is a child's stderr, read while the child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// lines returns the lines written so far that hold any of subs, the last
// 40 of them at most.
func (b *lockedBuffer) lines(subs ...string) string {
	var kept []string
	for line := range strings.Lines(b.String()) {
		for _, s := range subs {
			if strings.Contains(line, s) {
				kept = append(kept, line)
				break
			}
		}
	}
	return strings.Join(kept[max(len(kept)-40, 0):], "")
}

// TestServerListensAgainAfterServeFails: when Serve returns for another
// reason than stop (an accept error it does not retry), health is served
// again from a new listener, and stop still ends it.
func TestServerListensAgainAfterServeFails(t *testing.T) {
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	again := make(chan string, 1)
	relisten := func() (net.Listener, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			again <- ln.Addr().String()
		}
		return ln, err
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s := startHTTP(log, failingListener{first}, h, relisten)

	var addr string
	select {
	case addr = <-again:
	case <-time.After(60 * time.Second):
		t.Fatalf("no new listener\n%s", logs.String())
	}
	var code int
	waitFor(t, "/healthz on the new listener", func(string) {}, func() bool {
		code, _ = httpGet("http://" + addr + "/healthz")
		return code == 200
	}, &logs)
	s.stop(t.Context())
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "accept: out of buffer space") {
		t.Errorf("the failure was not logged at ERROR:\n%s", logs.String())
	}
	if code, _ := httpGet("http://" + addr + "/healthz"); code != 0 {
		t.Errorf("after stop: HTTP %d, want no answer", code)
	}
}

// failingListener fails every Accept with an error Serve does not retry,
// as accept4 does with ENOBUFS.
type failingListener struct{ net.Listener }

func (l failingListener) Accept() (net.Conn, error) {
	return nil, errors.New("accept: out of buffer space")
}
