package feed

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/mmcdole/gofeed"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"github.com/newsmd/newsmd/internal/config"
	"golang.org/x/net/html"
)

// Feed types, the values of config.Feed.Type.
const (
	// TypeRSS is an RSS, Atom or JSON Feed document.
	TypeRSS = "rss"
	// TypeListing is an HTML section page whose story links are found
	// with config.Feed.Links; a JSON answer is read as TypeJSONListing.
	TypeListing = "listing"
	// TypeJSONListing is the zaobao JSON listing endpoint,
	// {"response":{"articles":[{"title","href","timestamp"}]}}.
	TypeJSONListing = "json_listing"
)

// Defaults of config.Feed fields left empty.
const (
	defaultTimezone = "Asia/Singapore"
	defaultInterval = 10 * time.Minute
	minInterval     = time.Minute
	// maxPages bounds config.Feed.Pages: each page is a request every
	// poll.
	maxPages = 10
)

// PagePlaceholder in a listing URL is replaced by the page's number.
const PagePlaceholder = "{page}"

// Item is one story announced by a feed or a listing page.
type Item struct {
	// URL is the story's absolute http(s) URL, as the source gives it
	// (resolved against the source's URL); the store canonicalises it.
	URL string
	// Title is the announced headline as plain text on one line; it may be
	// empty, the article page has the authoritative one.
	Title string
	// Published is the announced publication time, zero when the source
	// gives none or none that can be read.
	Published time.Time
	// GUID is the feed's own identifier of the item (RSS guid, Atom id,
	// JSON Feed id), empty when it has none.
	GUID string
	// ContentHTML is the item's HTML when the feed carries a body
	// (RSSHub puts the whole story in <description>), kept as the fallback
	// body if the article page cannot be fetched. Empty otherwise.
	ContentHTML string
	// Source is the URL of the feed or listing page that announced the item.
	Source string
}

// Feed is a compiled config.Feed.
type Feed struct {
	cfg config.Feed
	// urls are the feed's URLs in the order they are tried, as written
	// (normalised when they have no PagePlaceholder).
	urls     []string
	pages    int
	loc      *time.Location
	interval time.Duration
	links    []cascadia.Selector
}

// Name is the feed's configured name.
func (f *Feed) Name() string { return f.cfg.Name }

// Type is the feed's type, one of the FeedType constants.
func (f *Feed) Type() string { return f.cfg.Type }

// URL is the feed's first URL, the one that names its state in the store.
func (f *Feed) URL() string { return f.urls[0] }

// URLs are the feed's URLs in the order a poll tries them: the first
// that answers with items wins. A listing URL may hold PagePlaceholder;
// PageURLs gives the addresses of its pages.
func (f *Feed) URLs() []string { return f.urls }

// Pages is how many pages of a listing a poll reads (1 for RSS feeds).
func (f *Feed) Pages() int { return f.pages }

// PageURLs are the addresses of the pages of u (one of URLs), first page
// first, Pages of them. Listing pages are numbered from 0, as zaobao's
// are (page=0 is the first page, page=1 the second): PagePlaceholder is
// replaced by the page's number. A URL without it is the first page as
// written, and the later pages count its query parameter page on from
// there (from 0 when it has none): ?page=1 is followed by ?page=2.
func (f *Feed) PageURLs(u string) []string {
	out := make([]string, 0, f.pages)
	for i := range f.pages {
		out = append(out, pageURL(u, i))
	}
	return out
}

func pageURL(u string, page int) string {
	if strings.Contains(u, PagePlaceholder) {
		return strings.ReplaceAll(u, PagePlaceholder, strconv.Itoa(page))
	}
	if page == 0 {
		return u
	}
	p, err := url.Parse(u)
	if err != nil {
		return u // Compile checked every URL
	}
	q := p.Query()
	first, _ := strconv.Atoi(q.Get("page")) // Compile checked it is a number
	q.Set("page", strconv.Itoa(first+page))
	p.RawQuery = q.Encode()
	return p.String()
}

