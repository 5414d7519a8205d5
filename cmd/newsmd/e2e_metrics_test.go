package main

import (
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// lintMetrics fails the test when an exposition breaks the rules of
// `promtool check metrics`: client_golang's promlint, which promtool
// runs, and promtool itself when it is installed (.ci/run installs it;
// under CI its absence is a failure).
func lintMetrics(t *testing.T, text string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, text)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found; CI is set, and .ci/run installs it (Debian's prometheus package)")
		}
		t.Logf("promtool not installed; checked with promlint only (apt-get install prometheus for promtool)")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestRunReadyDuringFirstCycle: a real newsmd run whose first cycle
// cannot end (every article page answers only when the client gives up)
// is ready within seconds anyway: the store answers and the scheduler's
// loop has started. Meanwhile /metrics, before any story was written or
// failed, already shows the failure, duplicate and by-extractor series at
// zero, the Go and process collectors and newsmd_build_info, and passes
// promtool check metrics.
func TestRunReadyDuringFirstCycle(t *testing.T) {
	stories := fakesite.Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	site.SetLatency(time.Hour) // every article page, until the client goes away
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Listen = "127.0.0.1:0"
	c.Server.Tick = 200 * time.Millisecond
	c.Fetch.Timeout = 10 * stopGuard
	cfg := writeYAMLConfig(t, c, dir)

	cmd, exited, alive, stderr := startRun(t, cfg)
	base := "http://" + boundAddr(t, alive, stderr)
	waitFor(t, "story pages to be fetched", alive, func() bool { return site.InFlight() > 0 }, stderr)
	waitFor(t, "/readyz to answer 200", alive, func() bool {
		code, _ := httpGet(base + "/readyz")
		return code == 200
	}, stderr)
	// The first cycle is still under way: its pages are held.
	if n := site.InFlight(); n == 0 {
		t.Fatalf("no story page in flight once ready: the first cycle ended, the test proves nothing\n%s", stderr.String())
	}
	if n := len(posts(t, dir)); n != 0 {
		t.Fatalf("%d posts written while every page is held", n)
	}

	code, metrics := httpGet(base + "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, metrics)
	}
	zero := []string{
		`newsmd_article_failures_total{reason="timeout"}`,
		`newsmd_article_failures_total{reason="http_404"}`,
		`newsmd_article_failures_total{reason="extract"}`,
		`newsmd_articles_given_up_total{reason="timeout"}`,
		`newsmd_feed_failures_total{reason="parse"}`,
		`newsmd_feed_polls_total{result="error"}`,
		`newsmd_articles_duplicate_total`,
		`newsmd_claims_lost_total{kind="story"}`,
		`newsmd_claims_lost_total{kind="feed"}`,
		`newsmd_truncated_refetched_total{result="failed"}`,
		`newsmd_fetch_retries_total{reason="timeout"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/sg-ldjson"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="zaobao/hk"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="generic"}`,
		`newsmd_articles_written_total{site="zaobao",extractor="feed"}`,
		`newsmd_generic_fallback_total{site="zaobao"}`,
		`newsmd_feed_last_new_item_timestamp_seconds{feed="china"}`,
		`newsmd_scheduler_last_cycle_timestamp_seconds`,
	}
	for _, s := range zero {
		if v := metricValue(t, metrics, s); v != 0 {
			t.Errorf("%s = %v before any story ended, want 0 (-1: absent)", s, v)
		}
	}
	if v := metricValue(t, metrics, `newsmd_feed_last_success_timestamp_seconds{feed="china"}`); v < float64(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf(`newsmd_feed_last_success_timestamp_seconds{feed="china"} = %v after the feed answered, want a Unix time`, v)
	}
	for _, want := range []string{"\ngo_goroutines ", "\nprocess_resident_memory_bytes ", "\nnewsmd_build_info{", `newsmd_stories{state="written"} 0`,
		`newsmd_http_responses_total{code="200",host="127.0.0.1"}`, `newsmd_fetch_politeness_wait_seconds_count{host="127.0.0.1"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, gone := range []string{"newsmd_fetch_duration_seconds", "newsmd_scheduler_last_cycle_seconds "} {
		if strings.Contains(metrics, gone) {
			t.Errorf("metrics still carry %q, renamed", gone)
		}
	}
	lintMetrics(t, metrics)

	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
}

// TestOnceMetricsFile: once --metrics-file writes the run's series, in
// the text format node_exporter's textfile collector reads, by a rename:
// the folder holds the file alone.
func TestOnceMetricsFile(t *testing.T) {
	stories := fakesite.Stories(16, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	textDir := t.TempDir()
	file := filepath.Join(textDir, "newsmd.prom")
	code, out, errOut := run1(t, "once", "--config", cfg, "--metrics-file", file)
	if code != 0 {
		t.Fatalf("once --metrics-file: exit %d\n%s\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(data)
	if n := sumSeries(t, metrics, "newsmd_articles_written_total"); n != 16 {
		t.Errorf("newsmd_articles_written_total: %v over its series, want 16", n)
	}
	since := float64(time.Now().Add(-time.Hour).Unix())
	for _, s := range []string{
		`newsmd_feed_last_success_timestamp_seconds{feed="china"}`,
		`newsmd_feed_last_new_item_timestamp_seconds{feed="china"}`,
		`newsmd_feed_last_new_item_timestamp_seconds{feed="world"}`,
		`newsmd_scheduler_last_cycle_timestamp_seconds`,
	} {
		if v := metricValue(t, metrics, s); v < since {
			t.Errorf("%s = %v, want the time of this run", s, v)
		}
	}
	// 16 pages and 6 feeds answered 200; robots.txt too.
	if v := metricValue(t, metrics, `newsmd_http_responses_total{code="200",host="127.0.0.1"}`); v < 22 {
		t.Errorf("newsmd_http_responses_total{code=200} = %v, want at least 22", v)
	}
	for s, want := range map[string]float64{
		`newsmd_stories{state="written"}`:                 16,
		`newsmd_scheduler_cycle_duration_seconds_count`:   1,
		`newsmd_article_failures_total{reason="timeout"}`: 0,
	} {
		if v := metricValue(t, metrics, s); v != want {
			t.Errorf("%s = %v, want %v", s, v, want)
		}
	}
	if v := metricValue(t, metrics, `newsmd_http_request_duration_seconds_count{host="127.0.0.1"}`); v < 22 {
		t.Errorf("newsmd_http_request_duration_seconds_count = %v, want at least 22", v)
	}
	lintMetrics(t, metrics)
	if entries, _ := os.ReadDir(textDir); len(entries) != 1 {
		t.Errorf("got %d files beside the metrics file, want it alone (a temporary file left?)", len(entries)-1)
	}

	// A file that cannot be written is an error that says what to do.
	code, _, errOut = run1(t, "once", "--config", cfg, "--metrics-file", filepath.Join(textDir, "missing", "newsmd.prom"))
	if code == 0 || !strings.Contains(errOut, "write metrics file") || !strings.Contains(errOut, "hint: check that --metrics-file") {
		t.Errorf("once --metrics-file into a missing folder: exit %d, want an error and a hint\n%s", code, errOut)
	}
}

// TestDemo: newsmd demo archives the built-in fake site, served on
// loopback, into the folder it is given and says where the posts are; a
// second run writes nothing new.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := run1(t, "demo", "--dir", dir, "--stories", "12")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := len(posts(t, dir)); n != 12 {
		t.Errorf("demo wrote %d posts, want 12", n)
	}
	for _, want := range []string{"12 written", "12 posts in " + filepath.Join(dir, "_posts"), "less ", filepath.Join(dir, "config.yaml")} {
		if !strings.Contains(out, want) {
			t.Errorf("demo's output lacks %q:\n%s", want, out)
		}
	}
	// Every URL it was given is on loopback.
	data, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if _, u, ok := strings.Cut(line, "url: "); ok && !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("demo config polls %s, not the loopback fake site", strings.TrimSpace(u))
		}
	}
	code, out, errOut = run1(t, "demo", "--dir", dir, "--stories", "12")
	if code != 0 || !strings.Contains(out, "0 written") || !strings.Contains(out, "12 duplicate") {
		t.Errorf("second demo: exit %d, want 0 written and 12 duplicate:\n%s\n%s", code, out, errOut)
	}
	if n := len(posts(t, dir)); n != 12 {
		t.Errorf("after the second demo: %d posts, want 12", n)
	}
	if code, _, errOut := run1(t, "demo", "--dir", dir, "--config", "x.yaml"); code != exitUsage || !strings.Contains(errOut, "demo writes its own config") {
		t.Errorf("demo --config: exit %d, want %d and a hint\n%s", code, exitUsage, errOut)
	}
}

// tcpProxy forwards connections to a server until stopped: stopping it
// closes its listener and every connection through it, as a database
// that goes away does.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target}
	p.listen(t, "127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) listen(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// proxiedStore is the config of a run on a PostgreSQL schema of its own,
// reached through a proxy the test can close and open, against a fake
// site of 4 stories; with its archive folder. Its server listens on a
// port it chooses (127.0.0.1:0) and logs.
func proxiedStore(t *testing.T) (cfg, dir string, proxy *tcpProxy) {
	t.Helper()
	u, err := url.Parse(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy = startProxy(t, u.Host)
	u.Host = proxy.addr
	site := fakesite.New(fakesite.Stories(4, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	t.Cleanup(site.Close)
	dir = t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Store.Driver = "postgres"
	c.Store.DSN = u.String()
	c.Server.Listen = "127.0.0.1:0"
	c.Server.Tick = 200 * time.Millisecond
	return writeYAMLConfig(t, c, dir), dir, proxy
}

// TestReadyzStoreUnreachable: a newsmd run on PostgreSQL, reached through
// a proxy, is ready; when the proxy goes away (the database unreachable)
// /readyz answers 503 and names the store while the process stays up;
// when the database is back it is ready again, and it stops cleanly.
func TestReadyzStoreUnreachable(t *testing.T) {
	cfg, _, proxy := proxiedStore(t)

	cmd, exited, alive, stderr := startRun(t, cfg)
	base := "http://" + boundAddr(t, alive, stderr)
	ready := func() bool { code, _ := httpGet(base + "/readyz"); return code == 200 }
	waitFor(t, "/readyz to answer 200", alive, ready, stderr)

	proxy.stop()
	var body string
	waitFor(t, "/readyz to answer 503 with the store away", alive, func() bool {
		var code int
		code, body = httpGet(base + "/readyz")
		return code == 503
	}, stderr)
	if !strings.Contains(body, "store unreachable") {
		t.Errorf("/readyz with the store away: %q, want it to name the store", body)
	}
	waitFor(t, "the daemon to log the store unreachable", alive, func() bool {
		return strings.Contains(stderr.String(), "store unreachable")
	}, stderr)
	if code, _ := httpGet(base + "/healthz"); code != 200 {
		t.Errorf("/healthz with the store away: %d, want 200 (the process is up)", code)
	}

	proxy.listen(t, proxy.addr)
	waitFor(t, "/readyz to answer 200 with the store back", alive, ready, stderr)
	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
}

// TestRunWaitsForStore: run started while PostgreSQL cannot be reached
// stays up, alive and not ready, and starts once the database answers,
// on the same address; the stories are then written.
func TestRunWaitsForStore(t *testing.T) {
	cfg, dir, proxy := proxiedStore(t)
	proxy.stop() // the database is away when run starts

	cmd, exited, alive, stderr := startRun(t, cfg)
	base := "http://" + boundAddr(t, alive, stderr)
	var body string
	waitFor(t, "/readyz to answer 503 while the store is away", alive, func() bool {
		var code int
		code, body = httpGet(base + "/readyz")
		return code == 503
	}, stderr)
	if !strings.Contains(body, "store unreachable") {
		t.Errorf("/readyz while waiting: %q, want it to name the store", body)
	}
	if code, _ := httpGet(base + "/healthz"); code != 200 {
		t.Errorf("/healthz while waiting: %d, want 200 (the process is up)", code)
	}
	if countMD(dir) != 0 {
		t.Errorf("posts written without a store")
	}

	proxy.listen(t, proxy.addr)
	// run's own server replaces the wait's: its address is the second
	// one logged (with a fixed server.listen it is the same).
	listening := regexp.MustCompile(`"msg":"listening".*?"addr":"([^"]+)"|msg=listening .*?addr=(\S+)`)
	waitFor(t, "run to listen once the store answers", alive, func() bool {
		m := listening.FindAllStringSubmatch(stderr.String(), -1)
		if len(m) < 2 {
			return false
		}
		base = "http://" + m[len(m)-1][1] + m[len(m)-1][2]
		return true
	}, stderr)
	waitFor(t, "/readyz to answer 200 once the store answers", alive, func() bool {
		code, _ := httpGet(base + "/readyz")
		return code == 200
	}, stderr)
	waitFor(t, "the 4 stories to be written", alive, func() bool { return countMD(dir) == 4 }, stderr)
	if err := sigterm(t, cmd, exited, stderr); err != nil {
		t.Errorf("run exited with %v after SIGTERM\n%s", err, stderr.String())
	}
}
