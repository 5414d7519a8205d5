package crawler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/crawler/watch"
	"github.com/newsmd/newsmd/internal/config"
)

// Config is how the runner works: the crawl: section of config.yaml, and
// how often Run looks for feeds due for a poll.
type Config struct {
	// Workers is how many stories are processed at once (politeness per
	// host is the fetch.Client's). Lease is how soon a feed is polled
	// again when the worker that polled it may have died before recording
	// its stories. RetryDelay, RetryDelayMax, MaxWait, MaxAttempts,
	// GiveUpAfter and FeedItems: see config.Crawl and retryAt, serverWait,
	// giveUp and scope. Zero MaxAttempts never gives up; zero FeedItems
	// takes every item. RefetchTruncatedAfter and RefetchTruncatedTimes:
	// see refetch; zero re-fetches nothing.
	config.Crawl
	// Tick is how often Run looks for feeds due for a poll; 0 means 5s.
	Tick time.Duration
}

// Deps are the parts the runner works with. Fetcher, Converter, Claims,
// States and Log are required; the others may be nil.
type Deps struct {
	Fetcher   *fetch.Client
	Sites     []*site.Site
	Feeds     []*feed.Feed
	Converter *converter.Converter
	Claims    Claims
	States    FeedStates
	// Retries lists the stories due for a retry; nil retries none.
	Retries Retries
	// Failures keeps failing stories' feed copies and since when they
	// fail, for giving up; nil never gives up.
	Failures Failures
	Log      *slog.Logger
	// Metrics counts polls, posts, failures and latencies. New puts the
	// series of every configured feed, site and layout in it at zero.
	Metrics *Metrics
	// Progress is called after each story.
	Progress func(done, total int, r Result)
	// Housekeeping runs at the end of each of Run's cycles (cmd removes
	// the temporary files of killed writers with it).
	Housekeeping func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Refetches keeps the posts a paywall cut short and re-fetches them;
	// nil writes them as any post and never re-fetches them.
	Refetches Refetches
}

// FeedPoll is what one poll of a feed found, and FailedURL a feed URL
// that did not answer it: see crawler/feedpoll.
type (
	FeedPoll  = feedpoll.Poll
	FailedURL = feedpoll.FailedURL
)

// What the runner reports, kept in crawler/watch: the metrics, and each
// story's outcome and the run's summary.
type (
	Metrics = watch.Metrics
	Outcome = watch.Outcome
	Result  = watch.Result
	Summary = watch.Summary
)

// Outcomes of a story.
const (
	Written   = watch.Written
	Duplicate = watch.Duplicate
	Elsewhere = watch.Elsewhere
	Waiting   = watch.Waiting
	Failed    = watch.Failed
)

// Runner polls feeds and turns their new stories into posts. It is the one
// code path of once, run and backfill.
type Runner struct {
	cfg Config
	dep Deps

	started atomic.Bool // Run's loop has begun
	alarms  *watch.Alarms
	poller  *feedpoll.Poller
}

// New returns the runner of cfg working with d.
func New(cfg Config, d Deps) *Runner {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &Runner{cfg: cfg, dep: d}
	r.alarms = watch.NewAlarms(d.Metrics, d.Log, d.Sites, d.Feeds)
	d.Metrics.InitReasons(reasons)
	r.poller = feedpoll.New(feedpoll.Config{Lease: cfg.Lease}, feedpoll.Deps{Fetcher: d.Fetcher, Sites: d.Sites,
		States: d.States, Log: d.Log, Now: d.Now, Wait: r.serverWait})
	return r
}

func (r *Runner) now() time.Time { return r.dep.Now() }

// Once polls every feed once, then processes the stories they list and
// the transient failures that are due for a retry.
func (r *Runner) Once(ctx context.Context) (Summary, error) {
	start := r.now()
	sum, err := r.cycle(ctx, false)
	r.dep.Metrics.CycleDone(start, r.now())
	return sum, err
}

// Run is the daemon: every Tick it polls the feeds whose time has come
// (each at its own interval, with jitter, later when the feed's
// Cache-Control or Retry-After asks for it), writes their new stories and
// retries the stories whose retry time has come, until ctx is cancelled.
// Several workers may run against one store: each feed is polled by one
// of them at a time.
//
// A cycle that fails because the store does not answer is logged and the
// next tick tries again: the daemon stays up, and cmd's /readyz says
// whether the store answers. A full or read-only archive disk stops Run
// with its error: every story would fail the same way until a person
// makes room.
func (r *Runner) Run(ctx context.Context) error {
	tick := r.cfg.Tick
	if tick <= 0 {
		tick = 5 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	r.started.Store(true)
	failed := 0 // cycles in a row
	for {
		start := r.now()
		sum, err := r.cycle(ctx, true)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && archiveBroken(err):
			return err
		case err != nil:
			failed++
			if failed == 1 || failed%60 == 0 { // one line, then one every 60 ticks
				r.dep.Log.Error("cycle failed; trying again at each tick", "error", err, "failed_cycles", failed,
					"hint", "check that the store answers (store.dsn or store.path) and that the output folder's disk has room")
			}
		case failed > 0:
			r.dep.Log.Info("cycle succeeded again", "failed_cycles", failed)
			failed = 0
		}
		if err == nil && sum.FeedsPolled+sum.FeedsFailed+sum.Written+sum.Failed > 0 {
			r.dep.Log.Info("cycle done", "summary", sum.String())
		}
		if r.dep.Housekeeping != nil {
			r.dep.Housekeeping()
		}
		r.dep.Metrics.CycleDone(start, r.now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Started reports whether Run's loop has begun: from then on feeds are
// polled at each tick, while the first cycle, which may be long, runs.
func (r *Runner) Started() bool { return r.started.Load() }

// each calls do on every item, workers at a time (at least one), handing
// the items out in order. It stops handing them out at the first error do
// returns (the store failing) or when ctx is done, waits for the calls
// under way, and returns that first error, else ctx's.
func each[T any](ctx context.Context, workers int, items []T, do func(T) error) error {
	var (
		mu    sync.Mutex
		fatal error
		wg    sync.WaitGroup
		work  = make(chan T)
	)
	for range max(workers, 1) {
		wg.Go(func() {
			for it := range work {
				if err := do(it); err != nil {
					mu.Lock()
					if fatal == nil {
						fatal = err
					}
					mu.Unlock()
				}
			}
		})
	}
hand:
	for _, it := range items {
		mu.Lock()
		stop := fatal != nil
		mu.Unlock()
		if stop {
			break
		}
		select {
		case work <- it:
		case <-ctx.Done():
			break hand
		}
	}
	close(work)
	wg.Wait()
	if fatal == nil && ctx.Err() != nil {
		fatal = ctx.Err()
	}
	return fatal
}

// archiveBroken reports whether err says the archive's disk cannot take
// files: it is full, over quota or read-only.
func archiveBroken(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}
