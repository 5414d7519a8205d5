package watch

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Metrics counts what the crawler does, in a Prometheus registry of its
// own (never the global one): the series below, the Go and process
// collectors and newsmd_build_info. A nil *Metrics records nothing.
//
// The runner names a series by its name and label pairs (Add, Set,
// Observe); every name is declared once, in defs, with its help and
// labels. A name that is not declared, or the wrong labels, panic, as
// client_golang does: they are programming errors, caught by the tests.
type Metrics struct {
	reg      *prometheus.Registry
	counters map[string]*prometheus.CounterVec
	gauges   map[string]*prometheus.GaugeVec
	hists    map[string]*prometheus.HistogramVec
}

// BuildInfo is what newsmd_build_info says of the binary.
type BuildInfo struct {
	Version  string // the stamped version, or "devel"
	Revision string // the VCS revision, or "unknown"
}

type kind int

const (
	counter kind = iota
	gauge
	histogram
)

type def struct {
	name    string
	kind    kind
	help    string
	labels  []string
	buckets []float64
}

// Buckets in seconds: one HTTP request and a politeness wait (from
// milliseconds to a fetch.timeout), a scheduler cycle, and the lag from
// publication to the post being written (minutes to a week).
var (
	requestBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	waitBuckets    = []float64{0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
	cycleBuckets   = []float64{0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800}
	lagBuckets     = []float64{60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 7 * 86400}
)

// defs are newsmd's own series. newsmd_stories is the store's, added by
// cmd with Register.
var defs = []def{
	{"newsmd_feed_polls_total", counter, "Feed polls, by result (ok, not_modified, error).", []string{"result"}, nil},
	{"newsmd_feed_failures_total", counter, "Feed polls that failed, by reason (too_large, truncated, timeout, http_503, parse...).", []string{"reason"}, nil},
	{"newsmd_feed_items_out_of_scope_total", counter, "Feed items dropped because no site rule allows their host and port.", nil, nil},
	{"newsmd_feed_last_success_timestamp_seconds", gauge, "Unix time of the feed's last poll that answered (200 or 304); 0 until one does.", []string{"feed"}, nil},
	{"newsmd_feed_last_new_item_timestamp_seconds", gauge, "Unix time a story the feed listed was last written as a new post; 0 until one is.", []string{"feed"}, nil},
	{"newsmd_feed_items", gauge, "Stories in scope that the feed listed at its last poll that read it (a 304 keeps the count; 0 until one reads it).", []string{"feed"}, nil},
	{"newsmd_feed_consecutive_empty_polls", gauge, "Polls in a row that read the feed and found no story in scope; 0 after a poll that found one.", []string{"feed"}, nil},
	{"newsmd_feed_consecutive_failures", gauge, "Polls in a row that failed; 0 after a poll that answered.", []string{"feed"}, nil},
	{"newsmd_articles_written_total", counter, "Posts written, by site rule (\"\" for sites without rules) and extractor (zaobao/sg-hydration, generic, feed).", []string{"site", "extractor"}, nil},
	{"newsmd_articles_duplicate_total", counter, "Stories skipped as already written or failed for good.", nil, nil},
	{"newsmd_article_failures_total", counter, "Stories that failed, by reason.", []string{"reason"}, nil},
	{"newsmd_articles_given_up_total", counter, "Stories given up after failing crawl.max_attempts times over crawl.give_up_after, by reason.", []string{"reason"}, nil},
	{"newsmd_truncated_refetched_total", counter, "Re-fetches of posts a paywall cut short, by result (complete, longer: the post rewritten; unchanged, failed: the post kept).", []string{"result"}, nil},
	{"newsmd_claims_lost_total", counter, "Stories and feeds taken over by another worker after this one's lease ran out, by kind.", []string{"kind"}, nil},
	{"newsmd_generic_fallback_total", counter, "Posts of a site with layouts written by the generic extractor because none of the site's layouts matched the page.", []string{"site"}, nil},
	{"newsmd_articles_missing_field_total", counter, "Posts written by a layout without a field it has rules for (author, image, keywords, section).", []string{"site", "layout", "field"}, nil},
	{"newsmd_articles_truncated_total", counter, "Posts written truncated by a paywall, by site rule.", []string{"site"}, nil},
	{"newsmd_http_responses_total", counter, "HTTP responses, by host and status code (robots.txt, feeds, listings and pages; each retry and redirect hop is one).", []string{"host", "code"}, nil},
	{"newsmd_http_request_duration_seconds", histogram, "Time of one HTTP request, from sending it to the end of its body, failed ones included; politeness waits and retries are not in it.", []string{"host"}, requestBuckets},
	{"newsmd_fetch_politeness_wait_seconds", histogram, "Time a request waited for its host's politeness budget (fetch.concurrency, fetch.delay, shared across workers on PostgreSQL) before it was sent.", []string{"host"}, waitBuckets},
	{"newsmd_fetch_retries_total", counter, "Requests made again after a passing failure (timeout, network, truncated, 429, 5xx), by reason.", []string{"reason"}, nil},
	{"newsmd_publication_lag_seconds", histogram, "Time from a story's publication to its post being written.", nil, lagBuckets},
	{"newsmd_scheduler_last_cycle_timestamp_seconds", gauge, "Unix time the last cycle (a run tick's work, or once) ended; 0 before the first.", nil, nil},
	{"newsmd_scheduler_cycle_duration_seconds", histogram, "Time of one cycle: polling the due feeds, writing their stories, retries and re-fetches.", nil, cycleBuckets},
}

// Label values known in advance, whose series are at zero from the start.
var (
	pollResults    = []string{"ok", "not_modified", "error"}
	refetchResults = []string{"complete", "longer", "unchanged", "failed"}
	claimKinds     = []string{"story", "feed"}
	retryReasons   = []string{"timeout", "network", "truncated", "http_429", "http_500", "http_502", "http_503", "http_504"}
)

// NewMetrics returns the metrics of one process, every series without
// labels and every one whose labels are known in advance (poll results,
// claim kinds, re-fetch results, retry reasons) at zero. Alarms and
// InitReasons add those of a configuration and of the failure reasons.
func NewMetrics(info BuildInfo) *Metrics {
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		counters: map[string]*prometheus.CounterVec{},
		gauges:   map[string]*prometheus.GaugeVec{},
		hists:    map[string]*prometheus.HistogramVec{},
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, d := range defs {
		switch d.kind {
		case counter:
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.name, Help: d.help}, d.labels)
			m.counters[d.name] = v
			m.reg.MustRegister(v)
		case gauge:
			v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: d.name, Help: d.help}, d.labels)
			m.gauges[d.name] = v
			m.reg.MustRegister(v)
		case histogram:
			v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: d.name, Help: d.help, Buckets: d.buckets}, d.labels)
			m.hists[d.name] = v
			m.reg.MustRegister(v)
		}
		if len(d.labels) == 0 {
			m.touch(d)
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "newsmd_build_info",
		Help: "Always 1; the labels say which newsmd this is."}, []string{"version", "revision", "goversion"})
	bi.WithLabelValues(info.Version, info.Revision, runtime.Version()).Set(1)
	m.reg.MustRegister(bi)
	for _, r := range pollResults {
		m.Add("newsmd_feed_polls_total", 0, "result", r)
	}
	for _, r := range refetchResults {
		m.Add("newsmd_truncated_refetched_total", 0, "result", r)
	}
	for _, k := range claimKinds {
		m.Add("newsmd_claims_lost_total", 0, "kind", k)
	}
	for _, r := range retryReasons {
		m.Add("newsmd_fetch_retries_total", 0, "reason", r)
	}
	return m
}

