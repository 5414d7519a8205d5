package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
)

const doctorUsage = `Usage: newsmd doctor [--feed NAME | --url URL] [--json] [--config FILE]

Checks that newsmd still understands the sites it archives: polls each feed
once, fetches its newest story and tells, per feed and per story, whether the
feed answers, how many items it lists, which layout of the site rules matched
the story page, where each field came from, what is missing, and a verdict.
Run it the morning the archive stops growing; README "When the site changes"
says what to do for each verdict.

It is read-only: it writes nothing to the archive or the store (it does not
open the store), and fetches with the configured politeness, robots.txt and
user agent, as once does.

Exit status: 0 every feed is healthy, 1 something is broken (a dead feed, a
feed without items, a story page that fails or that no layout matches, a
layout that matches but lacks a required field), 2 configuration errors.`

// doctorReport is what doctor found, feed by feed.
type doctorReport struct {
	Feeds []*feedCheck `json:"feeds"`
	OK    bool         `json:"ok"`
}

// feedCheck is one feed's poll and its newest story; with --url, only the
// story.
type feedCheck struct {
	Name    string `json:"name,omitempty"`
	Type    string `json:"type,omitempty"`
	URL     string `json:"url,omitempty"`
	Status  int    `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
	Items   int    `json:"items"`
	InScope int    `json:"in_scope"`
	// OutOfScope is the first item no site rule allows, if any.
	OutOfScope string `json:"out_of_scope,omitempty"`
	// URLs are the feed's addresses as they were tried, in order (the
	// first page of each); URL is the one that answered, else the first.
	URLs []urlCheck `json:"urls,omitempty"`
	// Notes are what works but deserves a config edit (a fallback URL
	// answered, a redirect).
	Notes    []string    `json:"notes,omitempty"`
	Story    *storyCheck `json:"story,omitempty"`
	Problems []problem   `json:"problems,omitempty"`
}

// urlCheck is one address of a feed, asked once.
type urlCheck struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"`
	// Location is where the address redirected to, if it did.
	Location string `json:"location,omitempty"`
	Items    int    `json:"items"`
	Error    string `json:"error,omitempty"`
	err      error
}

// short is the error of the address, short: "HTTP 404 Not Found".
func (u urlCheck) short() string {
	if u.err == nil {
		return u.Error
	}
	return shortError(u.err)
}

// readFeedURL fetches u, the first page of one of f's URLs, and reads its
// items: the status, and the final address when it redirected.
func (d *doctor) readFeedURL(ctx context.Context, f *feed.Feed, u string) ([]feed.Item, int, string, error) {
	resp, err := d.fetcher.Get(ctx, u, fetch.Conditional{})
	if err != nil {
		return nil, statusOf(err), "", err
	}
	location := ""
	if resp.URL != u {
		location = resp.URL
	}
	items, _, err := f.Items(resp.Body, resp.URL)
	return items, resp.Status, location, err
}

// otherURLs says how the feed's other URLs fared, for a feed none of
// whose URLs answered.
func (d *doctor) otherURLs(c *feedCheck) string {
	var parts []string
	for _, u := range c.URLs[1:] {
		what := u.short()
		if what == "" {
			what = "no items"
		}
		parts = append(parts, u.URL+": "+what)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (and " + strings.Join(parts, "; ") + ")"
}

// storyCheck is one story page: its fetch and its extraction.
type storyCheck struct {
	URL       string          `json:"url"`
	Status    int             `json:"status,omitempty"`
	Bytes     int             `json:"bytes,omitempty"`
	Error     string          `json:"error,omitempty"`
	Diagnosis *site.Diagnosis `json:"diagnosis,omitempty"`
}

// problem is something broken, with the config key to look at.
type problem struct {
	What string `json:"what"`
	Fix  string `json:"fix"`
}

func runDoctor(ctx context.Context, m *Main, args []string) error {
	fl, configPath := newFlags(m, "doctor", doctorUsage)
	feedName := fl.String("feed", "", "check only the feed `NAME`")
	pageURL := fl.String("url", "", "check only the story page at `URL` (no feed is polled)")
	asJSON := fl.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Errorf("doctor: unexpected argument %q", fl.Arg(0))}
	}
	if *feedName != "" && *pageURL != "" {
		return usageError{errors.New("doctor: --feed and --url exclude each other")}
	}
	a, err := m.load(fl, *configPath, "doctor", nil)
	if err != nil {
		return err
	}
	feeds := a.feeds
	if *feedName != "" {
		i := slices.IndexFunc(feeds, func(f *feed.Feed) bool { return f.Name() == *feedName })
		if i < 0 {
			var names []string
			for _, f := range feeds {
				names = append(names, f.Name())
			}
			return usageError{hintError{fmt.Errorf("doctor: no feed named %q", *feedName), "the feeds are: " + strings.Join(names, ", ")}}
		}
		feeds = feeds[i : i+1]
	}
	// The hosts once may fetch from, and the page's when the user names one.
	var hosts []string
	for _, s := range a.cfg.Sites {
		hosts = append(hosts, s.Hosts...)
	}
	for _, f := range a.feeds {
		if u, err := url.Parse(f.URL()); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	if *pageURL != "" {
		u, err := url.Parse(*pageURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return usageError{fmt.Errorf("doctor: --url %q is not an http(s) URL", *pageURL)}
		}
		hosts = append(hosts, u.Hostname())
	}
	fetcher, err := fetch.New(a.cfg.Fetch, hosts, a.root)
	if err != nil {
		return usageError{err}
	}
	d := &doctor{app: a, fetcher: fetcher}

	var rep doctorReport
	if *pageURL != "" {
		c := &feedCheck{}
		c.Story = d.story(ctx, feed.Item{URL: *pageURL}, c)
		rep.Feeds = append(rep.Feeds, c)
	} else {
		for _, f := range feeds {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.Feeds = append(rep.Feeds, d.feed(ctx, f))
		}
	}
	broken := 0
	for _, c := range rep.Feeds {
		broken += len(c.Problems)
	}
	rep.OK = broken == 0
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(m.Stdout, &rep)
	}
	if broken > 0 {
		return hintError{fmt.Errorf("doctor: %d problem(s) found (see the report)", broken), `README.md, "When the site changes", says what to do for each`}
	}
	return nil
}

