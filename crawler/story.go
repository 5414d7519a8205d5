package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/crawler/watch"
)

// Process turns stories into posts, each exactly once across workers and
// processes; force rewrites stories already written. One failing story
// never stops the others; the error is only for a failing store or a
// cancelled context.
func (r *Runner) Process(ctx context.Context, items []feed.Item, force bool) (Summary, error) {
	return r.process(ctx, items, force, nil)
}

// process is Process calling written, when not nil, with each item
// written as a post.
func (r *Runner) process(ctx context.Context, items []feed.Item, force bool, written func(feed.Item)) (Summary, error) {
	// One story per key: a feed and a listing, or two URL variants, name
	// the same story, and a worker's claim does not exclude its siblings.
	var dups int
	seen := map[Key]bool{}
	unique := items[:0:0]
	for _, it := range items {
		k, _, err := r.Identify(it.URL)
		if err == nil && seen[k] {
			dups++
			continue
		}
		seen[k] = true
		unique = append(unique, it)
	}
	items = unique
	var (
		sum  Summary
		mu   sync.Mutex
		done int
	)
	err := each(ctx, r.cfg.Workers, items, func(it feed.Item) error {
		res, err := r.story(ctx, it, force)
		mu.Lock()
		defer mu.Unlock()
		if res.Outcome != "" {
			sum.Add(res)
			if res.Outcome != Duplicate {
				sum.New++
			}
			if res.Outcome == Written && written != nil {
				written(it)
			}
		}
		done++
		if r.dep.Progress != nil {
			r.dep.Progress(done, len(items), res)
		}
		return err
	})
	sum.Duplicate += dups
	return sum, err
}

// Identify returns a story URL's key and the rules of its site (nil for
// a site without rules): see site.Identify.
func (r *Runner) Identify(raw string) (Key, *site.Site, error) {
	return site.Identify(r.dep.Sites, raw)
}

// story handles one story. The error is for failures that must stop the
// run (the store); the story's own failures are in the Result. A claim
// lost on the way (its lease ran out and another worker took the story
// over) leaves the story to that worker.
func (r *Runner) story(ctx context.Context, it feed.Item, force bool) (Result, error) {
	res, err := r.claimAndWrite(ctx, it, force)
	if errors.Is(err, ErrClaimLost) {
		r.dep.Metrics.Add("newsmd_claims_lost_total", 1, "kind", "story")
		r.dep.Log.Warn("story taken over by another worker; left to it", "article_url", res.URL, "error", err,
			"hint", "the story took longer than crawl.lease; raise crawl.lease if this repeats")
		return Result{URL: res.URL, Outcome: Elsewhere}, nil
	}
	return res, err
}

func (r *Runner) claimAndWrite(ctx context.Context, it feed.Item, force bool) (Result, error) {
	res := Result{URL: it.URL}
	k, rules, err := r.Identify(it.URL)
	if err != nil {
		res.Outcome, res.Err = Failed, err
		res.Reason, _ = classify(err)
		r.dep.Log.Warn("story skipped", "article_url", it.URL, "error", err)
		return res, nil
	}
	res.URL = k.URL
	claim, err := r.dep.Claims.Claim(ctx, k, force, r.now())
	if err != nil {
		return res, fmt.Errorf("claim %s: %w", k.URL, err)
	}
	switch claim.Status {
	case Done:
		res.Outcome = Duplicate
		r.dep.Metrics.Add("newsmd_articles_duplicate_total", 1)
		return res, nil
	case HeldElsewhere:
		res.Outcome = Elsewhere
		return res, nil
	case NotDue:
		res.Outcome = Waiting
		return res, nil
	}
	start := r.now()
	runCtx := ctx
	ctx, stop := r.keepLease(ctx, k)
	defer stop()
	article, reason, permanent, err := r.article(ctx, it, rules)
	if err == nil {
		return r.publish(ctx, k, article, start)
	}
	if errors.Is(err, fetch.ErrHostGate) { // the store failed, not the site: no attempt counted
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		r.dep.Claims.Release(rctx, k)
		return res, fmt.Errorf("fetch %s: %w", k.URL, err)
	}
	if lost := context.Cause(ctx); runCtx.Err() == nil && lost != nil {
		if errors.Is(lost, ErrClaimLost) {
			return res, lost
		}
		r.dep.Log.Warn("story given back: its lease could not be renewed", "article_url", k.URL, "error", lost)
	}
	if ctx.Err() != nil {
		// Stopping (SIGTERM): give the story back at once, with a context
		// of its own since ctx is done, for the next run or worker; the
		// attempt does not count.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if ferr := r.dep.Claims.Release(rctx, k); ferr != nil && !errors.Is(ferr, ErrClaimLost) {
			r.dep.Log.Warn("could not release an interrupted story", "article_url", k.URL, "error", ferr)
		}
		return Result{URL: k.URL}, nil
	}
	attempts := claim.Attempts + 1
	if r.dep.Failures != nil {
		gres, settled, givenUp, gerr := r.giveUp(ctx, k, it, rules, attempts, reason, permanent, err, start)
		if settled || gerr != nil {
			return gres, gerr
		}
		permanent = givenUp
	}
	res.Outcome, res.Reason, res.Err = Failed, reason, err
	r.dep.Metrics.Add("newsmd_article_failures_total", 1, "reason", reason)
	retryAt := r.retryAt(err, attempts, k.URL)
	ferr := r.storeRetry(ctx, "record failure", k, func() error {
		return r.dep.Claims.Fail(ctx, k, reason+": "+err.Error(), permanent, retryAt)
	})
	if ferr != nil {
		return res, fmt.Errorf("record failure of %s: %w", k.URL, ferr)
	}
	args := []any{"article_url", k.URL, "reason", reason, "permanent", permanent, "attempt", attempts, "error", err}
	if !permanent {
		args = append(args, "retry_at", retryAt.Format(time.RFC3339))
	}
	r.dep.Log.Warn("article failed", args...)
	return res, nil
}

