package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsmd/newsmd/converter"
)

// Key is a story's identity: its canonical URL and, where the site's
// rules give one, a site key such as "zaobao:1214802".
type Key struct {
	URL     string
	SiteKey string
}

// ClaimStatus is the answer to a claim.
type ClaimStatus int

// The answers to a claim.
const (
	// Claimed: the story is ours to fetch and write.
	Claimed ClaimStatus = iota
	// Done: written, known from an import, or failed for good.
	Done
	// HeldElsewhere: another live worker is on it.
	HeldElsewhere
	// NotDue: it failed earlier and its retry time has not come.
	NotDue
)

// Claim is a claim's answer, with the failed attempts the story has had.
type Claim struct {
	Status   ClaimStatus
	Attempts int
}

// Claims is how the crawler keeps each story fetched and written once,
// across processes. Claim says whether the story is ours (and, when not,
// why not). Publish writes the post durably and marks the story written;
// Fail ends the claim with a failed attempt, to retry from retryAt unless
// permanent; Release ends it without one (the run is stopping).
type Claims interface {
	Claim(ctx context.Context, k Key, force bool) (Claim, error)
	Publish(ctx context.Context, k Key, name string, content []byte) (path string, err error)
	Fail(ctx context.Context, k Key, reason string, permanent bool, retryAt time.Time) error
	Release(ctx context.Context, k Key) error
}

// Failures remembers stories that failed: NoteFailure records a failure
// of the story with canonical URL url, keeping feedCopy (the feed item, as
// JSON) when not empty, and returns since when the story has been failing
// and the latest feed copy kept.
type Failures interface {
	NoteFailure(ctx context.Context, url string, feedCopy []byte) (since time.Time, kept []byte, err error)
}

// Retries lists stories whose earlier attempt failed transiently and whose
// retry time has come.
type Retries interface {
	Due(ctx context.Context, limit int) ([]Key, error)
}

// FeedState is what is kept of a feed between polls.
type FeedState struct {
	ETag, LastModified string
	LastPoll, NextPoll time.Time
	Failures           int
	LastError          string
}

// FeedStates keeps feeds' validators and schedule. ClaimFeed returns false
// when another worker is polling the feed.
type FeedStates interface {
	ClaimFeed(ctx context.Context, feedURL string) (FeedState, bool, error)
	ReleaseFeed(ctx context.Context, feedURL string, st FeedState) error
}

// Runner polls feeds and turns their new stories into posts. It is the one
// code path of once, run and backfill.
type Runner struct {
	Fetcher   *Fetcher
	Sites     []*Site
	Feeds     []*Feed
	Converter *converter.Converter
	Claims    Claims
	Retries   Retries
	States    FeedStates
	Log       *slog.Logger
	// Workers is how many stories are processed at once (politeness per
	// host is the Fetcher's).
	Workers int
	// Progress, when set, is called after each story.
	Progress func(done, total int, r Result)
	// RetryDelay is how long a story that failed transiently first waits
	// before a later run tries it again; the wait doubles with each failed
	// attempt, up to RetryDelayMax. A site's Retry-After or a host's
	// backoff set the time instead.
	RetryDelay, RetryDelayMax time.Duration
	// MaxWait caps every wait a server asks for (Retry-After, Cache-Control
	// max-age, RSS <ttl>): no feed poll or story retry is set later.
	MaxWait time.Duration
	// A story that has failed MaxAttempts times over at least GiveUpAfter
	// is given up: written from its feed's copy when the feed carried the
	// full text, else marked failed for good. Zero MaxAttempts never gives
	// up.
	MaxAttempts int
	GiveUpAfter time.Duration
	// Failures, when set, keeps failing stories' feed copies and since
	// when they fail, for giving up.
	Failures Failures
	// FeedItems caps the items taken from one poll of a feed, newest
	// first; 0 takes them all.
	FeedItems int
	// Metrics, when set, counts polls, posts, failures and latencies.
	Metrics *Metrics
	// Tick is how often Run looks for feeds due for a poll; 0 means 5s.
	Tick time.Duration
	// Takeover is how soon a feed is polled again when the worker that
	// polled it may have died before recording its stories (crawl.lease).
	Takeover time.Duration
	// Housekeeping, when set, runs at the end of each of Run's cycles
	// (cmd removes the temporary files of killed writers with it).
	Housekeeping func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	lastCycle atomic.Int64 // Unix nanoseconds of Run's last finished cycle
}

