package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"golang.org/x/net/html"
)

// ErrNoStoryLinks says a listing page yielded no story: its link selectors
// matched nothing, or the JSON listing lost its shape. The site has most
// likely changed its layout and the feed's config needs new selectors.
var ErrNoStoryLinks = errors.New("no story links found")

// ParseListing reads the stories of a listing page fetched from pageURL
// (the feed's URL, or one of its later pages), for a feed of type
// "listing" or "json_listing". Items come in page order without duplicate
// URLs; an HTML listing's items have no publication time.
//
// A feed of type "listing" reads a JSON body (one that starts with "{")
// as the zaobao JSON listing, so that one feed can list both the JSON
// endpoint and the HTML section page among its URLs.
//
// A page where nothing matches is an error wrapping ErrNoStoryLinks, not an
// empty success: listings always list something, so an empty one means the
// layout changed. A JSON listing whose articles array is present but empty
// (a page past the last) gives no items and no error.
func ParseListing(body []byte, pageURL string, f *Feed) ([]Item, error) {
	base, ok := httpurl.Parse(strings.TrimSpace(pageURL))
	if !ok {
		return nil, fmt.Errorf("parse listing %q: %w", pageURL, httpurl.ErrBadURL)
	}
	if f == nil {
		return nil, fmt.Errorf("parse listing %s: no feed config", base)
	}
	switch f.cfg.Type {
	case TypeListing:
		if looksJSON(body) {
			return listingJSON(body, base, f)
		}
		return listingHTML(body, base, f)
	case TypeJSONListing:
		return listingJSON(body, base, f)
	}
	return nil, fmt.Errorf("parse listing %s: feed %q has type %q, not a listing", base, f.cfg.Name, f.cfg.Type)
}

// looksJSON reports whether body is a JSON object: HTML never starts
// with "{".
func looksJSON(body []byte) bool {
	body = bytes.TrimLeft(bytes.TrimPrefix(body, utf8BOM), " \t\r\n")
	return len(body) > 0 && body[0] == '{'
}

var utf8BOM = []byte("\xef\xbb\xbf")

func listingHTML(body []byte, base *url.URL, f *Feed) ([]Item, error) {
	doc, err := html.Parse(bytes.NewReader(charset.Decoded(body)))
	if err != nil {
		return nil, fmt.Errorf("parse listing %s: parse HTML: %w", base, err)
	}
	matched := map[*html.Node]bool{}
	for _, sel := range f.links {
		for _, n := range sel.MatchAll(doc) {
			matched[n] = true
		}
	}
	if len(matched) == 0 {
		return nil, fmt.Errorf("parse listing %s: %w: the link selectors (%s) matched nothing; has the page layout changed?",
			base, ErrNoStoryLinks, strings.Join(f.cfg.Links, " | "))
	}
	var items []Item
	index := map[string]int{}
	source := base.String()
	// Walk the document rather than the selectors' results so that
	// several selectors give one list in page order.
	for n := range doc.Descendants() {
		if !matched[n] {
			continue
		}
		a := anchor(n)
		if a == nil {
			continue
		}
		link := converter.ResolveURL(base, attrOf(a, "href"))
		if link == "" {
			continue
		}
		title := anchorTitle(a)
		if i, seen := index[link]; seen {
			// A card often links its picture first, its headline second.
			if items[i].Title == "" {
				items[i].Title = title
			}
			continue
		}
		index[link] = len(items)
		items = append(items, Item{URL: link, Title: title, Source: source})
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("parse listing %s: %w: the link selectors matched %d elements without an http(s) link",
			base, ErrNoStoryLinks, len(matched))
	}
	return items, nil
}

// anchor is n when it is a link, else the first link inside it.
func anchor(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.Data == "a" && attrOf(n, "href") != "" {
		return n
	}
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == "a" && attrOf(d, "href") != "" {
			return d
		}
	}
	return nil
}

func attrOf(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val
		}
	}
	return ""
}

// anchorTitle is the link's text, else its title or aria-label, else the
// alt text of its image.
func anchorTitle(a *html.Node) string {
	var b strings.Builder
	alt := ""
	for d := range a.Descendants() {
		switch {
		case d.Type == html.TextNode && !inScript(d, a):
			b.WriteString(d.Data)
			b.WriteByte(' ')
		case d.Type == html.ElementNode && d.Data == "img" && alt == "":
			alt = attrOf(d, "alt")
		}
	}
	for _, s := range []string{b.String(), attrOf(a, "title"), attrOf(a, "aria-label"), alt} {
		if t := converter.CleanText(s); t != "" {
			return t
		}
	}
	return ""
}

func inScript(n, top *html.Node) bool {
	for p := n.Parent; p != nil && p != top; p = p.Parent {
		if p.Type == html.ElementNode && (p.Data == "script" || p.Data == "style" || p.Data == "template") {
			return true
		}
	}
	return false
}

// jsonListing is the zaobao JSON listing,
// /_plat/api/v2/page-content/realtime/<section>?page=N.
type jsonListing struct {
	Response *struct {
		Articles *[]struct {
			Title     string          `json:"title"`
			Href      string          `json:"href"`
			Timestamp json.RawMessage `json:"timestamp"`
		} `json:"articles"`
	} `json:"response"`
}

func listingJSON(body []byte, base *url.URL, f *Feed) ([]Item, error) {
	var r jsonListing
	if err := json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &r); err != nil {
		return nil, fmt.Errorf("parse listing %s: %w: not JSON: %w", base, ErrNoStoryLinks, err)
	}
	if r.Response == nil || r.Response.Articles == nil {
		return nil, fmt.Errorf("parse listing %s: %w: no response.articles in the JSON", base, ErrNoStoryLinks)
	}
	articles := *r.Response.Articles
	var items []Item
	seen := map[string]bool{}
	source := base.String()
	for _, a := range articles {
		link := converter.ResolveURL(base, a.Href)
		if link == "" || seen[link] {
			continue
		}
		seen[link] = true
		items = append(items, Item{
			URL:       link,
			Title:     converter.CleanText(a.Title),
			Published: timestamp(a.Timestamp, f.loc),
			Source:    source,
		})
	}
	if len(items) == 0 && len(articles) > 0 {
		return nil, fmt.Errorf("parse listing %s: %w: %d articles without an http(s) href", base, ErrNoStoryLinks, len(articles))
	}
	return items, nil
}

// timestamp reads Unix seconds (or milliseconds), as a number or a
// string; zero when absent or unreadable.
func timestamp(raw json.RawMessage, loc *time.Location) time.Time {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return time.Time{}
	}
	if strings.ContainsAny(s, ".eE") {
		// A float: whole seconds are what the endpoint means.
		var v float64
		if json.Unmarshal([]byte(s), &v) != nil || v < 0 || v > 1e14 {
			return time.Time{}
		}
		s = fmt.Sprintf("%.0f", v)
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := timeparse.Parse(s, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}