// touch puts the one series of a metric without labels at zero.
func (m *Metrics) touch(d def) {
	switch d.kind {
	case counter:
		m.counters[d.name].WithLabelValues()
	case gauge:
		m.gauges[d.name].WithLabelValues()
	case histogram:
		m.hists[d.name].WithLabelValues()
	}
}

// InitReasons puts the story and feed failure series at zero for each
// reason (and the given-up series), so that an alert on them sees 0
// before the first failure.
func (m *Metrics) InitReasons(reasons []string) {
	for _, r := range reasons {
		m.Add("newsmd_article_failures_total", 0, "reason", r)
		m.Add("newsmd_feed_failures_total", 0, "reason", r)
		m.Add("newsmd_articles_given_up_total", 0, "reason", r)
	}
}

// Add adds v to a counter; labels are name, value pairs, in the order of
// the counter's declaration. Adding 0 makes the series exist at zero.
func (m *Metrics) Add(name string, v float64, labels ...string) {
	if m == nil {
		return
	}
	c, ok := m.counters[name]
	if !ok {
		panic("watch: no counter " + name)
	}
	c.WithLabelValues(values(name, labels)...).Add(v)
}

// Set sets a gauge; labels are name, value pairs.
func (m *Metrics) Set(name string, v float64, labels ...string) {
	if m == nil {
		return
	}
	g, ok := m.gauges[name]
	if !ok {
		panic("watch: no gauge " + name)
	}
	g.WithLabelValues(values(name, labels)...).Set(v)
}