// publish renders a fetched article and writes it as k's post.
func (r *Runner) publish(ctx context.Context, k Key, article converter.Article, start time.Time) (Result, error) {
	res := Result{URL: k.URL}
	post, err := r.dep.Converter.Render(article)
	if err != nil {
		res.Outcome, res.Reason, res.Err = Failed, "render", err
		r.dep.Metrics.Add("newsmd_article_failures_total", 1, "reason", "render")
		if ferr := r.dep.Claims.Fail(context.WithoutCancel(ctx), k, "render: "+err.Error(), true, time.Time{}); ferr != nil {
			return res, fmt.Errorf("record failure of %s: %w", k.URL, ferr)
		}
		r.dep.Log.Warn("article failed", "article_url", k.URL, "reason", "render", "permanent", true, "error", err)
		return res, nil
	}
	// The page is in hand: it is written even when the run is stopping (a
	// SIGTERM now), so that it is counted and not fetched again; a store
	// that does not answer is waited for while the lease lasts.
	var path string
	err = r.storeRetry(ctx, "publish", k, func() error {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var werr error
		path, werr = r.write(wctx, k, post.Name, post.Content, article.Truncated)
		return werr
	})
	if errors.Is(err, ErrClaimLost) {
		return res, err
	}
	if err != nil {
		// A full disk or a failing store stops the run: every following
		// story would fail the same way.
		if ferr := r.dep.Claims.Release(context.WithoutCancel(ctx), k); ferr != nil {
			r.dep.Log.Error("could not release the story", "article_url", k.URL, "error", ferr)
		}
		return res, fmt.Errorf("write %s: %w", k.URL, err)
	}
	res.Outcome, res.Path, res.Extractor = Written, path, watch.ExtractorLabel(article.Extractor)
	_, rules, _ := r.Identify(k.URL)
	r.alarms.ArticleWritten(k.URL, rules, article)
	r.dep.Metrics.ObserveLag(r.now().Sub(article.Published))
	r.dep.Log.Info("article written", "article_url", k.URL, "path", path, "extractor", article.Extractor,
		"duration_seconds", r.now().Sub(start).Round(time.Millisecond).Seconds(),
		"lag_seconds", r.now().Sub(article.Published).Round(time.Second).Seconds())
	return res, nil
}

// giveUp notes the attempts-th failure of k with the feed's copy of the
// story, and settles the story when it will not be fetched again: when the
// failure is permanent (404, 410, a page that never parses), or once it
// has failed MaxAttempts times over GiveUpAfter. A settled story is written
// from the feed's copy, this poll's or one kept from an earlier one, when
// there is one. settled reports that it was written (res says how);
// otherwise the caller records the failure, as permanent when givenUp.
func (r *Runner) giveUp(ctx context.Context, k Key, it feed.Item, rules *site.Site, attempts int, reason string, permanent bool, cause error, start time.Time) (res Result, settled, givenUp bool, err error) {
	var copyJSON []byte
	if _, ok := r.fromItem(it, rules); ok {
		copyJSON, _ = json.Marshal(it)
	}
	since, kept, err := r.dep.Failures.NoteFailure(ctx, k.URL, r.now(), copyJSON)
	if err != nil {
		return Result{URL: k.URL}, false, false, fmt.Errorf("note failure of %s: %w", k.URL, err)
	}
	exhausted := r.cfg.MaxAttempts > 0 && attempts >= r.cfg.MaxAttempts && r.now().Sub(since) >= r.cfg.GiveUpAfter
	if !permanent && !exhausted {
		return Result{}, false, false, nil
	}
	if exhausted && !permanent {
		r.dep.Metrics.Add("newsmd_articles_given_up_total", 1, "reason", reason)
	}
	var copyItem feed.Item
	if len(kept) > 0 && json.Unmarshal(kept, &copyItem) == nil {
		copyItem.URL = it.URL
		if a, ok := r.fromItem(copyItem, rules); ok {
			r.dep.Log.Warn("article page unavailable for good; writing the feed's copy", "article_url", k.URL, "reason", reason,
				"attempts", attempts, "failing_since", since.Format(time.RFC3339), "error", cause)
			res, err := r.publish(ctx, k, a, start)
			return res, true, true, err
		}
	}
	if !permanent {
		r.dep.Log.Warn("article given up: failed for good", "article_url", k.URL, "reason", reason,
			"attempts", attempts, "failing_since", since.Format(time.RFC3339), "error", cause,
			"hint", "newsmd backfill --force retries it once the page works")
	}
	return Result{}, false, true, nil
}