// Merge joins the items of a listing's pages, in page order, keeping the
// first item of each URL (a story moving down the list while the pages
// are read shows up twice). A later copy fills a title or time the first
// lacks. One page is returned as it is, so that a listing of 100,000
// items is not copied (a listing's items are already without duplicates;
// the runner drops a feed's duplicate stories anyway).
func Merge(pages ...[]Item) []Item {
	if len(pages) == 1 {
		return pages[0]
	}
	var out []Item
	index := map[string]int{}
	for _, items := range pages {
		for _, it := range items {
			i, seen := index[it.URL]
			if !seen {
				index[it.URL] = len(out)
				out = append(out, it)
				continue
			}
			if out[i].Title == "" {
				out[i].Title = it.Title
			}
			if out[i].Published.IsZero() {
				out[i].Published = it.Published
			}
		}
	}
	return out
}

// Location is the zone of the feed's times that carry no usable zone.
func (f *Feed) Location() *time.Location { return f.loc }

// Interval is the time between polls.
func (f *Feed) Interval() time.Duration { return f.interval }

// IsListing reports whether the feed is a listing page (HTML or JSON),
// not an RSS, Atom or JSON Feed document.
func (f *Feed) IsListing() bool { return f.cfg.Type == TypeListing || f.cfg.Type == TypeJSONListing }

// Items reads the items of body, the feed's document as fetched from
// pageURL (after redirects): Parse for a feed document, ParseListing for
// a listing. skipped counts feed items without a usable link.
func (f *Feed) Items(body []byte, pageURL string) (items []Item, skipped int, err error) {
	if f.IsListing() {
		items, err = ParseListing(body, pageURL, f)
		return items, 0, err
	}
	return Parse(body, pageURL, f.loc)
}

// Site is the name of the site rules for the feed's articles, or "".
func (f *Feed) Site() string { return f.cfg.Site }

// ErrBadFeed says a feed body is not a well-formed RSS, Atom or JSON Feed
// document: an HTML error page, a truncated download, an empty body.
var ErrBadFeed = errors.New("not a well-formed RSS, Atom or JSON feed")

// Parse reads the items of an RSS, Atom or JSON Feed document fetched
// from feedURL. It is pure: no network, no clock.
//
// Items without a usable link (none, or not http(s) once resolved against
// the feed's site link, else feedURL) cannot be fetched or deduplicated:
// they are left out and counted in skipped, for the caller to log. A feed
// with no items is not an error; a body that is not a complete feed is,
// wrapping ErrBadFeed, so a truncated download never passes for a short
// feed.
//
// Times are read from the item's own date text rather than taken from
// gofeed, which reads times without a zone as UTC and CST as US Central:
// see parseTime. A nil loc means UTC.
func Parse(body []byte, feedURL string, loc *time.Location) (items []Item, skipped int, err error) {
	base, ok := httpurl.Parse(strings.TrimSpace(feedURL))
	if !ok {
		return nil, 0, fmt.Errorf("parse feed %q: %w", feedURL, httpurl.ErrBadURL)
	}
	if loc == nil {
		loc = time.UTC
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, 0, fmt.Errorf("parse feed %s: %w: empty body", base, ErrBadFeed)
	}
	parser := gofeed.NewParser()
	// We do not use item images; gofeed's scan for one parses every
	// item's HTML and doubles the cost of an RSSHub feed.
	parser.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	parsed, err := parser.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("parse feed %s: %w: %w", base, ErrBadFeed, err)
	}
	if parsed.FeedType == "json" && !strings.HasPrefix(parsed.FeedVersion, "https://jsonfeed.org/version/") {
		// gofeed takes any JSON object for an empty feed; an API error
		// ({"error": …}) must not pass for a feed with no news.
		return nil, 0, fmt.Errorf("parse feed %s: %w: JSON without a JSON Feed version", base, ErrBadFeed)
	}
	source := base.String()
	// Relative item links are relative to the site the feed describes (its
	// channel link, Atom alternate link or JSON Feed home page) rather than
	// to the feed: RSSHub serves zaobao's stories from rsshub.app.
	site := base
	if s := converter.ResolveURL(base, parsed.Link); s != "" {
		site, _ = url.Parse(s)
	}
	for _, it := range parsed.Items {
		if it == nil {
			continue
		}
		link := itemLink(site, it)
		if link == "" {
			skipped++
			continue
		}
		items = append(items, Item{
			URL:         link,
			Title:       plainText(it.Title),
			Published:   itemTime(it, loc),
			GUID:        strings.ToValidUTF8(strings.TrimSpace(it.GUID), ""),
			ContentHTML: itemHTML(it),
			Source:      source,
		})
	}
	return items, skipped, nil
}

