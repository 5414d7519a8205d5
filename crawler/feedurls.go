package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/site"
)

// FeedPoll is what one poll of a feed found. A feed may have several URLs
// (feed.Feed.URLs), tried in order: URL and Location say which one
// answered and where it lives now, for the logs, doctor and metrics.
type FeedPoll struct {
	// Items are the stories listed, deduplicated across the pages read,
	// in the listing's order.
	Items []feed.Item
	// Status is the HTTP status of the answering URL's first page: 200,
	// or 304 when the feed did not change (and Items is empty). It is -1
	// when another worker holds the feed (it was not polled), 0 when the
	// poll failed.
	Status int
	// URL is the feed URL that answered, as configured (one of
	// feed.Feed.URLs); "" when none did.
	URL string
	// Location is where URL's first page was redirected to, "" when it
	// was not: the address to write in the config.
	Location string
	// Failed are the URLs tried before URL that failed, with why. When
	// it is not empty the feed's first URL is dead or lists nothing.
	Failed []FailedURL
	// Pages is how many of the answering URL's pages were read.
	Pages int
	// Commit stores the feed's new validators once every item is
	// recorded in the store; nil when there is nothing to store.
	Commit func(context.Context) error
}

// FailedURL is a feed URL that did not answer a poll with items.
type FailedURL struct {
	URL string
	Err error
}

// errNoItems: a feed URL answered, but listed nothing.
var errNoItems = errors.New("no items listed")

// feedMemory is what the runner remembers of its feeds between polls, in
// this process only: which URL answered last and where URLs redirected
// to, so that a change is logged once, not at every poll.
type feedMemory struct {
	mu       sync.Mutex
	answered map[string]string // feed's first URL → URL that answered
	located  map[string]string // feed URL → where it redirected to
}

// swap records v under k in *m and returns the previous value.
func (m *feedMemory) swap(mp *map[string]string, k, v string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *mp == nil {
		*mp = map[string]string{}
	}
	old := (*mp)[k]
	(*mp)[k] = v
	return old
}

func (m *feedMemory) get(mp map[string]string, k string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return mp[k]
}

// urlAnswer is what one feed URL answered.
type urlAnswer struct {
	resp  *fetch.Response // of the first page
	items []feed.Item
	pages int
}

// fetchFeed tries f's URLs in order and returns the answer of the first
// that answers with items or 304. When none does, it returns the answer
// of the first that answered with no items, else the first URL's error.
// Only the URL that answered last (at first, the first URL) is sent the
// stored validators: another URL's are no validators of its own.
func (r *Runner) fetchFeed(ctx context.Context, f *feed.Feed, st FeedState) (FeedPoll, *urlAnswer, error) {
	var (
		p       FeedPoll
		empty   *urlAnswer
		at      string
		emptyAt int // failures before it
	)
	known := r.mem.get(r.mem.answered, f.URL())
	if known == "" {
		known = f.URL()
	}
	for _, u := range f.URLs() {
		var cond fetch.Conditional
		if u == known {
			cond = fetch.Conditional{ETag: st.ETag, LastModified: st.LastModified}
		}
		a, err := r.readFeedURL(ctx, f, u, cond)
		if ctx.Err() != nil {
			return p, nil, ctx.Err()
		}
		switch {
		case err != nil:
			p.Failed = append(p.Failed, FailedURL{URL: u, Err: err})
			continue
		case a.resp.Status != http.StatusNotModified && len(a.items) == 0:
			if empty == nil {
				empty, at, emptyAt = a, u, len(p.Failed)
			}
			p.Failed = append(p.Failed, FailedURL{URL: u, Err: errNoItems})
			continue
		}
		r.answeredBy(f, u, a, &p)
		return p, a, nil
	}
	if empty != nil {
		// Every URL failed or listed nothing: a feed with no news is
		// not a failure.
		p.Failed = p.Failed[:emptyAt]
		r.answeredBy(f, at, empty, &p)
		return p, empty, nil
	}
	err := p.Failed[0].Err
	if len(p.Failed) > 1 {
		var more []string
		for _, fu := range p.Failed[1:] {
			more = append(more, fu.Err.Error())
		}
		err = fmt.Errorf("%w; and the feed's other URLs: %s", err, strings.Join(more, "; "))
	}
	return p, nil, err
}