// serverWait is a wait a server asked for (what names how), capped at
// MaxWait; a capped wait is logged with what was asked.
func (r *Runner) serverWait(asked time.Duration, what, u string) time.Duration {
	if r.cfg.MaxWait <= 0 || asked <= r.cfg.MaxWait {
		return asked
	}
	r.dep.Log.Warn("server asked for a longer wait than crawl.max_wait; capped", "url", u, "header", what,
		"asked_seconds", asked.Seconds(), "wait_seconds", r.cfg.MaxWait.Seconds())
	return r.cfg.MaxWait
}

// retryAt is when a story that failed transiently for the attempts-th
// time is due again: when the site asked (Retry-After) or the host's
// backoff ends, both capped at MaxWait; else after RetryDelay, doubled for
// each earlier attempt up to RetryDelayMax, less up to a tenth at random
// so that stories that failed together do not come back together.
func (r *Runner) retryAt(err error, attempts int, u string) time.Time {
	now := r.now()
	if he, ok := errors.AsType[*fetch.HTTPError](err); ok && he.RetryAfter > 0 {
		return now.Add(r.serverWait(he.RetryAfter, "Retry-After", u))
	}
	if hb, ok := errors.AsType[*fetch.HostBackoffError](err); ok && hb.Until.After(now) {
		return now.Add(min(hb.Until.Sub(now), max(r.cfg.MaxWait, time.Minute)))
	}
	base := r.cfg.RetryDelay
	if base <= 0 {
		base = time.Minute
	}
	ceiling := r.cfg.RetryDelayMax
	if ceiling < base {
		ceiling = base
	}
	d := base
	for i := 1; i < attempts && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return now.Add(d - time.Duration(rand.Int64N(int64(d/10)+1)))
}

// article fetches and extracts a story, falling back to the feed item's
// own HTML when the page is gone for good or cannot be read. reason and
// permanent classify a failure.
func (r *Runner) article(ctx context.Context, it feed.Item, rules *site.Site) (converter.Article, string, bool, error) {
	resp, err := r.dep.Fetcher.Get(ctx, it.URL, fetch.Conditional{})
	var a converter.Article
	if err == nil {
		a, err = site.ExtractWith(resp.Body, resp.URL, r.dep.Sites, r.hints(it, resp))
		if err == nil {
			return a, "", false, nil
		}
		if fa, ok := r.fromItem(it, rules); ok {
			return fa, "", false, nil
		}
		reason, when := classify(err)
		return a, reason, when == fetch.RetryNever, err
	}
	if ctx.Err() != nil {
		return a, "cancelled", false, ctx.Err()
	}
	reason, when := classify(err)
	permanent := when == fetch.RetryNever
	if permanent {
		// The page will not come back: the feed's copy is all there is.
		// A passing failure waits for a later run instead, since the page
		// is the better source.
		if fa, ok := r.fromItem(it, rules); ok {
			r.dep.Log.Warn("article page unavailable; using the feed's copy", "article_url", it.URL, "error", err)
			return fa, "", false, nil
		}
	}
	return a, reason, permanent, err
}

// hints are what the runner knows of a fetched story besides its page:
// the feed item's date, the page's Last-Modified and the fetch time, by
// which a page that prints no date of its own is dated.
func (r *Runner) hints(it feed.Item, resp *fetch.Response) site.Hints {
	h := site.Hints{FeedDate: it.Published, Fetched: r.now()}
	if lm, err := http.ParseTime(resp.LastModified); err == nil {
		h.LastModified = lm
	}
	return h
}

// fromItem makes an article of a feed item that carries the whole story
// (RSSHub does), for when its page cannot be fetched.
func (r *Runner) fromItem(it feed.Item, rules *site.Site) (converter.Article, bool) {
	k, _, err := r.Identify(it.URL)
	if err != nil {
		return converter.Article{}, false
	}
	return site.FromFeed(rules, k, it.Title, it.ContentHTML, it.Published)
}
