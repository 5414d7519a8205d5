package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
	"golang.org/x/net/netutil"
)

// ServerConfig is the daemon's HTTP listener.
type ServerConfig struct {
	// Listen is the address of /healthz, /readyz and /metrics; "" turns the
	// listener off.
	Listen string `yaml:"listen"`
	// Tick is how often run looks for feeds due for a poll.
	Tick time.Duration `yaml:"tick"`
}

// runRun is the daemon.
func runRun(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "run", "Usage: newsmd run [--config FILE]\n\nThe daemon: polls each feed at its interval and writes new stories, until\nSIGTERM or SIGINT. Serves /healthz, /readyz and /metrics on server.listen.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	c, err := openCrawl(ctx, m, fl, *config, "run")
	if err != nil {
		return err
	}
	defer c.Close()
	metrics := &crawler.Metrics{}
	c.runner.Metrics = metrics
	c.runner.Tick = c.cfg.Server.Tick
	c.runner.Housekeeping = func() {
		// Leftovers of a worker killed on this host: its story was not
		// marked written and is written again by whoever takes it over.
		if n, err := store.CleanTemp(c.cfg.Output.Dir, c.cfg.Crawl.Lease); err == nil && n > 0 {
			c.log.Info("removed temporary files of killed writers", "count", n)
		}
	}

	var srv *httpServer
	if addr := c.cfg.Server.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return usageError{hintError{fmt.Errorf("listen %s: %w", addr, err), "set server.listen to a free address, or \"\" to turn the listener off"}}
		}
		bound := ln.Addr().String()
		srv = startHTTP(c.log, ln, c.handler(metrics), func() (net.Listener, error) { return net.Listen("tcp", bound) })
		c.log.Info("listening", "addr", bound, "max_connections", httpMaxConns)
	}
	c.log.Info("running", "feeds", len(c.feeds), "owner", c.owner)
	err = c.runner.Run(ctx)
	if srv != nil {
		srv.stop(ctx)
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	c.log.Info("stopped")
	return nil
}

// The limits of the health and metrics listener. It answers probes and
// scrapers, a few small requests at a time; the limits keep clients, idle,
// slow or many, from taking the file descriptors that fetching and writing
// stories need. Past the cap, connections wait in the kernel's accept
// queue, which costs the daemon no file descriptor.
const (
	httpMaxConns          = 64
	httpReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 10 * time.Second
	httpWriteTimeout      = 30 * time.Second // /metrics asks the store
	httpIdleTimeout       = 60 * time.Second // a scraper's keep-alive between scrapes
)

// httpServer serves the daemon's health and metrics beside the crawl,
// which never depends on it.
type httpServer struct {
	srv  *http.Server
	quit chan struct{}
	done chan struct{}
}

