package crawler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
)

// maxRefetchWait caps the doubling wait between two re-fetches of a
// truncated post.
const maxRefetchWait = 365 * 24 * time.Hour

// write publishes k's post. A post a paywall cut short is kept as such,
// due for its first re-fetch (see refetch), when the runner has Refetches.
func (r *Runner) write(ctx context.Context, k Key, name string, content []byte, truncated bool) (string, error) {
	if truncated && r.dep.Refetches != nil {
		return r.dep.Refetches.PublishTruncated(ctx, k, name, content, r.nextRefetch(0))
	}
	return r.dep.Claims.Publish(ctx, k, name, content)
}

// nextRefetch is when a truncated post fetched again done times is due
// for its next re-fetch: RefetchTruncatedAfter from now, doubled for each
// re-fetch done; the zero time (never) when re-fetching is off or done
// has reached RefetchTruncatedTimes.
func (r *Runner) nextRefetch(done int) time.Time {
	wait := r.cfg.RefetchTruncatedAfter
	if wait <= 0 || done >= r.cfg.RefetchTruncatedTimes {
		return time.Time{}
	}
	for i := 0; i < done && wait < maxRefetchWait; i++ {
		wait *= 2
	}
	return r.now().Add(min(wait, maxRefetchWait))
}

// The results of a re-fetch, the label of newsmd_truncated_refetched_total.
const (
	refetchComplete  = "complete"  // the full text: the post rewritten, no more re-fetches
	refetchLonger    = "longer"    // a longer copy, still cut short: the post rewritten
	refetchUnchanged = "unchanged" // no longer copy: the post kept
	refetchFailed    = "failed"    // the page could not be fetched or read: the post kept
)

// refetch fetches again the pages of the posts a paywall cut short whose
// re-fetch time has come, with Workers at once, and rewrites a post in
// place when its new copy is whole or longer; otherwise the post waits for
// its next re-fetch, until RefetchTruncatedTimes are done. Each re-fetch
// holds the story's claim, so two workers never rewrite one post. As in
// Process, the error is for a failing store or a cancelled context only.
func (r *Runner) refetch(ctx context.Context) (Summary, error) {
	var sum Summary
	if r.dep.Refetches == nil || r.cfg.RefetchTruncatedAfter <= 0 || ctx.Err() != nil {
		return sum, nil
	}
	keys, err := r.dep.Refetches.DueRefetch(ctx, r.now(), 1000)
	if err != nil {
		return sum, fmt.Errorf("list re-fetches: %w", err)
	}
	var mu sync.Mutex
	err = each(ctx, r.cfg.Workers, keys, func(k Key) error {
		rewritten, err := r.refetchStory(ctx, k)
		if errors.Is(err, ErrClaimLost) {
			r.dep.Metrics.Add("newsmd_claims_lost_total", 1, "kind", "story")
			r.dep.Log.Warn("story taken over by another worker; left to it", "article_url", k.URL, "error", err,
				"hint", "the re-fetch took longer than crawl.lease; raise crawl.lease if this repeats")
			err = nil
		}
		if rewritten {
			mu.Lock()
			sum.Rewritten++
			mu.Unlock()
		}
		return err
	})
	return sum, err
}

// refetchStory re-fetches k's truncated post, when its claim is ours, and
// reports whether the post was rewritten.
func (r *Runner) refetchStory(ctx context.Context, k Key) (bool, error) {
	claim, err := r.dep.Refetches.ClaimRefetch(ctx, k, r.now())
	if err != nil {
		return false, fmt.Errorf("claim re-fetch of %s: %w", k.URL, err)
	}
	if claim.Status != Claimed {
		return false, nil
	}
	done := claim.Refetches + 1
	next := r.nextRefetch(done)
	_, rules, err := r.Identify(k.URL)
	if err == nil {
		article, reason, _, ferr := r.article(ctx, feed.Item{URL: k.URL}, rules)
		if ferr != nil && ctx.Err() != nil {
			// Stopping: give the story back for the next run; the
			// re-fetch does not count.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			if rerr := r.dep.Claims.Release(rctx, k); rerr != nil && !errors.Is(rerr, ErrClaimLost) {
				r.dep.Log.Warn("could not release an interrupted re-fetch", "article_url", k.URL, "error", rerr)
			}
			return false, nil
		}
		if ferr == nil {
			return r.rewrite(ctx, k, claim, article, next)
		}
		err = fmt.Errorf("%s: %w", reason, ferr)
	}
	r.dep.Metrics.Add("newsmd_truncated_refetched_total", 1, "result", refetchFailed)
	r.dep.Log.Info("re-fetch of a truncated post failed; the post is kept", "article_url", k.URL, "refetch", done,
		"error", err, "next_refetch", timeOrNever(next))
	return false, r.keep(ctx, k, next)
}

// rewrite replaces k's truncated post with article when article is whole,
// or renders longer than the post; else the post is kept.
func (r *Runner) rewrite(ctx context.Context, k Key, claim Claim, article converter.Article, next time.Time) (bool, error) {
	done := claim.Refetches + 1
	post, err := r.dep.Converter.Render(article)
	if err != nil {
		r.dep.Metrics.Add("newsmd_truncated_refetched_total", 1, "result", refetchFailed)
		r.dep.Log.Info("re-fetched copy of a truncated post could not be rendered; the post is kept", "article_url", k.URL,
			"refetch", done, "error", err, "next_refetch", timeOrNever(next))
		return false, r.keep(ctx, k, next)
	}
	longer := claim.PostSize >= 0 && int64(len(post.Content)) > claim.PostSize
	if article.Truncated && !longer {
		r.dep.Metrics.Add("newsmd_truncated_refetched_total", 1, "result", refetchUnchanged)
		if next.IsZero() {
			r.dep.Log.Info("truncated post still cut short after its last re-fetch; left as it is", "article_url", k.URL,
				"refetches", done)
		} else {
			r.dep.Log.Info("truncated post still cut short; re-fetched again later", "article_url", k.URL,
				"refetch", done, "next_refetch", next.Format(time.RFC3339))
		}
		return false, r.keep(ctx, k, next)
	}
	var path string
	if article.Truncated {
		path, err = r.dep.Refetches.PublishTruncated(ctx, k, post.Name, post.Content, next)
	} else {
		path, err = r.dep.Claims.Publish(ctx, k, post.Name, post.Content)
	}
	if errors.Is(err, ErrClaimLost) {
		return false, err
	}
	if err != nil {
		if ferr := r.dep.Claims.Release(context.WithoutCancel(ctx), k); ferr != nil {
			r.dep.Log.Error("could not release the story", "article_url", k.URL, "error", ferr)
		}
		return false, fmt.Errorf("rewrite %s: %w", k.URL, err)
	}
	result := refetchComplete
	if article.Truncated {
		result = refetchLonger
	}
	r.dep.Metrics.Add("newsmd_truncated_refetched_total", 1, "result", result)
	r.dep.Log.Info("truncated post rewritten", "article_url", k.URL, "path", path, "result", result, "refetch", done)
	return true, nil
}

// keep ends a re-fetch that leaves the post as it is.
func (r *Runner) keep(ctx context.Context, k Key, next time.Time) error {
	err := r.dep.Refetches.KeepTruncated(ctx, k, next)
	if err != nil && !errors.Is(err, ErrClaimLost) {
		return fmt.Errorf("record re-fetch of %s: %w", k.URL, err)
	}
	return err
}

// timeOrNever formats a next re-fetch time for the logs.
func timeOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}
