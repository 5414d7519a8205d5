package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"github.com/newsmd/newsmd/store"
)

// TestRunIdleWritesNothing: once the first cycle has written the fake
// site's stories, the daemon's ticks with no feed due commit no write
// transaction to the SQLite store (they used to take and give back every
// feed's lease: three fsynced commits per feed per tick).
func TestRunIdleWritesNothing(t *testing.T) {
	site := fakesite.New(fakesite.Stories(20, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	t.Cleanup(site.Close)
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	c.Server.Tick = 100 * time.Millisecond // the shortest allowed
	c.Server.Listen = ""
	cfg := writeYAMLConfig(t, c, dir)

	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	fl.String("config", "", "")
	fl.Set("config", cfg)
	cr, err := openCrawl(t.Context(), m, fl, cfg, "run")
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	db, ok := cr.store.Backend.(*store.SQLite)
	if !ok {
		t.Fatalf("store: got %T, want *store.SQLite", cr.store.Backend)
	}

	const idleTicks = 5
	var (
		mu      sync.Mutex
		commits []int64 // after each cycle
		done    = make(chan struct{})
	)
	cr.deps.Housekeeping = func() {
		mu.Lock()
		defer mu.Unlock()
		commits = append(commits, db.WriteTransactions())
		if len(commits) == 1+idleTicks {
			close(done)
		}
	}
	runner := cr.runner()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- runner.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("no idle cycles in 2 minutes")
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if n := countMD(dir); n != 20 {
		t.Fatalf("first cycle: got %d posts, want 20", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if commits[0] == 0 {
		t.Fatal("first cycle: no write transaction counted; the counter counts nothing")
	}
	for i := 1; i <= idleTicks; i++ {
		if got := commits[i] - commits[i-1]; got != 0 {
			t.Errorf("idle cycle %d: got %d write transactions, want 0", i, got)
		}
	}
}