// startHTTP serves h on ln until stop. relisten opens the listener again
// when serving fails.
func startHTTP(log *slog.Logger, ln net.Listener, h http.Handler, relisten func() (net.Listener, error)) *httpServer {
	gauge := &connGauge{log: log, max: httpMaxConns}
	s := &httpServer{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: httpReadHeaderTimeout,
			ReadTimeout:       httpReadTimeout,
			WriteTimeout:      httpWriteTimeout,
			IdleTimeout:       httpIdleTimeout,
			ConnState:         gauge.track,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.serve(log, ln, relisten)
	return s
}

// serve runs Serve until stop. Serve itself retries the accept errors it
// deems temporary, running out of file descriptors among them, and returns
// on the others (ENOBUFS or ENOMEM under memory pressure) after closing the
// listener. Health and metrics then serve again from a new listener after
// a pause, growing to a minute, rather than being gone until a restart.
func (s *httpServer) serve(log *slog.Logger, ln net.Listener, relisten func() (net.Listener, error)) {
	defer close(s.done)
	pause := time.Second
	for {
		err := s.srv.Serve(netutil.LimitListener(ln, httpMaxConns))
		if errors.Is(err, http.ErrServerClosed) {
			return
		}
		log.Error("http listener failed; listening again after a pause", "error", err, "pause", pause)
		for {
			t := time.NewTimer(pause)
			select {
			case <-s.quit:
				t.Stop()
				return
			case <-t.C:
			}
			pause = min(2*pause, time.Minute)
			if ln, err = relisten(); err == nil {
				break
			}
			log.Error("http listen failed; trying again after a pause", "error", err, "pause", pause)
		}
		log.Info("listening again", "addr", ln.Addr().String())
	}
}

// stop closes the listener and lets the requests being answered finish,
// for up to 3 seconds.
func (s *httpServer) stop(ctx context.Context) {
	close(s.quit)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	s.srv.Shutdown(sctx)
	<-s.done
}

// connGauge counts the listener's open connections and says when they
// reach its cap, at most once a minute: a client holding them there would
// otherwise have a line logged for each connection it opens.
type connGauge struct {
	log *slog.Logger
	max int

	mu     sync.Mutex
	open   int
	full   int // times the cap was reached since the last line
	logged time.Time
}

// track is the server's ConnState hook.
func (g *connGauge) track(_ net.Conn, state http.ConnState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch state {
	case http.StateNew:
		g.open++
		if g.open < g.max {
			return
		}
		g.full++
		if now := time.Now(); now.Sub(g.logged) >= time.Minute {
			g.log.Warn("http connection cap reached; new connections wait until one closes",
				"max_connections", g.max, "times_reached", g.full)
			g.logged, g.full = now, 0
		}
	case http.StateHijacked, http.StateClosed:
		g.open--
	}
}

// handler serves the daemon's health and metrics.
func (c *crawl) handler(metrics *crawler.Metrics) http.Handler {
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
		last := c.runner.LastCycle()
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

// runHealthcheck asks a running daemon's /healthz, for container images
// without curl.
func runHealthcheck(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "healthcheck", "Usage: newsmd healthcheck [--config FILE] [--url URL]\n\nExits 0 when the daemon at server.listen answers /healthz (or /readyz with --ready).")
	target := fl.String("url", "", "health `URL` (default: http://<server.listen>/healthz)")
	ready := fl.Bool("ready", false, "ask /readyz instead of /healthz")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	u := *target
	if u == "" {
		cfg, _, err := m.load(fl, *config, "healthcheck")
		if err != nil {
			return err
		}
		if cfg.Server.Listen == "" {
			return usageError{errors.New("healthcheck: server.listen is empty: the daemon serves no health endpoint")}
		}
		host, port, err := net.SplitHostPort(cfg.Server.Listen)
		if err != nil {
			return usageError{fmt.Errorf("healthcheck: server.listen: %w", err)}
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		u = "http://" + net.JoinHostPort(host, port) + path
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError{fmt.Errorf("healthcheck: %w", err)}
	}
	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: HTTP %d", u, resp.StatusCode)
	}
	fmt.Fprintln(m.Stdout, "ok")
	return nil
}

// runConfig is "config check": load the configuration as every command
// does (file, environment overrides, validation) and print it.
func runConfig(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{hintError{errors.New("config: want a subcommand"), "newsmd config check [--config FILE] [--env]"}}
	}
	fl, config := newFlags(m, "config check", "Usage: newsmd config check [--config FILE] [--env]\n\nValidates the configuration (file, then NEWSMD_* environment overrides) and\nprints the effective result with secrets masked. Exit 2 when it is invalid.")
	env := fl.Bool("env", false, "list the environment variables that override config keys instead")
	if err := parseFlags(fl, args[1:]); err != nil {
		return err
	}
	if *env {
		for _, name := range sortedEnvNames() {
			fmt.Fprintf(m.Stdout, "%s\t%s\n", name, strings.Join(envKeys()[name], "."))
		}
		return nil
	}
	c, _, err := m.load(fl, *config, "config")
	if err != nil {
		return err
	}
	if _, err := c.CompiledSites(); err != nil {
		return usageError{err}
	}
	fmt.Fprintln(m.Stdout, "# newsmd", Version(), "effective configuration: valid")
	return writeEffective(m.Stdout, c)
}

// runMigrate applies the store's schema migrations and says which. Every
// command also applies them at start; this is for doing it on purpose,
// before starting workers of a new version.
func runMigrate(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "migrate", "Usage: newsmd migrate [--config FILE]\n\nApplies the store's schema migrations (SQLite or PostgreSQL) and lists those\napplied. Running it again changes nothing. Every command also migrates at start.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	c, _, err := m.load(fl, *config, "migrate")
	if err != nil {
		return err
	}
	db, where, err := openBackend(ctx, c.Store)
	if err != nil {
		return usageError{hintError{fmt.Errorf("migrate %s: %w", where, err), "check store.driver, store.path or store.dsn and NEWSMD_STORE_PASSWORD"}}
	}
	defer db.Close()
	applied := db.Applied()
	if len(applied) == 0 {
		fmt.Fprintf(m.Stdout, "migrate: %s %s is up to date\n", c.Store.Driver, where)
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(m.Stdout, "migrate: applied %s\n", v)
	}
	fmt.Fprintf(m.Stdout, "migrate: %s %s is up to date\n", c.Store.Driver, where)
	return nil
}