// doctor checks feeds and story pages with the configured fetcher and
// rules.
type doctor struct {
	*app
	fetcher *fetch.Client
}

// feed polls f once, unconditionally, and checks its newest story. The
// feed's URLs are tried in order, as a poll tries them: the first whose
// first page lists items answers, and the URLs after it are not asked.
func (d *doctor) feed(ctx context.Context, f *feed.Feed) *feedCheck {
	c := &feedCheck{Name: f.Name(), Type: f.Type(), URL: f.PageURLs(f.URL())[0]}
	key := d.feedKey(f.Name())
	var items []feed.Item
	for i, u := range f.URLs() {
		uc := urlCheck{URL: f.PageURLs(u)[0]}
		its, status, location, err := d.readFeedURL(ctx, f, uc.URL)
		uc.Status, uc.Location, uc.Items = status, location, len(its)
		if err != nil {
			uc.Error, uc.err = err.Error(), err
		}
		c.URLs = append(c.URLs, uc)
		if err == nil && len(its) > 0 {
			items, c.URL, c.Status, c.Error = its, uc.URL, status, ""
			if i > 0 {
				c.Notes = append(c.Notes, fmt.Sprintf("answered by URL %d of %d (%s), the URLs before it did not: if they are gone for good, take them out of %s.urls", i+1, len(f.URLs()), uc.URL, key))
			}
			if location != "" {
				c.Notes = append(c.Notes, fmt.Sprintf("%s redirects to %s: put the new address in %s.urls", uc.URL, location, key))
			}
			break
		}
		if i == 0 {
			c.Status, c.Error = status, uc.Error
		}
	}
	if items == nil {
		first := c.URLs[0]
		if first.Error != "" && first.Items == 0 && (first.Status == 0 || first.Status >= 300) {
			c.problem("feed unreachable: "+first.short()+d.otherURLs(c),
				"open "+first.URL+" in a browser; if the site moved the feed, fix "+key+".urls (or remove the feed)")
			return c
		}
		if first.Error != "" {
			fix := key + ".type: the document is not a " + f.Type() + " any more"
			if f.Type() == feed.TypeListing {
				fix = key + ".links: no selector finds story links on the page any more"
			}
			c.problem("feed unreadable: "+first.Error+d.otherURLs(c), fix)
			return c
		}
	}
	c.Items = len(items)
	items, c.OutOfScope = d.inScope(f, items)
	c.InScope = len(items)
	switch {
	case c.Items == 0:
		fix := "open " + c.URL + " in a browser: if the site renamed or moved the section, fix " + key + ".urls"
		if f.Type() == feed.TypeListing {
			fix = key + ".links: no selector matches the listing's story links any more"
		}
		c.problem("feed lists no items", fix)
		return c
	case c.InScope == 0:
		c.problem(fmt.Sprintf("none of the feed's %d items is on a host and port the site rules allow (%s)", c.Items, c.OutOfScope),
			"add the host the stories moved to to the site's hosts (sites[].hosts), or fix "+key+".site")
		return c
	}
	c.Story = d.story(ctx, newest(items), c)
	return c
}

