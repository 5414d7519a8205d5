package feedpoll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
)

// State is what is kept of a feed between polls.
type State struct {
	ETag, LastModified string
	LastPoll, NextPoll time.Time
	Failures           int
	LastError          string
}

// States keeps feeds' validators and schedule. ClaimFeed returns false
// when another worker is polling the feed; ReleaseFeed's error wraps the
// runner's ErrClaimLost when another worker took the feed over meanwhile.
// PeekFeed reads a feed's state without taking its lease, and writes
// nothing (the zero State for a feed never polled).
type States interface {
	PeekFeed(ctx context.Context, feedURL string) (State, error)
	ClaimFeed(ctx context.Context, feedURL string, now time.Time) (State, bool, error)
	ReleaseFeed(ctx context.Context, feedURL string, st State) error
}

// StatusHeld is Poll.Status for a feed another worker holds.
const StatusHeld = -1

// ErrUnreadable is wrapped by the error of a feed or listing that was
// fetched but could not be read.
var ErrUnreadable = errors.New("unreadable feed")

// Config is how a Poller schedules: Lease is how soon a feed is polled
// again when the worker that polled it may have died before recording
// its stories (crawl.lease; 0: no sooner than its next poll).
type Config struct {
	Lease time.Duration
}

// Deps are the parts a Poller works with; all but Wait are required.
type Deps struct {
	Fetcher *fetch.Client
	// Sites are the site rules, that say where a feed's redirects may
	// lead.
	Sites  []*site.Site
	States States
	Log    *slog.Logger
	Now    func() time.Time
	// Wait caps a wait a server asked for, in header, for url (the
	// runner's crawl.max_wait, logged when capped); nil waits as asked.
	Wait func(asked time.Duration, header, url string) time.Duration
}

// Poller polls feeds: one at a time per feed across workers (through
// States), each over its URLs and pages. It remembers, in this process,
// which URL of each feed answered and where URLs redirect, so that a
// change is logged once. It is safe for concurrent use.
type Poller struct {
	cfg Config
	dep Deps
	mem memory
}

// New returns the poller of cfg working with d.
func New(cfg Config, d Deps) *Poller {
	return &Poller{cfg: cfg, dep: d}
}

func (p *Poller) wait(asked time.Duration, header, url string) time.Duration {
	if p.dep.Wait == nil {
		return asked
	}
	return p.dep.Wait(asked, header, url)
}

// Poll claims feed f's state, fetches it with its stored validators and
// returns its items (see Poll); when onlyDue, a feed whose next poll time
// has not come is left alone (status 0, no error). It schedules the next
// poll: the feed's interval with jitter, later when the feed's
// Cache-Control max-age or ttl, or a Retry-After, asks for it (as capped by
// Deps.Wait), and after Lease while the stories found are not yet recorded.
// The feed's new validators are stored only by Poll.Commit.
func (p *Poller) Poll(ctx context.Context, f *feed.Feed, onlyDue bool) (Poll, error) {
	if onlyDue {
		// A feed not due is left alone after a read: taking and giving
		// back its lease at every tick would be writes, and fsyncs, to
		// learn that nothing is due.
		st, err := p.dep.States.PeekFeed(ctx, f.URL())
		if err != nil {
			return Poll{}, fmt.Errorf("read feed state %s: %w", f.URL(), err)
		}
		if p.dep.Now().Before(st.NextPoll) {
			return Poll{}, nil
		}
	}
	st, ok, err := p.dep.States.ClaimFeed(ctx, f.URL(), p.dep.Now())
	if err != nil {
		return Poll{}, fmt.Errorf("claim feed %s: %w", f.URL(), err)
	}
	if !ok {
		return Poll{Status: StatusHeld}, nil
	}
	now := p.dep.Now()
	if onlyDue && now.Before(st.NextPoll) {
		if err := p.dep.States.ReleaseFeed(ctx, f.URL(), st); err != nil {
			return Poll{}, fmt.Errorf("release feed %s: %w", f.URL(), err)
		}
		return Poll{}, nil
	}
	was := st
	st.LastPoll = now
	st.NextPoll = now.Add(jitter(f.Interval()))
	poll, answer, err := p.fetchFeed(ctx, f, fetch.Conditional{ETag: st.ETag, LastModified: st.LastModified})
	if errors.Is(err, fetch.ErrHostGate) {
		// The store failed, not the feed: its state stays as it was,
		// and the poll is tried again at the next tick.
		if rerr := p.dep.States.ReleaseFeed(ctx, f.URL(), was); rerr != nil {
			p.dep.Log.Debug("could not release a feed", "feed_url", f.URL(), "error", rerr)
		}
		return Poll{}, fmt.Errorf("poll %s: %w", f.URL(), err)
	}
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
			st.NextPoll = now.Add(p.wait(he.RetryAfter, "Retry-After", f.URL()))
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
			st.NextPoll = now.Add(p.wait(wait, "Cache-Control max-age or ttl", f.URL()))
		}
	}
	// Until its stories are recorded, the feed is due again after the
	// takeover time: if this worker dies on the way, another polls it
	// then instead of after the whole interval.
	next := st.NextPoll
	pending := err == nil && status != http.StatusNotModified && len(items) > 0
	if pending && p.cfg.Lease > 0 {
		st.NextPoll = now.Add(p.cfg.Lease)
	}
	if rerr := p.dep.States.ReleaseFeed(ctx, f.URL(), st); rerr != nil && err == nil {
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
	p.dep.Log.Info("feed polled", args...)
	if !pending && (status == http.StatusNotModified || (resp.ETag == st.ETag && resp.LastModified == st.LastModified)) {
		return poll, nil
	}
	etag, lastModified := resp.ETag, resp.LastModified
	poll.Commit = func(ctx context.Context) error {
		cur, ok, err := p.dep.States.ClaimFeed(ctx, f.URL(), p.dep.Now())
		if err != nil || !ok {
			// Held by another worker: it keeps its own validators; ours
			// are only an optimisation.
			return err
		}
		cur.ETag, cur.LastModified = etag, lastModified
		if cur.LastPoll.Equal(now) || cur.NextPoll.Before(next) {
			cur.NextPoll = next
		}
		if err := p.dep.States.ReleaseFeed(ctx, f.URL(), cur); err != nil {
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
