package crawler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/site"
)

// cycle polls the feeds (only those due, when onlyDue), then processes
// their stories and the retries, then keeps the feeds' new validators.
//
// Every due feed is polled before any story is fetched, and the feeds'
// stories are then taken in turn (one of each feed, then the next of
// each), so that a feed listing many stories delays neither the polls of
// the others nor their stories. Workers sharing a store start at
// different feeds, so that they share the polls.
func (r *Runner) cycle(ctx context.Context, onlyDue bool) (Summary, error) {
	var sum Summary
	seen := map[string]bool{}
	offset := 0
	if n := len(r.dep.Feeds); n > 1 && onlyDue {
		offset = rand.IntN(n)
	}
	var (
		batches [][]feed.Item
		commits []func(context.Context) error
		feedOf  = map[string]string{} // item URL → the feed that listed it first
	)
	for i := range r.dep.Feeds {
		f := r.dep.Feeds[(i+offset)%len(r.dep.Feeds)]
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		poll, err := r.poller.Poll(ctx, f, onlyDue)
		got, status, commit := poll.Items, poll.Status, poll.Commit
		switch {
		case err != nil:
			sum.FeedsFailed++
			reason, _ := classify(err)
			r.dep.Metrics.Add("newsmd_feed_polls_total", 1, "result", "error")
			r.dep.Metrics.Add("newsmd_feed_failures_total", 1, "reason", reason)
			r.dep.Log.Warn("feed failed", "feed_url", f.URL(), "reason", reason, "error", err)
			r.alarms.FeedFailed(f, reason, err)
			continue
		case status == http.StatusNotModified:
			sum.FeedsNotModified++
			r.dep.Metrics.Add("newsmd_feed_polls_total", 1, "result", "not_modified")
			r.dep.Metrics.Set("newsmd_feed_last_success_timestamp_seconds", unixSeconds(r.now()), "feed", f.Name())
			r.alarms.FeedUnchanged(f)
		case status == feedpoll.StatusHeld:
			if !onlyDue {
				// Asked to poll every feed, we could not poll this one.
				sum.FeedsHeld++
				r.dep.Log.Info("feed skipped: another worker is polling it", "feed_url", f.URL())
			}
			continue
		case status == 0:
			continue // not due
		default:
			r.dep.Metrics.Add("newsmd_feed_polls_total", 1, "result", "ok")
			r.dep.Metrics.Set("newsmd_feed_last_success_timestamp_seconds", unixSeconds(r.now()), "feed", f.Name())
		}
		sum.FeedsPolled++
		var items []feed.Item
		kept := r.scope(f, got, &sum)
		if status != http.StatusNotModified {
			r.alarms.FeedRead(f, len(kept))
		}
		for _, it := range kept {
			if !seen[it.URL] {
				seen[it.URL] = true
				feedOf[it.URL] = f.Name()
				items = append(items, it)
			}
		}
		batches = append(batches, items)
		if commit != nil {
			commits = append(commits, commit)
		}
	}
	s, err := r.process(ctx, interleave(batches), false, func(it feed.Item) {
		r.dep.Metrics.Set("newsmd_feed_last_new_item_timestamp_seconds", unixSeconds(r.now()), "feed", feedOf[it.URL])
	})
	sum.Merge(s)
	if err != nil {
		// The feeds' new validators are not kept: the next poll gets the
		// whole feeds again and nothing they list is lost.
		return sum, err
	}
	for _, commit := range commits {
		err := commit(ctx)
		if errors.Is(err, ErrClaimLost) {
			// Another worker polls the feed now and keeps its own
			// validators; ours were only an optimisation.
			r.dep.Metrics.Add("newsmd_claims_lost_total", 1, "kind", "feed")
			r.dep.Log.Warn("feed taken over by another worker while its state was saved", "error", err)
			continue
		}
		if err != nil {
			return sum, err
		}
	}
	if r.dep.Retries != nil {
		due, err := r.dep.Retries.Due(ctx, r.now(), 1000)
		if err != nil {
			return sum, fmt.Errorf("list retries: %w", err)
		}
		var items []feed.Item
		for _, k := range due {
			if !seen[k.URL] {
				seen[k.URL] = true
				items = append(items, feed.Item{URL: k.URL})
			}
		}
		s, err := r.Process(ctx, items, false)
		sum.Merge(s)
		if err != nil {
			return sum, err
		}
	}
	s, err = r.refetch(ctx)
	sum.Merge(s)
	return sum, err
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// interleave takes one item of each batch in turn.
func interleave(batches [][]feed.Item) []feed.Item {
	var out []feed.Item
	for i := 0; ; i++ {
		more := false
		for _, b := range batches {
			if i < len(b) {
				out = append(out, b[i])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// ErrUnnamedHost: no site entry or feed names a story URL's host.
var ErrUnnamedHost = site.ErrUnnamedHost

// InScope reports whether the story at raw, given by hand (backfill), may
// be fetched, by site.InScope over the URLs of all the feeds: rules is its
// site, or nil for a host without rules that a feed is on.
func (r *Runner) InScope(raw string) (rules *site.Site, err error) {
	var origins []string
	for _, f := range r.dep.Feeds {
		origins = append(origins, f.URLs()...)
	}
	return site.InScope(r.dep.Sites, raw, origins)
}

// scope keeps the items of feed f that are stories newsmd may fetch and
// write, newest first, at most FeedItems of them. An item is in scope
// when a site rule allows its host and port (the rule of backfill), or,
// for sites without rules, when it is on the host and port of one of the
// feed's URLs.
// The others are counted and logged, never fetched or written, whatever
// the feed says of them.
func (r *Runner) scope(f *feed.Feed, items []feed.Item, sum *Summary) []feed.Item {
	kept := items[:0:0]
	var refused []string
	for _, it := range items {
		if _, err := site.InScope(r.dep.Sites, it.URL, f.URLs()); err != nil {
			refused = append(refused, it.URL)
			continue
		}
		kept = append(kept, it)
	}
	if len(refused) > 0 {
		sum.OutOfScope += len(refused)
		r.dep.Metrics.Add("newsmd_feed_items_out_of_scope_total", float64(len(refused)))
		r.dep.Log.Warn("feed items out of scope dropped: no site rule allows their host and port",
			"feed_url", f.URL(), "count", len(refused), "first", refused[0])
	}
	if r.cfg.FeedItems > 0 && len(kept) > r.cfg.FeedItems {
		if slices.IndexFunc(kept, func(it feed.Item) bool { return it.Published.IsZero() }) < 0 {
			sort.SliceStable(kept, func(i, j int) bool { return kept[i].Published.After(kept[j].Published) })
		} // else listing order, which is newest first
		r.dep.Log.Warn("feed lists more items than crawl.feed_items; the newest are taken",
			"feed_url", f.URL(), "items", len(kept), "taken", r.cfg.FeedItems)
		kept = kept[:r.cfg.FeedItems]
	}
	return kept
}

// PollFeed fetches a feed with its stored validators and returns its
// items (through feedpoll.Poller.Poll). status is 304 when the feed did
// not change (no items), -1 when another worker holds the feed. The feed's new validators are stored
// only by commit, to be called once every item is recorded in the store
// (written, or failed and due for a retry): a worker killed in between
// leaves the old validators, and the next poll lists the items again.
// Poll returns the same and which of the feed's URLs answered.
func (r *Runner) PollFeed(ctx context.Context, f *feed.Feed) (items []feed.Item, status int, commit func(context.Context) error, err error) {
	p, err := r.poller.Poll(ctx, f, false)
	return p.Items, p.Status, p.Commit, err
}

// Poll is PollFeed with the whole outcome: the items, status and commit,
// and which of the feed's URLs answered (FeedPoll.URL), where it
// redirected to and which URLs failed before it. Its error, when every
// URL failed, is the first URL's, naming the others'.
func (r *Runner) Poll(ctx context.Context, f *feed.Feed) (FeedPoll, error) {
	return r.poller.Poll(ctx, f, false)
}