// answeredBy fills p with URL u's answer a, and logs a change of the URL
// that answers, and a redirect, once.
func (r *Runner) answeredBy(f *feed.Feed, u string, a *urlAnswer, p *FeedPoll) {
	p.URL, p.Status, p.Items, p.Pages = u, a.resp.Status, a.items, a.pages
	if n := len(a.resp.Redirects); n > 0 {
		p.Location = a.resp.Redirects[n-1]
		if r.mem.swap(&r.mem.located, u, p.Location) != p.Location {
			r.dep.Log.Warn("feed URL redirects: update the config", "feed", f.Name(), "feed_url", u, "location", p.Location,
				"hint", fmt.Sprintf("the site moved this listing; write %s in place of %s in the feed's url or urls", p.Location, u))
		}
	}
	prev := r.mem.swap(&r.mem.answered, f.URL(), u)
	if prev == u || (prev == "" && u == f.URL()) {
		return
	}
	if len(p.Failed) > 0 {
		r.dep.Log.Warn("feed answered by a fallback URL", "feed", f.Name(), "feed_url", f.URL(), "answered_url", u,
			"failed_url", p.Failed[0].URL, "error", p.Failed[0].Err,
			"hint", fmt.Sprintf("%s no longer lists stories; once the site's move is confirmed, put %s first in the feed's urls", p.Failed[0].URL, u))
		return
	}
	r.dep.Log.Info("feed answered by another URL", "feed", f.Name(), "feed_url", f.URL(), "answered_url", u, "before", prev)
}

// readFeedURL fetches the pages of u, one of f's URLs, and reads their
// items. The first page decides: its failure is the URL's. A later page
// that fails to come ends the reading, one that cannot be read is
// skipped, one that lists nothing is past the last page; the pages read
// are kept either way.
func (r *Runner) readFeedURL(ctx context.Context, f *feed.Feed, u string, cond fetch.Conditional) (*urlAnswer, error) {
	pages := f.PageURLs(u)
	within := r.within(f, pages[0])
	resp, err := r.dep.Fetcher.GetWithin(ctx, pages[0], cond, within)
	if err != nil {
		return nil, err
	}
	a := &urlAnswer{resp: resp, pages: 1}
	if resp.Status == http.StatusNotModified {
		return a, nil
	}
	items, err := r.readPage(f, resp)
	if err != nil {
		return nil, err
	}
	lists := [][]feed.Item{items}
	more := len(items) > 0 // else past the last page
	for _, pu := range pages[1:] {
		if !more {
			break
		}
		presp, err := r.dep.Fetcher.GetWithin(ctx, pu, fetch.Conditional{}, r.within(f, pu))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if he, ok := errors.AsType[*fetch.HTTPError](err); ok && he.Permanent() {
			r.dep.Log.Info("feed has fewer pages than configured", "feed", f.Name(), "page_url", pu, "status", he.Status)
			break
		}
		if err != nil {
			r.dep.Log.Warn("feed page failed; the pages before it are kept", "feed", f.Name(), "page_url", pu, "error", err,
				"hint", "if it keeps failing, lower the feed's pages")
			break
		}
		a.pages++
		items, err = r.readPage(f, presp)
		if err != nil {
			r.dep.Log.Warn("feed page unreadable; skipped", "feed", f.Name(), "page_url", pu, "error", err,
				"hint", "the listing's later pages may have another layout; check them, or lower the feed's pages")
			continue
		}
		lists = append(lists, items)
		more = len(items) > 0
	}
	a.items = feed.Merge(lists...)
	return a, nil
}

// readPage reads the items of one fetched page of f.
func (r *Runner) readPage(f *feed.Feed, resp *fetch.Response) ([]feed.Item, error) {
	items, skipped, err := f.Items(resp.Body, resp.URL)
	if skipped > 0 {
		r.dep.Log.Warn("feed items without a usable link skipped", "feed_url", resp.URL, "skipped", skipped)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnreadableFeed, err)
	}
	return items, nil
}

// within is where a redirect of f's URL u may lead: u's own host and
// port (or its https on the default port), and the hosts and ports of
// f's site rules (named by f, else those of u's host).
func (r *Runner) within(f *feed.Feed, u string) func(*url.URL) bool {
	from, ok := httpurl.Parse(u)
	if !ok {
		return func(*url.URL) bool { return false }
	}
	var rules *site.Site
	if name := f.Site(); name != "" {
		for _, s := range r.dep.Sites {
			if s.Name() == name {
				rules = s
			}
		}
	} else {
		_, rules, _ = r.Identify(u)
	}
	return func(to *url.URL) bool {
		if rules != nil {
			if _, s, err := r.Identify(to.String()); err == nil && s == rules {
				return true
			}
		}
		if site.SameOrigin(to, from) {
			return true
		}
		upgrade := from.Scheme == "http" && to.Scheme == "https" && to.Port() == "" &&
			httpurl.EffectivePort(from) == "80"
		return upgrade && site.SameOrigin(&url.URL{Scheme: "http", Host: to.Hostname()}, from)
	}
}