// story fetches and diagnoses one story page, noting its problems on c.
func (d *doctor) story(ctx context.Context, it feed.Item, c *feedCheck) *storyCheck {
	pageURL := it.URL
	s := &storyCheck{URL: pageURL}
	resp, err := d.fetcher.Get(ctx, pageURL, fetch.Conditional{})
	if err != nil {
		s.Status, s.Error = statusOf(err), err.Error()
		fix := "open the page in a browser; a 403 or 429 may ask for another fetch.user_agent or a longer fetch.delay"
		switch {
		case errors.Is(err, fetch.ErrRobots):
			fix = "the site's robots.txt now disallows story pages: newsmd will not fetch them (fetch.robots_txt)"
		case errors.Is(err, fetch.ErrForbiddenHost):
			fix = "the page redirects to a host no site rule names: add it to sites[].hosts"
		case statusOf(err) == 404 || statusOf(err) == 410:
			fix = "the feed links a page that is gone: if every story link is, the site changed its URLs; check the feed's links"
		}
		c.problem("story page fetch failed: "+shortError(err), fix)
		return s
	}
	s.URL, s.Status, s.Bytes = resp.URL, resp.Status, len(resp.Body)
	// The dates a run falls back on for a page that prints none.
	hints := site.Hints{FeedDate: it.Published, Fetched: time.Now()}
	if lm, err := http.ParseTime(resp.LastModified); err == nil {
		hints.LastModified = lm
	}
	dg := site.DiagnoseWith(resp.Body, resp.URL, d.sites, hints)
	s.Diagnosis = &dg
	if dg.Err != nil {
		s.Error = dg.Err.Error()
	}
	siteKey := d.siteKey(dg.Site)
	yields := slices.ContainsFunc(dg.Layouts, func(l site.LayoutCheck) bool { return l.Yields })
	// What became of the story when no layout gave it.
	outcome := "the generic extractor was used"
	if dg.Err != nil {
		outcome = "no article was found, not even by the generic extractor"
	}
	layoutProblems := 0
	for i, l := range dg.Layouts {
		if !l.Tried || !l.Applies || l.Yields {
			continue
		}
		var keys []string
		for _, f := range l.Lacks {
			keys = append(keys, fmt.Sprintf("%s.layouts[%d].%s", siteKey, i, f))
		}
		if len(keys) == 0 {
			keys = append(keys, fmt.Sprintf("%s.layouts[%d]", siteKey, i))
		}
		what := fmt.Sprintf("layout %s/%s matches the story page but gives no article: %s", dg.Site, l.Name, l.Why)
		if !yields {
			what += "; " + outcome
		}
		c.problem(what, "fix the sources of "+strings.Join(keys, ", ")+" (the layout's fields above show which still work)")
		layoutProblems++
	}
	switch {
	case layoutProblems > 0 || yields:
	case dg.Site == "" && dg.Err != nil:
		c.problem("no article found on the story page: no site rules for its host, and the generic extractor found none",
			"add a site with a layout for this host under sites")
	case dg.Site != "" && len(dg.Layouts) == 0 && dg.Err != nil:
		// A site named without layouts: the generic extractor is its rule.
		c.problem("no article found on the story page: site "+dg.Site+" has no layouts, and the generic extractor found none",
			"add a layout for this page under "+siteKey+".layouts")
	case dg.Site != "" && len(dg.Layouts) == 0:
	case dg.Site != "":
		c.problem("no "+dg.Site+" layout matched the story page; "+outcome,
			"the layouts above say why each does not apply: fix the `when` selector or `hydration` of the one meant for this page under "+siteKey+".layouts, or add a layout")
	}
	return s
}

func (c *feedCheck) problem(what, fix string) {
	c.Problems = append(c.Problems, problem{What: what, Fix: fix})
}

// inScope keeps the items once would fetch: on a host and port a site
// rule allows, or, for sites without rules, on the feed's own. first is
// the first item dropped.
func (d *doctor) inScope(f *feed.Feed, items []feed.Item) (kept []feed.Item, first string) {
	for _, it := range items {
		_, err := site.InScope(d.sites, it.URL, f.URLs())
		switch {
		case err == nil:
			kept = append(kept, it)
		case first == "":
			first = it.URL
		}
	}
	return kept, first
}

// newest is the item published last; the first listed when some item
// has no time (listings list the newest first).
func newest(items []feed.Item) feed.Item {
	best := items[0]
	for _, it := range items {
		if it.Published.IsZero() {
			return items[0]
		}
		if it.Published.After(best.Published) {
			best = it
		}
	}
	return best
}

// feedKey and siteKey are the config paths of a feed and a site.
func (d *doctor) feedKey(name string) string {
	i := slices.IndexFunc(d.cfg.Feeds, func(f config.Feed) bool { return f.Name == name })
	return fmt.Sprintf("feeds[%d]", i)
}

func (d *doctor) siteKey(name string) string {
	i := slices.IndexFunc(d.cfg.Sites, func(s config.Site) bool { return s.Name == name })
	if name == "" || i < 0 {
		return ""
	}
	return fmt.Sprintf("sites[%d]", i)
}

func statusOf(err error) int {
	if he, ok := errors.AsType[*fetch.HTTPError](err); ok {
		return he.Status
	}
	return 0
}

// shortError is an HTTP error as its status alone ("HTTP 404 Not
// Found"), the report naming the URL already; other errors whole.
func shortError(err error) string {
	if he, ok := errors.AsType[*fetch.HTTPError](err); ok {
		s := he.Error()
		return s[strings.Index(s, "HTTP "):]
	}
	return err.Error()
}
