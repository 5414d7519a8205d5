package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

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
