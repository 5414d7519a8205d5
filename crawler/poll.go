package crawler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
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
	)
	for i := range r.dep.Feeds {
		f := r.dep.Feeds[(i+offset)%len(r.dep.Feeds)]
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		poll, err := r.pollFeed(ctx, f, onlyDue)
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
			r.alarms.FeedUnchanged(f)
		case status == statusHeld:
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
				items = append(items, it)
			}
		}
		batches = append(batches, items)
		if commit != nil {
			commits = append(commits, commit)
		}
	}
	s, err := r.Process(ctx, interleave(batches), false)
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

// scope keeps the items of feed f that are stories newsmd may fetch and
// write, newest first, at most FeedItems of them. An item is in scope
// when a site rule allows its host and port (the rule of backfill), or,
// for sites without rules, when it is on the host and port of one of the
// feed's URLs.
// The others are counted and logged, never fetched or written, whatever
// the feed says of them.
func (r *Runner) scope(f *feed.Feed, items []feed.Item, sum *Summary) []feed.Item {
	var feedURLs []*url.URL
	for _, fu := range f.URLs() {
		if u, err := url.Parse(fu); err == nil {
			feedURLs = append(feedURLs, u)
		}
	}
	kept := items[:0:0]
	var refused []string
	for _, it := range items {
		_, rules, err := r.Identify(it.URL)
		if err == nil && rules == nil {
			u, perr := url.Parse(it.URL)
			if perr != nil || !slices.ContainsFunc(feedURLs, func(fu *url.URL) bool { return site.SameOrigin(u, fu) }) {
				err = site.ErrNoSiteRule
			}
		}
		if err != nil {
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

// errUnreadableFeed: a feed or listing was fetched but could not be read.
var errUnreadableFeed = errors.New("unreadable feed")

// statusHeld is pollFeed's status for a feed another worker holds.
const statusHeld = -1

// PollFeed fetches a feed with its stored validators and returns its
// items. status is 304 when the feed did not change (no items), -1 when
// another worker holds the feed. The feed's new validators are stored
// only by commit, to be called once every item is recorded in the store
// (written, or failed and due for a retry): a worker killed in between
// leaves the old validators, and the next poll lists the items again.
// Poll returns the same and which of the feed's URLs answered.
func (r *Runner) PollFeed(ctx context.Context, f *feed.Feed) (items []feed.Item, status int, commit func(context.Context) error, err error) {
	p, err := r.pollFeed(ctx, f, false)
	return p.Items, p.Status, p.Commit, err
}

// Poll is PollFeed with the whole outcome: the items, status and commit,
// and which of the feed's URLs answered (FeedPoll.URL), where it
// redirected to and which URLs failed before it. Its error, when every
// URL failed, is the first URL's, naming the others'.
func (r *Runner) Poll(ctx context.Context, f *feed.Feed) (FeedPoll, error) {
	return r.pollFeed(ctx, f, false)
}

func (r *Runner) pollFeed(ctx context.Context, f *feed.Feed, onlyDue bool) (FeedPoll, error) {
	st, ok, err := r.dep.States.ClaimFeed(ctx, f.URL(), r.now())
	if err != nil {
		return FeedPoll{}, fmt.Errorf("claim feed %s: %w", f.URL(), err)
	}
	if !ok {
		return FeedPoll{Status: statusHeld}, nil
	}
	now := r.now()
	if onlyDue && now.Before(st.NextPoll) {
		if err := r.dep.States.ReleaseFeed(ctx, f.URL(), st); err != nil {
			return FeedPoll{}, fmt.Errorf("release feed %s: %w", f.URL(), err)
		}
		return FeedPoll{}, nil
	}
	st.LastPoll = now
	st.NextPoll = now.Add(jitter(f.Interval()))
	poll, answer, err := r.fetchFeed(ctx, f, st)
	var (
		resp   *fetch.Response
		items  []feed.Item
		status int
	)
	if err == nil {
		resp, items = answer.resp, poll.Items
	}
	if err != nil {
		st.Failures++
		st.LastError = err.Error()
		var he *fetch.HTTPError
		if errors.As(err, &he) && he.RetryAfter > 0 {
			st.NextPoll = now.Add(r.serverWait(he.RetryAfter, "Retry-After", f.URL()))
		}
	} else {
		status = resp.Status
		st.Failures, st.LastError = 0, ""
		// The feed says it will not change before then.
		wait := maxAge(resp.CacheControl)
		if !f.IsListing() {
			wait = max(wait, feed.TTL(resp.Body))
		}
		if wait > f.Interval() {
			st.NextPoll = now.Add(r.serverWait(wait, "Cache-Control max-age or ttl", f.URL()))
		}
	}
	// Until its stories are recorded, the feed is due again after the
	// takeover time: if this worker dies on the way, another polls it
	// then instead of after the whole interval.
	next := st.NextPoll
	pending := err == nil && status != http.StatusNotModified && len(items) > 0
	if pending && r.cfg.Lease > 0 {
		st.NextPoll = now.Add(r.cfg.Lease)
	}
	if rerr := r.dep.States.ReleaseFeed(ctx, f.URL(), st); rerr != nil && err == nil {
		err = fmt.Errorf("save feed state %s: %w", f.URL(), rerr)
	}
	if err != nil {
		return poll, err
	}
	args := []any{"feed_url", f.URL(), "status", status, "items", len(items)}
	if poll.URL != f.URL() {
		args = append(args, "answered_url", poll.URL)
	}
	if poll.Pages > 1 {
		args = append(args, "pages", poll.Pages)
	}
	r.dep.Log.Info("feed polled", args...)
	if !pending && (status == http.StatusNotModified || (resp.ETag == st.ETag && resp.LastModified == st.LastModified)) {
		return poll, nil
	}
	etag, lastModified := resp.ETag, resp.LastModified
	poll.Commit = func(ctx context.Context) error {
		cur, ok, err := r.dep.States.ClaimFeed(ctx, f.URL(), r.now())
		if err != nil || !ok {
			// Held by another worker: it keeps its own validators; ours
			// are only an optimisation.
			return err
		}
		cur.ETag, cur.LastModified = etag, lastModified
		if cur.LastPoll.Equal(now) || cur.NextPoll.Before(next) {
			cur.NextPoll = next
		}
		if err := r.dep.States.ReleaseFeed(ctx, f.URL(), cur); err != nil {
			return fmt.Errorf("save feed state %s: %w", f.URL(), err)
		}
		return nil
	}
	return poll, nil
}

// jitter spreads polls of many feeds and workers: d ± 10%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

// maxAge reads max-age from a Cache-Control header; 0 when absent.
func maxAge(cc string) time.Duration {
	for _, part := range strings.Split(cc, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "max-age") {
			if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}