// Observe adds v to a histogram; labels are name, value pairs.
func (m *Metrics) Observe(name string, v float64, labels ...string) {
	if m == nil {
		return
	}
	h, ok := m.hists[name]
	if !ok {
		panic("watch: no histogram " + name)
	}
	h.WithLabelValues(values(name, labels)...).Observe(v)
}

// values are the values of name, value pairs. The names document the
// call; the order is the declaration's, which client_golang checks by
// count.
func values(metric string, pairs []string) []string {
	if len(pairs)%2 != 0 {
		panic(fmt.Sprintf("watch: %s: odd label pairs %q", metric, pairs))
	}
	out := make([]string, 0, len(pairs)/2)
	for i := 1; i < len(pairs); i += 2 {
		out = append(out, pairs[i])
	}
	return out
}

// ObserveLag records the time from a story's publication to its post
// being written.
func (m *Metrics) ObserveLag(d time.Duration) {
	m.Observe("newsmd_publication_lag_seconds", d.Seconds())
}

// CycleDone records a cycle that started at start and ended at end.
func (m *Metrics) CycleDone(start, end time.Time) {
	m.Set("newsmd_scheduler_last_cycle_timestamp_seconds", float64(end.UnixMilli())/1000)
	m.Observe("newsmd_scheduler_cycle_duration_seconds", end.Sub(start).Seconds())
}

// HTTPRequest records one HTTP exchange with host: its status code (0
// when no response came) and how long it took. It makes Metrics a
// fetch.Observer.
func (m *Metrics) HTTPRequest(host string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.Observe("newsmd_http_request_duration_seconds", d.Seconds(), "host", host)
	if status > 0 {
		m.Add("newsmd_http_responses_total", 1, "host", host, "code", fmt.Sprint(status))
	}
}

// PolitenessWait records how long a request to host waited for the
// host's politeness budget.
func (m *Metrics) PolitenessWait(host string, d time.Duration) {
	m.Observe("newsmd_fetch_politeness_wait_seconds", d.Seconds(), "host", host)
}

// Retry records a request made again after a failure of reason.
func (m *Metrics) Retry(reason string) {
	m.Add("newsmd_fetch_retries_total", 1, "reason", reason)
}

// Register adds a collector of someone else's series (the store's story
// counts) to the registry.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// Gatherer is the registry, for an HTTP handler or a textfile.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// WriteTo writes every series in Prometheus' text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather metrics: %w", err)
	}
	var n int64
	for _, mf := range mfs {
		k, err := expfmt.MetricFamilyToText(w, mf)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// WriteFile writes every series to path in the text format, atomically
// (a temporary file renamed over it), for node_exporter's textfile
// collector.
func (m *Metrics) WriteFile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("write metrics file %s: %w", path, err)
	}
	return nil
}
