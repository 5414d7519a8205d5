package watch

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Metrics counts what the crawler does, for Prometheus' text format.
// The zero value is ready; a nil *Metrics records nothing.
type Metrics struct {
	mu       sync.Mutex
	counters map[string]float64 // full series name with labels → value
	hists    map[string]*histogram
}

type histogram struct {
	bounds []float64
	counts []uint64 // per bound, plus +Inf last
	sum    float64
	n      uint64
}

// Buckets in seconds: fetch latency, and the lag from publication to the
// post being written (seconds to days).
var (
	latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	lagBuckets     = []float64{60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 7 * 86400}
)

// Add adds v to a counter; labels are name, value pairs.
func (m *Metrics) Add(name string, v float64, labels ...string) {
	if m == nil {
		return
	}
	key := series(name, labels)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = map[string]float64{}
	}
	m.counters[key] += v
}

// Set sets a gauge; labels are name, value pairs.
func (m *Metrics) Set(name string, v float64, labels ...string) {
	if m == nil {
		return
	}
	key := series(name, labels)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = map[string]float64{}
	}
	m.counters[key] = v
}

// ObserveFetch records the time to fetch an article page, retries
// included.
func (m *Metrics) ObserveFetch(d time.Duration) {
	m.observe("newsmd_fetch_duration_seconds", latencyBuckets, d.Seconds())
}

// ObserveLag records the time from a story's publication to its post
// being written.
func (m *Metrics) ObserveLag(d time.Duration) {
	m.observe("newsmd_publication_lag_seconds", lagBuckets, d.Seconds())
}

func (m *Metrics) observe(name string, buckets []float64, v float64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hists == nil {
		m.hists = map[string]*histogram{}
	}
	h := m.hists[name]
	if h == nil {
		h = &histogram{bounds: buckets, counts: make([]uint64, len(buckets)+1)}
		m.hists[name] = h
	}
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

func series(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name + "{")
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteString("}")
	return b.String()
}

var help = map[string]string{
	"newsmd_feed_polls_total":              "Feed polls, by result (ok, not_modified, error).",
	"newsmd_articles_written_total":        "Posts written, by site rule (\"\" for sites without rules) and extractor (zaobao/sg-hydration, generic, feed).",
	"newsmd_article_failures_total":        "Stories that failed, by reason.",
	"newsmd_articles_duplicate_total":      "Stories skipped as already written or failed for good.",
	"newsmd_claims_lost_total":             "Stories and feeds taken over by another worker after this one's lease ran out, by kind.",
	"newsmd_articles_given_up_total":       "Stories given up after failing crawl.max_attempts times over crawl.give_up_after, by reason.",
	"newsmd_truncated_refetched_total":     "Re-fetches of posts a paywall cut short, by result (complete, longer: the post rewritten; unchanged, failed: the post kept).",
	"newsmd_feed_failures_total":           "Feed polls that failed, by reason (too_large, truncated, timeout, http_503, parse...).",
	"newsmd_feed_items_out_of_scope_total": "Feed items dropped because no site rule allows their host and port.",
	"newsmd_fetch_duration_seconds":        "Time to fetch an article page, retries included.",
	"newsmd_publication_lag_seconds":       "Time from a story's publication to its post being written.",
	"newsmd_scheduler_last_cycle_seconds":  "Unix time of the scheduler's last cycle.",
	"newsmd_feed_items":                    "Stories in scope that the feed listed at its last poll that read it (a 304 keeps the count; 0 until one reads it).",
	"newsmd_feed_consecutive_empty_polls":  "Polls in a row that read the feed and found no story in scope; 0 after a poll that found one.",
	"newsmd_feed_consecutive_failures":     "Polls in a row that failed; 0 after a poll that answered.",
	"newsmd_generic_fallback_total":        "Posts of a site with layouts written by the generic extractor because none of the site's layouts matched the page.",
	"newsmd_articles_missing_field_total":  "Posts written by a layout without a field it has rules for (author, image, keywords, section).",
	"newsmd_articles_truncated_total":      "Posts written truncated by a paywall, by site rule.",
}

// WriteTo writes every series in Prometheus' text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	m.mu.Lock()
	byName := map[string][]string{}
	for k := range m.counters {
		name, _, _ := strings.Cut(k, "{")
		byName[name] = append(byName[name], k)
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		typ := "counter"
		if !strings.HasSuffix(name, "_total") {
			typ = "gauge"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help[name], name, typ)
		keys := byName[name]
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %g\n", k, m.counters[k])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.hists)) {
		h := m.hists[name]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", name, help[name], name)
		var cum uint64
		for i, bound := range h.bounds {
			cum += h.counts[i]
			fmt.Fprintf(&b, "%s_bucket{le=\"%g\"} %d\n", name, bound, cum)
		}
		fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, h.n, name, h.sum, name, h.n)
	}
	m.mu.Unlock()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// SetLastCycle records when the scheduler last finished a cycle.
func (m *Metrics) SetLastCycle(t time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = map[string]float64{}
	}
	m.counters["newsmd_scheduler_last_cycle_seconds"] = float64(t.Unix())
}
