package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/newsmd/newsmd/crawler"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runRun is the daemon.
func runRun(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "run", "Usage: newsmd run [--config FILE]\n\nThe daemon: polls each feed at its interval and writes new stories, until\nSIGTERM or SIGINT (exit 143 or 130). Serves /healthz, /readyz and /metrics on\nserver.listen. Exit 2: bad invocation or configuration; 3: store unavailable.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	a, err := m.load(fl, *config, "run", nil)
	if err != nil {
		return err
	}
	wait := &storeWait{app: a, ctx: ctx}
	c, err := a.openCrawl(ctx, wait.retry)
	wait.stop(err == nil)
	if err != nil && ctx.Err() != nil {
		a.log.Info("stopped while waiting for the store")
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	metrics := c.metrics()
	c.deps.Housekeeping = func() {
		// Leftovers of a worker killed on this host: its story was not
		// marked written and is written again by whoever takes it over.
		// Only the store's temporary folder is listed, not the archive.
		if n, err := c.store.CleanTemp(c.cfg.Crawl.Lease); err == nil && n > 0 {
			c.log.Info("removed temporary files of killed writers", "count", n)
		}
	}

	runner := c.runner()
	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	health := watchStore(hctx, c.log, c.store)
	var srv *httpServer
	if addr := c.cfg.Server.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return usageError{hintError{fmt.Errorf("listen %s: %w", addr, err), "set server.listen to a free address, or \"\" to turn the listener off"}}
		}
		bound := ln.Addr().String()
		srv = startHTTP(c.log, ln, c.handler(runner, health, metrics), func() (net.Listener, error) { return net.Listen("tcp", bound) })
		c.log.Info("listening", "addr", bound, "max_connections", httpMaxConns)
	}
	c.log.Info("running", "feeds", len(c.feeds), "owner", c.owner)
	err = runner.Run(ctx)
	if srv != nil {
		srv.stop(ctx)
	}
	if err != nil {
		return storeError{fmt.Errorf("run: %w", err)}
	}
	c.log.Info("stopped")
	return nil
}

// handler serves the daemon's health and metrics. /readyz is ready once
// the scheduler's loop has started (not when its first cycle, which may
// take minutes, ends) while the store answers its pings.
func (c *crawl) handler(runner *crawler.Runner, health *storeHealth, metrics *crawler.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := health.Err(); err != nil {
			http.Error(w, "store unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if !runner.Started() {
			http.Error(w, "scheduler not started", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Gatherer(), promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return mux
}