// Outcome is what became of one story.
type Outcome string

// Outcomes of a story.
const (
	Written   Outcome = "written"
	Duplicate Outcome = "duplicate" // already written, or failed for good
	Elsewhere Outcome = "elsewhere" // being worked on by another live worker
	Waiting   Outcome = "waiting"   // failed before; its retry time has not come
	Failed    Outcome = "failed"
)

// Result is one story's outcome.
type Result struct {
	URL     string
	Outcome Outcome
	Path    string
	Reason  string // for Failed: a short, stable reason ("http_404", "timeout", "extract"); see classify
	Err     error
}

// Summary counts what a run did.
type Summary struct {
	FeedsPolled, FeedsNotModified, FeedsFailed int
	// FeedsHeld counts feeds another live worker was polling.
	FeedsHeld int
	// OutOfScope counts feed items no site rule allows; they are dropped.
	OutOfScope                                  int
	New, Written, Duplicate, Elsewhere, Waiting int
	Failed                                      int
	FailedBy                                    map[string]int
}

func (s *Summary) add(r Result) {
	switch r.Outcome {
	case Written:
		s.Written++
	case Duplicate:
		s.Duplicate++
	case Elsewhere:
		s.Elsewhere++
	case Waiting:
		s.Waiting++
	case Failed:
		s.Failed++
		if s.FailedBy == nil {
			s.FailedBy = map[string]int{}
		}
		s.FailedBy[r.Reason]++
	}
}

// merge adds the story counts of o to s.
func (s *Summary) merge(o Summary) {
	s.New += o.New
	s.Written += o.Written
	s.Duplicate += o.Duplicate
	s.Elsewhere += o.Elsewhere
	s.Waiting += o.Waiting
	s.Failed += o.Failed
	for k, v := range o.FailedBy {
		if s.FailedBy == nil {
			s.FailedBy = map[string]int{}
		}
		s.FailedBy[k] += v
	}
}

// Unfinished reports whether the run left work undone: a failed feed or
// story, a feed or story another worker still holds, or a story waiting
// for its retry time.
func (s Summary) Unfinished() bool {
	return s.FeedsFailed+s.FeedsHeld+s.Failed+s.Elsewhere+s.Waiting > 0
}

