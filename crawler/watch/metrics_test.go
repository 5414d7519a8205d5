package watch

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func exposition(t *testing.T, m *Metrics) string {
	t.Helper()
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMetricsAtZero: a fresh Metrics shows every series without labels
// and those whose labels are known in advance at 0, the Go and process
// collectors and newsmd_build_info, before anything was counted.
func TestMetricsAtZero(t *testing.T) {
	m := NewMetrics(BuildInfo{Version: "v1.2.3", Revision: "abc123"})
	m.InitReasons([]string{"timeout", "http_404"})
	text := exposition(t, m)
	for _, want := range []string{
		"newsmd_articles_duplicate_total 0",
		"newsmd_feed_items_out_of_scope_total 0",
		`newsmd_article_failures_total{reason="timeout"} 0`,
		`newsmd_article_failures_total{reason="http_404"} 0`,
		`newsmd_feed_failures_total{reason="timeout"} 0`,
		`newsmd_articles_given_up_total{reason="http_404"} 0`,
		`newsmd_feed_polls_total{result="error"} 0`,
		`newsmd_feed_polls_total{result="not_modified"} 0`,
		`newsmd_claims_lost_total{kind="story"} 0`,
		`newsmd_claims_lost_total{kind="feed"} 0`,
		`newsmd_truncated_refetched_total{result="failed"} 0`,
		`newsmd_fetch_retries_total{reason="http_503"} 0`,
		"newsmd_scheduler_last_cycle_timestamp_seconds 0",
		"newsmd_scheduler_cycle_duration_seconds_count 0",
		"newsmd_publication_lag_seconds_count 0",
		`newsmd_build_info{goversion="` + runtime.Version() + `",revision="abc123",version="v1.2.3"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("fresh metrics lack %q", want)
		}
	}
	if strings.Contains(text, "newsmd_scheduler_last_cycle_seconds ") || strings.Contains(text, "newsmd_fetch_duration_seconds") {
		t.Errorf("fresh metrics still carry a renamed series:\n%s", text)
	}
}

// TestMetricsRecord: what the runner and the fetcher report lands in the
// series that say so: one request's time apart from its politeness wait,
// responses by host and code, retries, a cycle's end and length.
func TestMetricsRecord(t *testing.T) {
	m := NewMetrics(BuildInfo{})
	m.HTTPRequest("example.com", 200, 31250*time.Microsecond)
	m.HTTPRequest("example.com", 503, 2*time.Second)
	m.HTTPRequest("example.com", 0, 5968750*time.Microsecond) // no response
	m.PolitenessWait("example.com", 900*time.Millisecond)
	m.Retry("http_503")
	start := time.Unix(1700000000, 0)
	m.CycleDone(start, start.Add(90*time.Second))
	text := exposition(t, m)
	for _, want := range []string{
		`newsmd_http_responses_total{code="200",host="example.com"} 1`,
		`newsmd_http_responses_total{code="503",host="example.com"} 1`,
		`newsmd_http_request_duration_seconds_count{host="example.com"} 3`,
		`newsmd_http_request_duration_seconds_bucket{host="example.com",le="0.05"} 1`,
		`newsmd_http_request_duration_seconds_sum{host="example.com"} 8`,
		`newsmd_fetch_politeness_wait_seconds_count{host="example.com"} 1`,
		`newsmd_fetch_politeness_wait_seconds_bucket{host="example.com",le="0.5"} 0`,
		`newsmd_fetch_politeness_wait_seconds_bucket{host="example.com",le="1"} 1`,
		`newsmd_fetch_retries_total{reason="http_503"} 1`,
		"newsmd_scheduler_last_cycle_timestamp_seconds 1.70000009e+09",
		"newsmd_scheduler_cycle_duration_seconds_sum 90",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, `code="0"`) {
		t.Errorf("a request without a response was counted as a response:\n%s", text)
	}
}

// TestMetricsLint: the exposition passes the checks of promtool check
// metrics (client_golang's promlint is its implementation), with every
// kind of series in it.
func TestMetricsLint(t *testing.T) {
	m := NewMetrics(BuildInfo{Version: "dev"})
	m.InitReasons([]string{"timeout"})
	m.Add("newsmd_articles_written_total", 1, "site", "zaobao", "extractor", "zaobao/hk")
	m.Set("newsmd_feed_items", 3, "feed", "china")
	m.HTTPRequest("example.com", 200, time.Millisecond)
	m.ObserveLag(time.Hour)
	problems, err := promlint.New(strings.NewReader(exposition(t, m))).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsWriteFile: the textfile is written whole, by a rename, and
// replaced whole by the next write; no temporary file is left beside it.
func TestMetricsWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "newsmd.prom")
	m := NewMetrics(BuildInfo{})
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	m.Add("newsmd_articles_duplicate_total", 2)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "newsmd_articles_duplicate_total 2\n") {
		t.Errorf("metrics file lacks the second write's value:\n%s", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("got %d files in the folder, want only newsmd.prom", len(entries))
	}
	if err := m.WriteFile(filepath.Join(dir, "missing", "newsmd.prom")); err == nil || !strings.Contains(err.Error(), "write metrics file") {
		t.Errorf("write into a missing folder: got %v, want an error naming the file", err)
	}
}

// TestMetricsUndeclared: a series that was never declared is a
// programming error, caught at once rather than silently dropped.
func TestMetricsUndeclared(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add of an undeclared counter did not panic")
		}
	}()
	NewMetrics(BuildInfo{}).Add("newsmd_no_such_total", 1)
}

// TestMetricsNil: a nil *Metrics records nothing and does not panic.
func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.Add("newsmd_articles_duplicate_total", 1)
	m.Set("newsmd_feed_items", 1, "feed", "x")
	m.HTTPRequest("h", 200, time.Second)
	m.PolitenessWait("h", time.Second)
	m.Retry("timeout")
	m.CycleDone(time.Now(), time.Now())
	m.InitReasons([]string{"timeout"})
}
