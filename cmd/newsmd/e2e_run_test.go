package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/fakesite"
	"go.yaml.in/yaml/v3"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(url string) (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRunDaemon starts a real newsmd run: it becomes ready, writes every
// story, serves metrics, answers healthcheck, and stops cleanly on
// SIGTERM within 10 seconds.
func TestRunDaemon(t *testing.T) {
	stories := fakesite.Stories(20, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	c := DefaultConfig()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = freeAddr(t)
	c.Server.Tick = 200 * time.Millisecond
	cfg := writeYAMLConfig(t, c, dir)

	var stderr strings.Builder
	cmd := exec.Command(newsmdBinary(t), "run", "--config", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + c.Server.Listen
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := httpGet(base + "/readyz"); code == 200 && len(posts(t, dir)) == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := httpGet(base + "/readyz"); code != 200 {
		t.Fatalf("readyz: %d %s\n%s", code, body, stderr.String())
	}
	if n := len(storyIDs(t, posts(t, dir))); n != 20 {
		t.Fatalf("daemon wrote %d stories, want 20\n%s", n, stderr.String())
	}
	if code, body := httpGet(base + "/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz: %d %q", code, body)
	}
	_, metrics := httpGet(base + "/metrics")
	for _, want := range []string{
		"newsmd_articles_written_total 20",
		`newsmd_feed_polls_total{result="ok"} 6`,
		"newsmd_fetch_duration_seconds_count 20",
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

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not stop within 10 s of SIGTERM")
	}
	if code, _, _ := run1(t, "healthcheck", "--config", cfg); code == 0 {
		t.Errorf("healthcheck succeeded after the daemon stopped")
	}
}

// TestRunStopsMidWork: SIGTERM while pages are being fetched stops the
// daemon within 10 seconds, and the interrupted stories are written by
// the next run, once each.
func TestRunStopsMidWork(t *testing.T) {
	stories := fakesite.Stories(12, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	for _, st := range stories {
		site.Fail(st.Path(), fakesite.Fault{Delay: 800 * time.Millisecond})
	}
	dir := t.TempDir()
	c := DefaultConfig()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = ""
	c.Fetch.Timeout = 5 * time.Second
	cfg := writeYAMLConfig(t, c, dir)

	cmd := exec.Command(newsmdBinary(t), "run", "--config", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(1200 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run exited with %v after SIGTERM", err)
		}
		t.Logf("stopped %v after SIGTERM with %d posts written", time.Since(start).Round(time.Millisecond), len(posts(t, dir)))
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not stop within 10 s of SIGTERM")
	}
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
		c := DefaultConfig()
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
		data, _ := yaml.Marshal(c)
		cfg := dir + "/config.yaml"
		os.WriteFile(cfg, data, 0o644)
		bin := buildBinary(b)
		cmd := exec.Command(bin, "run", "--config", cfg)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if entries, _ := os.ReadDir(dir + "/_posts"); len(entries) == 200 {
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