// String is the summary line printed after a run. Counts that are most
// often zero (held feeds, items out of scope, stories elsewhere or
// waiting) are shown only when they are not.
func (s Summary) String() string {
	var reasons []string
	for r, n := range s.FailedBy {
		reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(reasons)
	f := ""
	if len(reasons) > 0 {
		f = " (" + strings.Join(reasons, " ") + ")"
	}
	feeds := fmt.Sprintf("feeds: %d polled, %d not modified, %d failed", s.FeedsPolled, s.FeedsNotModified, s.FeedsFailed)
	if s.FeedsHeld > 0 {
		feeds += fmt.Sprintf(", %d held by another worker", s.FeedsHeld)
	}
	if s.OutOfScope > 0 {
		feeds += fmt.Sprintf(", %d items out of scope", s.OutOfScope)
	}
	stories := fmt.Sprintf("stories: %d new, %d written, %d duplicate", s.New, s.Written, s.Duplicate)
	if s.Elsewhere > 0 {
		stories += fmt.Sprintf(", %d in progress elsewhere", s.Elsewhere)
	}
	if s.Waiting > 0 {
		stories += fmt.Sprintf(", %d waiting for retry", s.Waiting)
	}
	return fmt.Sprintf("%s; %s, %d failed%s", feeds, stories, s.Failed, f)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Once polls every feed once, then processes the stories they list and
// the transient failures that are due for a retry.
func (r *Runner) Once(ctx context.Context) (Summary, error) {
	return r.cycle(ctx, false)
}

// Run is the daemon: every Tick it polls the feeds whose time has come
// (each at its own interval, with jitter, later when the feed's
// Cache-Control or Retry-After asks for it), writes their new stories and
// retries the stories whose retry time has come, until ctx is cancelled.
// Several workers may run against one store: each feed is polled by one
// of them at a time.
func (r *Runner) Run(ctx context.Context) error {
	tick := r.Tick
	if tick <= 0 {
		tick = 5 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		sum, err := r.cycle(ctx, true)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if sum.FeedsPolled+sum.FeedsFailed+sum.Written+sum.Failed > 0 {
			r.Log.Info("cycle done", "summary", sum.String())
		}
		if r.Housekeeping != nil {
			r.Housekeeping()
		}
		now := r.now()
		r.lastCycle.Store(now.UnixNano())
		r.Metrics.setLastCycle(now)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// LastCycle is when Run last finished a cycle; zero before the first.
func (r *Runner) LastCycle() time.Time {
	if n := r.lastCycle.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

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
	if n := len(r.Feeds); n > 1 && onlyDue {
		offset = rand.IntN(n)
	}
	var (
		batches [][]Item
		commits []func(context.Context) error
	)
	for i := range r.Feeds {
		f := r.Feeds[(i+offset)%len(r.Feeds)]
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		got, status, commit, err := r.pollFeed(ctx, f, onlyDue)
		switch {
		case err != nil:
			sum.FeedsFailed++
			reason, _ := classify(err)
			r.Metrics.add("newsmd_feed_polls_total", 1, "result", "error")
			r.Metrics.add("newsmd_feed_failures_total", 1, "reason", reason)
			r.Log.Warn("feed failed", "feed_url", f.URL(), "reason", reason, "error", err)
			continue
		case status == http.StatusNotModified:
			sum.FeedsNotModified++
			r.Metrics.add("newsmd_feed_polls_total", 1, "result", "not_modified")
		case status == statusHeld:
			if !onlyDue {
				// Asked to poll every feed, we could not poll this one.
				sum.FeedsHeld++
				r.Log.Info("feed skipped: another worker is polling it", "feed_url", f.URL())
			}
			continue
		case status == 0:
			continue // not due
		default:
			r.Metrics.add("newsmd_feed_polls_total", 1, "result", "ok")
		}
		sum.FeedsPolled++
		var items []Item
		for _, it := range r.scope(f, got, &sum) {
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
	sum.merge(s)
	if err != nil {
		// The feeds' new validators are not kept: the next poll gets the
		// whole feeds again and nothing they list is lost.
		return sum, err
	}
	for _, commit := range commits {
		if err := commit(ctx); err != nil {
			return sum, err
		}
	}
	if r.Retries != nil {
		due, err := r.Retries.Due(ctx, 1000)
		if err != nil {
			return sum, fmt.Errorf("list retries: %w", err)
		}
		var items []Item
		for _, k := range due {
			if !seen[k.URL] {
				seen[k.URL] = true
				items = append(items, Item{URL: k.URL})
			}
		}
		s, err := r.Process(ctx, items, false)
		sum.merge(s)
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// interleave takes one item of each batch in turn.
func interleave(batches [][]Item) []Item {
	var out []Item
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
// for sites without rules, when it is on the feed's own host and port.
// The others are counted and logged, never fetched or written, whatever
// the feed says of them.
func (r *Runner) scope(f *Feed, items []Item, sum *Summary) []Item {
	feedURL, _ := url.Parse(f.URL())
	kept := items[:0:0]
	var refused []string
	for _, it := range items {
		_, site, err := r.Identify(it.URL)
		if err == nil && site == nil {
			if u, perr := url.Parse(it.URL); perr != nil || feedURL == nil || !sameOrigin(u, feedURL) {
				err = errNoSiteRule
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
		r.Metrics.add("newsmd_feed_items_out_of_scope_total", float64(len(refused)))
		r.Log.Warn("feed items out of scope dropped: no site rule allows their host and port",
			"feed_url", f.URL(), "count", len(refused), "first", refused[0])
	}
	if r.FeedItems > 0 && len(kept) > r.FeedItems {
		if slices.IndexFunc(kept, func(it Item) bool { return it.Published.IsZero() }) < 0 {
			sort.SliceStable(kept, func(i, j int) bool { return kept[i].Published.After(kept[j].Published) })
		} // else listing order, which is newest first
		r.Log.Warn("feed lists more items than crawl.feed_items; the newest are taken",
			"feed_url", f.URL(), "items", len(kept), "taken", r.FeedItems)
		kept = kept[:r.FeedItems]
	}
	return kept
}

// errUnreadableFeed: a feed or listing was fetched but could not be read.
var errUnreadableFeed = errors.New("unreadable feed")

// errNoSiteRule: no site rule allows a URL's host and port.
var errNoSiteRule = errors.New("no site rule allows this host and port")

// sameOrigin reports whether u is on the host and port of feed: the same
// host name, or one a subdomain of the other, and the same port.
func sameOrigin(u, feed *url.URL) bool {
	a, b := strings.ToLower(u.Hostname()), strings.ToLower(feed.Hostname())
	if a != b && !strings.HasSuffix(a, "."+b) && !strings.HasSuffix(b, "."+a) {
		return false
	}
	return effectivePort(u) == effectivePort(feed)
}

// portAllowed reports whether a site rule allows u's port: its scheme's
// default, the port of the site's canonical_host, or one a hosts entry
// names with u's host ("127.0.0.1:8080").
func portAllowed(site *Site, u *url.URL) bool {
	p := u.Port()
	if p == "" || p == effectivePort(&url.URL{Scheme: u.Scheme}) {
		return true
	}
	if _, cp := splitPort(site.cfg.CanonicalHost); cp == p {
		return true
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, h := range site.cfg.Hosts {
		if name, hp := splitPort(h); hp == p && (host == name || strings.HasSuffix(host, "."+name)) {
			return true
		}
	}
	return false
}

// effectivePort is u's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// statusHeld is pollFeed's status for a feed another worker holds.
const statusHeld = -1

// PollFeed fetches a feed with its stored validators and returns its
// items. status is 304 when the feed did not change (no items), 0 when
// another worker holds the feed. The feed's new validators are stored
// only by commit, to be called once every item is recorded in the store
// (written, or failed and due for a retry): a worker killed in between
// leaves the old validators, and the next poll lists the items again.
func (r *Runner) PollFeed(ctx context.Context, f *Feed) (items []Item, status int, commit func(context.Context) error, err error) {
	return r.pollFeed(ctx, f, false)
}

func (r *Runner) pollFeed(ctx context.Context, f *Feed, onlyDue bool) (items []Item, status int, commit func(context.Context) error, err error) {
	st, ok, err := r.States.ClaimFeed(ctx, f.URL())
	if err != nil {
		return nil, 0, nil, fmt.Errorf("claim feed %s: %w", f.URL(), err)
	}
	if !ok {
		return nil, statusHeld, nil, nil
	}
	now := r.now()
	if onlyDue && now.Before(st.NextPoll) {
		if err := r.States.ReleaseFeed(ctx, f.URL(), st); err != nil {
			return nil, 0, nil, fmt.Errorf("release feed %s: %w", f.URL(), err)
		}
		return nil, 0, nil, nil
	}
	st.LastPoll = now
	st.NextPoll = now.Add(jitter(f.Interval()))
	resp, err := r.Fetcher.Get(ctx, f.URL(), Conditional{ETag: st.ETag, LastModified: st.LastModified})
	if err == nil && resp.Status != http.StatusNotModified {
		switch f.Type() {
		case FeedTypeListing, FeedTypeJSONListing:
			items, err = ParseListing(resp.Body, resp.URL, f)
		default:
			var skipped int
			items, skipped, err = ParseFeed(resp.Body, resp.URL, f.Location())
			if skipped > 0 {
				r.Log.Warn("feed items without a usable link skipped", "feed_url", f.URL(), "skipped", skipped)
			}
		}
		if err != nil {
			err = fmt.Errorf("%w: %w", errUnreadableFeed, err)
		}
	}
	if err != nil {
		st.Failures++
		st.LastError = err.Error()
		var he *HTTPError
		if errors.As(err, &he) && he.RetryAfter > 0 {
			st.NextPoll = now.Add(r.serverWait(he.RetryAfter, "Retry-After", f.URL()))
		}
	} else {
		status = resp.Status
		st.Failures, st.LastError = 0, ""
		// The feed says it will not change before then.
		wait := maxAge(resp.CacheControl)
		if f.Type() != FeedTypeListing && f.Type() != FeedTypeJSONListing {
			wait = max(wait, FeedTTL(resp.Body))
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
	if pending && r.Takeover > 0 {
		st.NextPoll = now.Add(r.Takeover)
	}
	if rerr := r.States.ReleaseFeed(ctx, f.URL(), st); rerr != nil && err == nil {
		err = fmt.Errorf("save feed state %s: %w", f.URL(), rerr)
	}
	if err != nil {
		return nil, 0, nil, err
	}
	r.Log.Info("feed polled", "feed_url", f.URL(), "status", status, "items", len(items))
	if !pending && (status == http.StatusNotModified || (resp.ETag == st.ETag && resp.LastModified == st.LastModified)) {
		return items, status, nil, nil
	}
	etag, lastModified := resp.ETag, resp.LastModified
	commit = func(ctx context.Context) error {
		cur, ok, err := r.States.ClaimFeed(ctx, f.URL())
		if err != nil || !ok {
			// Held by another worker: it keeps its own validators; ours
			// are only an optimisation.
			return err
		}
		cur.ETag, cur.LastModified = etag, lastModified
		if cur.LastPoll.Equal(now) || cur.NextPoll.Before(next) {
			cur.NextPoll = next
		}
		if err := r.States.ReleaseFeed(ctx, f.URL(), cur); err != nil {
			return fmt.Errorf("save feed state %s: %w", f.URL(), err)
		}
		return nil
	}
	return items, status, commit, nil
}

// Process turns stories into posts, each exactly once across workers and
// processes; force rewrites stories already written. One failing story
// never stops the others; the error is only for a failing store or a
// cancelled context.
func (r *Runner) Process(ctx context.Context, items []Item, force bool) (Summary, error) {
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
		sum     Summary
		mu      sync.Mutex
		done    int
		fatal   error
		wg      sync.WaitGroup
		work    = make(chan Item)
		workers = max(r.Workers, 1)
	)
	for range workers {
		wg.Go(func() {
			for it := range work {
				res, err := r.story(ctx, it, force)
				mu.Lock()
				if err != nil && fatal == nil {
					fatal = err
				}
				if res.Outcome != "" {
					sum.add(res)
					if res.Outcome != Duplicate {
						sum.New++
					}
				}
				done++
				if r.Progress != nil {
					r.Progress(done, len(items), res)
				}
				mu.Unlock()
			}
		})
	}
feed:
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
			break feed
		}
	}
	close(work)
	wg.Wait()
	sum.Duplicate += dups
	if fatal == nil && ctx.Err() != nil {
		fatal = ctx.Err()
	}
	return sum, fatal
}

// Identify returns a story URL's key, using the rules of its site when it
// has one: the canonical URL and the site key.
func (r *Runner) Identify(raw string) (Key, *Site, error) {
	u, ok := parseHTTPURL(strings.TrimSpace(raw))
	if !ok {
		return Key{}, nil, fmt.Errorf("%q: %w", raw, ErrBadURL)
	}
	site := FindSite(r.Sites, u)
	if site == nil {
		return Key{URL: genericCanonical(u, "")}, nil, nil
	}
	if !portAllowed(site, u) {
		return Key{}, nil, fmt.Errorf("%s: port %s: %w", raw, u.Port(), errNoSiteRule)
	}
	k := Key{URL: site.canonicalURL(u, "")}
	if id := site.match(site.storyID, k.URL); id != "" {
		k.SiteKey = site.cfg.Name + ":" + id
	}
	return k, site, nil
}

// story handles one story. The error is for failures that must stop the
// run (the store); the story's own failures are in the Result.
func (r *Runner) story(ctx context.Context, it Item, force bool) (Result, error) {
	res := Result{URL: it.URL}
	k, site, err := r.Identify(it.URL)
	if err != nil {
		res.Outcome, res.Err = Failed, err
		res.Reason, _ = classify(err)
		r.Log.Warn("story skipped", "article_url", it.URL, "error", err)
		return res, nil
	}
	res.URL = k.URL
	claim, err := r.Claims.Claim(ctx, k, force)
	if err != nil {
		return res, fmt.Errorf("claim %s: %w", k.URL, err)
	}
	switch claim.Status {
	case Done:
		res.Outcome = Duplicate
		r.Metrics.add("newsmd_articles_duplicate_total", 1)
		return res, nil
	case HeldElsewhere:
		res.Outcome = Elsewhere
		return res, nil
	case NotDue:
		res.Outcome = Waiting
		return res, nil
	}
	start := r.now()
	article, reason, permanent, err := r.article(ctx, it, site)
	if err == nil {
		return r.publish(ctx, k, article, start)
	}
	if ctx.Err() != nil {
		// Stopping (SIGTERM): give the story back at once, with a context
		// of its own since ctx is done, for the next run or worker; the
		// attempt does not count.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if ferr := r.Claims.Release(rctx, k); ferr != nil {
			r.Log.Warn("could not release an interrupted story", "article_url", k.URL, "error", ferr)
		}
		return Result{URL: k.URL}, nil
	}
	attempts := claim.Attempts + 1
	if r.Failures != nil {
		gres, settled, givenUp, gerr := r.giveUp(ctx, k, it, site, attempts, reason, permanent, err, start)
		if settled || gerr != nil {
			return gres, gerr
		}
		permanent = givenUp
	}
	res.Outcome, res.Reason, res.Err = Failed, reason, err
	r.Metrics.add("newsmd_article_failures_total", 1, "reason", reason)
	retryAt := r.retryAt(err, attempts, k.URL)
	if ferr := r.Claims.Fail(ctx, k, reason+": "+err.Error(), permanent, retryAt); ferr != nil {
		return res, fmt.Errorf("record failure of %s: %w", k.URL, ferr)
	}
	args := []any{"article_url", k.URL, "reason", reason, "permanent", permanent, "attempt", attempts, "error", err}
	if !permanent {
		args = append(args, "retry_at", retryAt.Format(time.RFC3339))
	}
	r.Log.Warn("article failed", args...)
	return res, nil
}

// publish renders a fetched article and writes it as k's post.
func (r *Runner) publish(ctx context.Context, k Key, article converter.Article, start time.Time) (Result, error) {
	res := Result{URL: k.URL}
	post, err := r.Converter.Render(article)
	if err != nil {
		res.Outcome, res.Reason, res.Err = Failed, "render", err
		r.Metrics.add("newsmd_article_failures_total", 1, "reason", "render")
		if ferr := r.Claims.Fail(ctx, k, "render: "+err.Error(), true, time.Time{}); ferr != nil {
			return res, fmt.Errorf("record failure of %s: %w", k.URL, ferr)
		}
		r.Log.Warn("article failed", "article_url", k.URL, "reason", "render", "permanent", true, "error", err)
		return res, nil
	}
	path, err := r.Claims.Publish(ctx, k, post.Name, post.Content)
	if err != nil {
		// A full disk or a failing store stops the run: every following
		// story would fail the same way.
		if ferr := r.Claims.Release(context.WithoutCancel(ctx), k); ferr != nil {
			r.Log.Error("could not release the story", "article_url", k.URL, "error", ferr)
		}
		return res, fmt.Errorf("write %s: %w", k.URL, err)
	}
	res.Outcome, res.Path = Written, path
	r.Metrics.add("newsmd_articles_written_total", 1)
	r.Metrics.observe("newsmd_publication_lag_seconds", lagBuckets, r.now().Sub(article.Published).Seconds())
	r.Log.Info("article written", "article_url", k.URL, "path", path, "extractor", article.Extractor,
		"duration", r.now().Sub(start), "lag", r.now().Sub(article.Published))
	return res, nil
}

// giveUp notes the attempts-th failure of k with the feed's copy of the
// story, and settles the story when it will not be fetched again: when the
// failure is permanent (404, 410, a page that never parses), or once it
// has failed MaxAttempts times over GiveUpAfter. A settled story is written
// from the feed's copy, this poll's or one kept from an earlier one, when
// there is one. settled reports that it was written (res says how);
// otherwise the caller records the failure, as permanent when givenUp.
func (r *Runner) giveUp(ctx context.Context, k Key, it Item, site *Site, attempts int, reason string, permanent bool, cause error, start time.Time) (res Result, settled, givenUp bool, err error) {
	var copyJSON []byte
	if _, ok := r.fromItem(it, site); ok {
		copyJSON, _ = json.Marshal(it)
	}
	since, kept, err := r.Failures.NoteFailure(ctx, k.URL, copyJSON)
	if err != nil {
		return Result{URL: k.URL}, false, false, fmt.Errorf("note failure of %s: %w", k.URL, err)
	}
	exhausted := r.MaxAttempts > 0 && attempts >= r.MaxAttempts && r.now().Sub(since) >= r.GiveUpAfter
	if !permanent && !exhausted {
		return Result{}, false, false, nil
	}
	if exhausted && !permanent {
		r.Metrics.add("newsmd_articles_given_up_total", 1, "reason", reason)
	}
	var copyItem Item
	if len(kept) > 0 && json.Unmarshal(kept, &copyItem) == nil {
		copyItem.URL = it.URL
		if a, ok := r.fromItem(copyItem, site); ok {
			r.Log.Warn("article page unavailable for good; writing the feed's copy", "article_url", k.URL, "reason", reason,
				"attempts", attempts, "failing_since", since.Format(time.RFC3339), "error", cause)
			res, err := r.publish(ctx, k, a, start)
			return res, true, true, err
		}
	}
	if !permanent {
		r.Log.Warn("article given up: failed for good", "article_url", k.URL, "reason", reason,
			"attempts", attempts, "failing_since", since.Format(time.RFC3339), "error", cause,
			"hint", "newsmd backfill --force retries it once the page works")
	}
	return Result{}, false, true, nil
}

// serverWait is a wait a server asked for (what names how), capped at
// MaxWait; a capped wait is logged with what was asked.
func (r *Runner) serverWait(asked time.Duration, what, u string) time.Duration {
	if r.MaxWait <= 0 || asked <= r.MaxWait {
		return asked
	}
	r.Log.Warn("server asked for a longer wait than crawl.max_wait; capped", "url", u, "header", what,
		"asked", asked.String(), "wait", r.MaxWait.String())
	return r.MaxWait
}

// retryAt is when a story that failed transiently for the attempts-th
// time is due again: when the site asked (Retry-After) or the host's
// backoff ends, both capped at MaxWait; else after RetryDelay, doubled for
// each earlier attempt up to RetryDelayMax, less up to a tenth at random
// so that stories that failed together do not come back together.
func (r *Runner) retryAt(err error, attempts int, u string) time.Time {
	now := r.now()
	if he, ok := errors.AsType[*HTTPError](err); ok && he.RetryAfter > 0 {
		return now.Add(r.serverWait(he.RetryAfter, "Retry-After", u))
	}
	if hb, ok := errors.AsType[*HostBackoffError](err); ok && hb.Until.After(now) {
		return now.Add(min(hb.Until.Sub(now), max(r.MaxWait, time.Minute)))
	}
	base := r.RetryDelay
	if base <= 0 {
		base = time.Minute
	}
	ceiling := r.RetryDelayMax
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
func (r *Runner) article(ctx context.Context, it Item, site *Site) (converter.Article, string, bool, error) {
	start := time.Now()
	resp, err := r.Fetcher.Get(ctx, it.URL, Conditional{})
	r.Metrics.observe("newsmd_fetch_duration_seconds", latencyBuckets, time.Since(start).Seconds())
	var a converter.Article
	if err == nil {
		a, err = Extract(resp.Body, resp.URL, r.Sites)
		if err == nil {
			return a, "", false, nil
		}
		if fa, ok := r.fromItem(it, site); ok {
			return fa, "", false, nil
		}
		reason, when := classify(err)
		return a, reason, when == retryNever, err
	}
	if ctx.Err() != nil {
		return a, "cancelled", false, ctx.Err()
	}
	reason, when := classify(err)
	permanent := when == retryNever
	if permanent {
		// The page will not come back: the feed's copy is all there is.
		// A passing failure waits for a later run instead, since the page
		// is the better source.
		if fa, ok := r.fromItem(it, site); ok {
			r.Log.Warn("article page unavailable; using the feed's copy", "article_url", it.URL, "error", err)
			return fa, "", false, nil
		}
	}
	return a, reason, permanent, err
}

// fromItem makes an article of a feed item that carries the whole story
// (RSSHub does), for when its page cannot be fetched.
func (r *Runner) fromItem(it Item, site *Site) (converter.Article, bool) {
	if it.ContentHTML == "" || it.Title == "" || it.Published.IsZero() {
		return converter.Article{}, false
	}
	k, _, err := r.Identify(it.URL)
	if err != nil {
		return converter.Article{}, false
	}
	a := converter.Article{Title: it.Title, URL: k.URL, Published: it.Published, Extractor: "feed", FromFeed: true}
	body := it.ContentHTML
	if site != nil {
		a.Site = site.cfg.Title
		a.StoryID = site.match(site.storyID, k.URL)
		a.Section = site.match(site.section, k.URL)
		cleaned, truncated, err := site.CleanFragment(body)
		if err != nil {
			return converter.Article{}, false
		}
		body, a.Truncated = cleaned, truncated
	}
	a.BodyHTML = body
	return a, true
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
