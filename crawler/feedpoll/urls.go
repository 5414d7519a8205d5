package feedpoll

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

// Poll is what one poll of a feed found. A feed may have several URLs
// (feed.Feed.URLs), tried in order: URL and Location say which one
// answered and where it lives now, for the logs, doctor and metrics.
type Poll struct {
	// Items are the stories listed, deduplicated across the pages read,
	// in the listing's order.
	Items []feed.Item
	// Status is the HTTP status of the answering URL's first page: 200,
	// or 304 when the feed did not change (and Items is empty). It is -1
	// (StatusHeld) when another worker holds the feed (it was not
	// polled), 0 when the poll failed or the feed was not due.
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

// ErrNoItems is the FailedURL.Err of a feed URL that answered but listed
// nothing.
var ErrNoItems = errors.New("no items listed")

// memory is what a Poller remembers of its feeds between polls, in
// this process only: which URL answered last and where URLs redirected
// to, so that a change is logged once, not at every poll.
type memory struct {
	mu       sync.Mutex
	answered map[string]string // feed's first URL → URL that answered
	located  map[string]string // feed URL → where it redirected to
}

// swap records v under k in *m and returns the previous value.
func (m *memory) swap(mp *map[string]string, k, v string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *mp == nil {
		*mp = map[string]string{}
	}
	old := (*mp)[k]
	(*mp)[k] = v
	return old
}

func (m *memory) get(mp map[string]string, k string) string {
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
// stored validators cond: another URL's are no validators of its own.
func (p *Poller) fetchFeed(ctx context.Context, f *feed.Feed, cond fetch.Conditional) (Poll, *urlAnswer, error) {
	var (
		res     Poll
		empty   *urlAnswer
		at      string
		emptyAt int // failures before it
	)
	known := p.mem.get(p.mem.answered, f.URL())
	if known == "" {
		known = f.URL()
	}
	for _, u := range f.URLs() {
		var c fetch.Conditional
		if u == known {
			c = cond
		}
		a, err := p.readFeedURL(ctx, f, u, c)
		if ctx.Err() != nil {
			return res, nil, ctx.Err()
		}
		switch {
		case err != nil:
			res.Failed = append(res.Failed, FailedURL{URL: u, Err: err})
			continue
		case a.resp.Status != http.StatusNotModified && len(a.items) == 0:
			if empty == nil {
				empty, at, emptyAt = a, u, len(res.Failed)
			}
			res.Failed = append(res.Failed, FailedURL{URL: u, Err: ErrNoItems})
			continue
		}
		p.answeredBy(f, u, a, &res)
		return res, a, nil
	}
	if empty != nil {
		// Every URL failed or listed nothing: a feed with no news is
		// not a failure.
		res.Failed = res.Failed[:emptyAt]
		p.answeredBy(f, at, empty, &res)
		return res, empty, nil
	}
	err := res.Failed[0].Err
	if len(res.Failed) > 1 {
		var more []string
		for _, fu := range res.Failed[1:] {
			more = append(more, fu.Err.Error())
		}
		err = fmt.Errorf("%w; and the feed's other URLs: %s", err, strings.Join(more, "; "))
	}
	return res, nil, err
}

// answeredBy fills res with URL u's answer a, and logs a change of the URL
// that answers, and a redirect, once.
func (p *Poller) answeredBy(f *feed.Feed, u string, a *urlAnswer, res *Poll) {
	res.URL, res.Status, res.Items, res.Pages = u, a.resp.Status, a.items, a.pages
	if n := len(a.resp.Redirects); n > 0 {
		res.Location = a.resp.Redirects[n-1]
		if p.mem.swap(&p.mem.located, u, res.Location) != res.Location {
			p.dep.Log.Warn("feed URL redirects: update the config", "feed", f.Name(), "feed_url", u, "location", res.Location,
				"hint", fmt.Sprintf("the site moved this listing; write %s in place of %s in the feed's url or urls", res.Location, u))
		}
	}
	prev := p.mem.swap(&p.mem.answered, f.URL(), u)
	if prev == u || (prev == "" && u == f.URL()) {
		return
	}
	if len(res.Failed) > 0 {
		p.dep.Log.Warn("feed answered by a fallback URL", "feed", f.Name(), "feed_url", f.URL(), "answered_url", u,
			"failed_url", res.Failed[0].URL, "error", res.Failed[0].Err,
			"hint", fmt.Sprintf("%s no longer lists stories; once the site's move is confirmed, put %s first in the feed's urls", res.Failed[0].URL, u))
		return
	}
	p.dep.Log.Info("feed answered by another URL", "feed", f.Name(), "feed_url", f.URL(), "answered_url", u, "before", prev)
}

// readFeedURL fetches the pages of u, one of f's URLs, and reads their
// items. The first page decides: its failure is the URL's. A later page
// that fails to come ends the reading, one that cannot be read is
// skipped, one that lists nothing is past the last page; the pages read
// are kept either way.
func (p *Poller) readFeedURL(ctx context.Context, f *feed.Feed, u string, cond fetch.Conditional) (*urlAnswer, error) {
	pages := f.PageURLs(u)
	within := p.within(f, pages[0])
	resp, err := p.dep.Fetcher.GetWithin(ctx, pages[0], cond, within)
	if err != nil {
		return nil, err
	}
	a := &urlAnswer{resp: resp, pages: 1}
	if resp.Status == http.StatusNotModified {
		return a, nil
	}
	items, err := p.readPage(f, resp)
	if err != nil {
		return nil, err
	}
	lists := [][]feed.Item{items}
	more := len(items) > 0 // else past the last page
	for _, pu := range pages[1:] {
		if !more {
			break
		}
		presp, err := p.dep.Fetcher.GetWithin(ctx, pu, fetch.Conditional{}, p.within(f, pu))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if he, ok := errors.AsType[*fetch.HTTPError](err); ok && he.Permanent() {
			p.dep.Log.Info("feed has fewer pages than configured", "feed", f.Name(), "page_url", pu, "status", he.Status)
			break
		}
		if err != nil {
			p.dep.Log.Warn("feed page failed; the pages before it are kept", "feed", f.Name(), "page_url", pu, "error", err,
				"hint", "if it keeps failing, lower the feed's pages")
			break
		}
		a.pages++
		items, err = p.readPage(f, presp)
		if err != nil {
			p.dep.Log.Warn("feed page unreadable; skipped", "feed", f.Name(), "page_url", pu, "error", err,
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
func (p *Poller) readPage(f *feed.Feed, resp *fetch.Response) ([]feed.Item, error) {
	items, skipped, err := f.Items(resp.Body, resp.URL)
	if skipped > 0 {
		p.dep.Log.Warn("feed items without a usable link skipped", "feed_url", resp.URL, "skipped", skipped)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return items, nil
}

// within is where a redirect of f's URL u may lead: u's own host and
// port (or its https on the default port), and the hosts and ports of
// f's site rules (named by f, else those of u's host).
func (p *Poller) within(f *feed.Feed, u string) func(*url.URL) bool {
	from, ok := httpurl.Parse(u)
	if !ok {
		return func(*url.URL) bool { return false }
	}
	var rules *site.Site
	if name := f.Site(); name != "" {
		for _, s := range p.dep.Sites {
			if s.Name() == name {
				rules = s
			}
		}
	} else {
		_, rules, _ = site.Identify(p.dep.Sites, u)
	}
	return func(to *url.URL) bool {
		if rules != nil {
			if _, s, err := site.Identify(p.dep.Sites, to.String()); err == nil && s == rules {
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