// itemLink is the item's story URL: its link, else its other links,
// else its GUID when that is already an absolute http(s) URL (RSS guids are
// permalinks unless marked otherwise).
func itemLink(base *url.URL, it *gofeed.Item) string {
	for _, l := range append([]string{it.Link}, it.Links...) {
		if u := converter.ResolveURL(base, l); u != "" {
			return u
		}
	}
	if g := strings.TrimSpace(it.GUID); strings.HasPrefix(g, "http://") || strings.HasPrefix(g, "https://") {
		return converter.ResolveURL(base, g)
	}
	return ""
}

// itemTime is the item's publication time, else its update time, read
// by parseTime; zero when neither can be read.
func itemTime(it *gofeed.Item, loc *time.Location) time.Time {
	for _, raw := range []struct {
		text   string
		parsed *time.Time
	}{{it.Published, it.PublishedParsed}, {it.Updated, it.UpdatedParsed}} {
		if strings.TrimSpace(raw.text) == "" {
			continue
		}
		if t, err := timeparse.Parse(raw.text, loc); err == nil {
			return t
		}
		if raw.parsed != nil && !raw.parsed.IsZero() {
			// A format we do not know but gofeed does: trust its instant
			// only when the text carries an explicit offset or UTC.
			if explicitZone.MatchString(raw.text) {
				return *raw.parsed
			}
			p := *raw.parsed
			return time.Date(p.Year(), p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second(), p.Nanosecond(), loc)
		}
	}
	return time.Time{}
}

// explicitZone matches a numeric offset or a UTC name in a time text.
var explicitZone = regexp.MustCompile(`(?i)(\d[Zz]$|[+-]\d{2}:?\d{2}\s*$|\b(GMT|UTC|UT)\b)`)

// itemHTML is the item's body, content:encoded (or Atom content, JSON
// content_html) first, else the description, when it is HTML with text.
// Plain-text descriptions are summaries, not bodies.
func itemHTML(it *gofeed.Item) string {
	for _, s := range []string{it.Content, it.Description} {
		if hasHTMLText(s) {
			return strings.ToValidUTF8(strings.TrimSpace(s), "")
		}
	}
	return ""
}

// hasHTMLText reports whether s has at least one HTML element and some
// text outside scripts and styles.
func hasHTMLText(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(s))
	tags, text, skip := false, false, ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tags && text
		case html.StartTagToken, html.SelfClosingTagToken:
			tags = true
			if name, _ := z.TagName(); string(name) == "script" || string(name) == "style" {
				skip = string(name)
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == skip {
				skip = ""
			}
		case html.TextToken:
			if skip == "" && converter.CleanText(html.UnescapeString(string(z.Text()))) != "" {
				text = true
			}
		}
		if tags && text {
			return true
		}
	}
}

// plainText turns a title into one line of plain text. Atom titles of
// type html, and many RSS titles, carry tags and entities.
func plainText(s string) string {
	if strings.ContainsAny(s, "<&") {
		var b strings.Builder
		z := html.NewTokenizer(strings.NewReader(s))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			switch tt {
			case html.TextToken:
				b.Write(z.Text())
			case html.StartTagToken, html.SelfClosingTagToken:
				// Inline tags (<b>, <em>) join their text; a line break
				// separates words.
				if name, _ := z.TagName(); string(name) == "br" {
					b.WriteByte(' ')
				}
			}
		}
		s = b.String()
	}
	return converter.CleanText(s)
}

// ttlPattern finds an RSS channel's <ttl> (minutes); gofeed's
// universal feed does not carry it.
var ttlPattern = regexp.MustCompile(`(?is)<channel\b.*?<ttl>\s*(\d{1,6})\s*</ttl>`)

// TTL is how long an RSS feed says it may be cached (<ttl>), or 0.
func TTL(body []byte) time.Duration {
	m := ttlPattern.FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Minute
}
