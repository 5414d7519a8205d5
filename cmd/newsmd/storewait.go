package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// storeWait is run's start while its database does not answer: it logs
// once, serves /healthz (alive) and /readyz (503, with the store's error)
// on server.listen meanwhile, and tries again with backoff, from a second
// to 30 seconds, until the store answers or run is stopped. A process
// manager then neither restarts run in a loop nor gives up on it.
type storeWait struct {
	*app
	ctx context.Context

	attempts int
	srv      *httpServer
	mu       sync.Mutex
	err      error
}

// retry is openCrawl's retry: it waits before the next attempt, and
// reports false once run is stopping.
func (w *storeWait) retry(err error) bool {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	w.attempts++
	if w.attempts == 1 {
		w.log.Error("store unavailable; waiting for it, not ready meanwhile", "error", err,
			"hint", "start the database, or check store.dsn and NEWSMD_STORE_PASSWORD")
		w.serve()
	}
	wait := min(time.Second<<min(w.attempts-1, 5), 30*time.Second)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// serve starts the listener of the wait, when run has one.
func (w *storeWait) serve() {
	addr := w.cfg.Server.Listen
	if addr == "" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		w.log.Warn("could not listen while waiting for the store", "addr", addr, "error", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		http.Error(rw, "store unreachable: "+err.Error(), http.StatusServiceUnavailable)
	})
	bound := ln.Addr().String()
	w.log.Info("listening", "addr", bound, "waiting_for_store", true)
	w.srv = startHTTP(w.log, ln, mux, func() (net.Listener, error) { return net.Listen("tcp", bound) })
}

// stop ends the wait's listener, so that run's own can take the address.
func (w *storeWait) stop(opened bool) {
	if opened && w.attempts > 0 {
		w.log.Info("store answers; starting", "attempts", w.attempts+1)
	}
	if w.srv != nil {
		w.srv.stop(context.Background())
	}
}
