package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// runRun is the daemon.
func runRun(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "run", "Usage: newsmd run [--config FILE]\n\nThe daemon: polls each feed at its interval and writes new stories, until\nSIGTERM or SIGINT (exit 143 or 130). Serves /healthz, /readyz and /metrics on\nserver.listen. Exit 2: bad invocation or configuration; 3: store unavailable.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	c, err := openCrawl(ctx, m, fl, *config, "run")
	if err != nil {
		return err
	}
	defer c.Close()
	metrics := &crawler.Metrics{}
	c.deps.Metrics = metrics
	c.deps.Housekeeping = func() {
		// Leftovers of a worker killed on this host: its story was not
		// marked written and is written again by whoever takes it over.
		if n, err := store.CleanTemp(c.cfg.Output.Dir, c.cfg.Crawl.Lease); err == nil && n > 0 {
			c.log.Info("removed temporary files of killed writers", "count", n)
		}
	}

	runner := c.runner()
	var srv *httpServer
	if addr := c.cfg.Server.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return usageError{hintError{fmt.Errorf("listen %s: %w", addr, err), "set server.listen to a free address, or \"\" to turn the listener off"}}
		}
		bound := ln.Addr().String()
		srv = startHTTP(c.log, ln, c.handler(runner, metrics), func() (net.Listener, error) { return net.Listen("tcp", bound) })
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

// handler serves the daemon's health and metrics.
func (c *crawl) handler(runner *crawler.Runner, metrics *crawler.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := c.store.Ping(ctx); err != nil {
			http.Error(w, "store unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		// The scheduler is alive when its last cycle is recent; a cycle
		// can take a while when a feed lists many new stories.
		last := runner.LastCycle()
		if last.IsZero() || time.Since(last) > 3*c.cfg.Server.Tick+c.cfg.Crawl.Lease {
			http.Error(w, "scheduler not running (last cycle "+last.Format(time.RFC3339)+")", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		metrics.WriteTo(w)
		if st, err := c.store.Stats(r.Context()); err == nil {
			fmt.Fprintf(w, "# HELP newsmd_stories Stories in the store, by state.\n# TYPE newsmd_stories gauge\n")
			for _, s := range []struct {
				state string
				n     int
			}{{"written", st.Written}, {"known", st.Known}, {"pending", st.Pending}, {"failed", st.Failed}, {"permanent", st.Permanent}} {
				fmt.Fprintf(w, "newsmd_stories{state=%q} %d\n", s.state, s.n)
			}
		}
	})
	return mux
}
