package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/store"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics gives the crawl's runner and fetcher a registry of metrics, with
// the store's story counts (newsmd_stories) and newsmd_build_info, and
// returns it: run serves it on /metrics, once --metrics-file writes it.
func (c *crawl) metrics() *crawler.Metrics {
	m := watch.NewMetrics(buildInfo())
	if err := m.Register(newStoreStats(c.store)); err != nil {
		panic(err) // registered once, under a name of its own
	}
	c.deps.Metrics = m
	c.deps.Fetcher.Observe(m)
	return m
}

// buildInfo is the version and VCS revision of this binary.
func buildInfo() watch.BuildInfo {
	info := watch.BuildInfo{Version: Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Revision = s.Value
			}
		}
	}
	return info
}

// storeStats is the collector of newsmd_stories: the store's stories by
// state, counted at each scrape.
type storeStats struct {
	st   *store.Store
	desc *prometheus.Desc
}

func newStoreStats(st *store.Store) storeStats {
	return storeStats{st: st, desc: prometheus.NewDesc("newsmd_stories",
		"Stories in the store, by state (written, known, pending, failed, permanent).", []string{"state"}, nil)}
}

func (s storeStats) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect counts the stories. A store that does not answer within a few
// seconds leaves the series out of this scrape: /readyz says so, and the
// other series are still worth having.
func (s storeStats) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.st.Stats(ctx)
	if err != nil {
		return
	}
	for _, v := range []struct {
		state string
		n     int
	}{{"written", st.Written}, {"known", st.Known}, {"pending", st.Pending}, {"failed", st.Failed}, {"permanent", st.Permanent}} {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(v.n), v.state)
	}
}

// storeHealth pings the store every few seconds, for /readyz: a probe
// then answers at once from the last ping, and a store that hangs never
// holds a probe.
type storeHealth struct {
	mu  sync.Mutex
	err error // the last ping's
}

// storePing is how often and how long the store is pinged.
const (
	storePingEvery   = 2 * time.Second
	storePingTimeout = 2 * time.Second
)

// watchStore pings st until ctx is done, logging when the store stops
// and starts answering. The store has just been opened, so it answers
// until a ping says otherwise.
func watchStore(ctx context.Context, log *slog.Logger, st *store.Store) *storeHealth {
	h := &storeHealth{}
	go func() {
		t := time.NewTicker(storePingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, cancel := context.WithTimeout(ctx, storePingTimeout)
			err := st.Ping(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			h.mu.Lock()
			was := h.err
			h.err = err
			h.mu.Unlock()
			switch {
			case err != nil && was == nil:
				log.Error("store unreachable; not ready until it answers", "error", err,
					"hint", "check that the database is up and store.dsn (or store.path) points at it")
			case err == nil && was != nil:
				log.Info("store answers again; ready")
			}
		}
	}()
	return h
}

// Err is the last ping's error, nil when the store answered.
func (h *storeHealth) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}
