package site

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Hints are what the crawler knows of a page besides its bytes, the
// generic extractor's last resorts for a page that prints no date: the
// feed item's date, the HTTP Last-Modified header and the fetch time. Zero
// values are unknown. Extract stays pure: the caller reads the clock.
type Hints struct {
	FeedDate     time.Time
	LastModified time.Time
	Fetched      time.Time
}

// The sources of a date, as converter.Article.DateSource names them.
const (
	dateLDJSON       = "ldjson"
	dateMicrodata    = "microdata"
	dateMeta         = "meta"
	dateTime         = "time"
	dateURL          = "url"
	dateText         = "text"
	dateFeed         = "feed"
	dateLastModified = "last-modified"
	dateFetched      = "fetched"
)

// pageDate is the publication date the page itself gives, and where it
// was found: structured data (JSON-LD of any @type, microdata, meta tags),
// a <time datetime>, the URL, then a date printed near the title. It must
// run before Readability changes the tree. A date after fetched (when
// known) by more than a day is a misreading and is passed over.
func pageDate(p *page, u *url.URL, loc *time.Location, fetched time.Time) (time.Time, string) {
	sane := func(t time.Time) bool {
		return !t.IsZero() && t.Year() >= 1990 && (fetched.IsZero() || t.Before(fetched.Add(36*time.Hour)))
	}
	parse := func(vals []string) (time.Time, bool) {
		for _, v := range vals {
			if t, err := timeparse.Parse(v, loc); err == nil && sane(t) {
				return t, true
			}
		}
		return time.Time{}, false
	}
	if t, ok := parse(ldjsonDates(p)); ok {
		return t, dateLDJSON
	}
	if t, ok := parse(microdataDates(p.doc.Nodes[0])); ok {
		return t, dateMicrodata
	}
	metas := p.metas()
	for _, name := range dateMetas {
		if t, ok := parse(metas[name]); ok {
			return t, dateMeta
		}
	}
	if t, ok := parse(timeDatetimes(p.doc.Nodes[0])); ok {
		return t, dateTime
	}
	if t, ok := urlDate(u, loc); ok && sane(t) {
		return t, dateURL
	}
	if t, ok := textDate(p, loc); ok && sane(t) {
		return t, dateText
	}
	return time.Time{}, ""
}

// hintDate is the latest resort: the feed item's date, the
// Last-Modified header, the fetch time.
func hintDate(h Hints) (time.Time, string) {
	switch {
	case !h.FeedDate.IsZero():
		return h.FeedDate, dateFeed
	case !h.LastModified.IsZero():
		return h.LastModified, dateLastModified
	case !h.Fetched.IsZero():
		return h.Fetched, dateFetched
	}
	return time.Time{}, ""
}

// dateMetas are the <meta> names and properties of a publication date,
// lowercased, most specific first: Open Graph and article:*, Dublin Core,
// and those of common publishing systems.
var dateMetas = []string{
	"article:published_time", "og:article:published_time", "og:published_time", "published_time",
	"article:published", "datepublished", "dc.date.issued", "dcterms.issued", "dc.date.created",
	"dcterms.created", "dc.date", "dcterms.date", "dc.date.published", "pubdate", "publishdate",
	"publish-date", "publish_date", "publication_date", "sailthru.date", "parsely-pub-date",
	"article.published", "date", "created", "citation_publication_date",
}

// ldjsonDates are the datePublished (then dateCreated) values of every
// ld+json block of the page, whatever the object's @type, inside arrays
// and @graph, nearest the top first. Blocks that are not valid JSON are
// repaired as far as is safe: raw control characters in strings,
// trailing commas.
func ldjsonDates(p *page) []string {
	var out []string
	for _, n := range p.scripts {
		if !isLDJSON(n) {
			continue
		}
		code := nodeText(n)
		if !strings.Contains(code, "datePublished") && !strings.Contains(code, "dateCreated") {
			continue
		}
		var v any
		if err := decodeLenient(code, &v); err != nil {
			if err := decodeLenient(withoutTrailingCommas(code), &v); err != nil {
				continue
			}
		}
		for _, key := range []string{"datePublished", "dateCreated"} {
			out = append(out, valuesOfKey(v, key)...)
		}
	}
	return out
}

// valuesOfKey are the strings under key in every object of v, breadth
// first, the keys of each object in sorted order so that the result does
// not depend on map order.
func valuesOfKey(v any, key string) []string {
	var out []string
	level := []any{v}
	for depth := 0; len(level) > 0 && depth < 32; depth++ {
		var next []any
		for _, cur := range level {
			switch t := cur.(type) {
			case []any:
				next = append(next, t...)
			case map[string]any:
				if s, ok := t[key].(string); ok {
					out = append(out, s)
				}
				keys := make([]string, 0, len(t))
				for k := range t {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					switch t[k].(type) {
					case []any, map[string]any:
						next = append(next, t[k])
					}
				}
			}
		}
		level = next
	}
	return out
}

// withoutTrailingCommas drops the commas before a closing brace or
// bracket outside strings, which JavaScript allows and JSON does not.
func withoutTrailingCommas(s string) string {
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ',':
			j := i + 1
			for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
				j++
			}
			if j < len(s) && (s[j] == '}' || s[j] == ']') {
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// microdataDates are the values of the elements whose itemprop names
// datePublished: a <meta content>, a <time datetime>, else the element's
// content or datetime attribute or its text.
func microdataDates(root *html.Node) []string {
	var out []string
	walkElements(root, func(n *html.Node) bool {
		if !slices.Contains(strings.Fields(attr(n, "itemprop")), "datePublished") {
			return true
		}
		switch {
		case hasAttr(n, "content"):
			out = append(out, attr(n, "content"))
		case hasAttr(n, "datetime"):
			out = append(out, attr(n, "datetime"))
		default:
			out = append(out, nodeText(n))
		}
		return true
	})
	return out
}

// timeDatetimes are the datetime attributes of the page's <time>
// elements, those marked pubdate or inside the page's <article> or
// <header> first.
func timeDatetimes(root *html.Node) []string {
	var marked, other []string
	walkElements(root, func(n *html.Node) bool {
		if n.DataAtom != atom.Time || !hasAttr(n, "datetime") {
			return true
		}
		if hasAttr(n, "pubdate") || hasAncestor(n, atom.Article, atom.Header) {
			marked = append(marked, attr(n, "datetime"))
		} else {
			other = append(other, attr(n, "datetime"))
		}
		return true
	})
	return append(marked, other...)
}

// URL dates: /2024/03/01/, /2024-03-01/, and 20240301 in a path segment.
var (
	urlSlashDate   = regexp.MustCompile(`/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$|[^\d])`)
	urlDashDate    = regexp.MustCompile(`(?:^|[/_.-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?:$|[^\d])`)
	urlCompactDate = regexp.MustCompile(`(?:^|[^\d])((?:19|20)\d{2})(\d{2})(\d{2})(?:$|[^\d])`)
)

// urlDate is the date a story's URL path holds, midnight in loc.
func urlDate(u *url.URL, loc *time.Location) (time.Time, bool) {
	for _, re := range []*regexp.Regexp{urlSlashDate, urlDashDate, urlCompactDate} {
		m := re.FindStringSubmatch(u.Path)
		if m == nil {
			continue
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			continue
		}
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
		if t.Day() != d {
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

// Around the title: how much text after the start of the first <h1>,
// and before it, textDate reads.
const (
	textAfterTitle  = 1500
	textBeforeTitle = 400
)

// textDate is a date printed near the title: in the text after the start
// of the page's headline, then just before it (a dateline above the
// headline). The headline is the first <h1> whose text the page's <title>
// or og:title holds (sites make their logo or a hidden site name an <h1>
// too), else the first <h1>. Pages without an <h1> give none: elsewhere a
// date is as likely a sidebar's or the site's "today" as the story's.
func textDate(p *page, loc *time.Location) (time.Time, bool) {
	titles := []string{converter.CleanText(firstMeta(p, "og:title"))}
	if n := p.doc.Find("title").First(); len(n.Nodes) > 0 {
		titles = append(titles, converter.CleanText(n.Text()))
	}
	var (
		b      strings.Builder
		starts []int // of each <h1>, in b
		start  = -1  // of the headline
	)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if start >= 0 && b.Len() > start+textAfterTitle {
			return
		}
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteByte(' ')
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head:
				return
			case atom.H1:
				starts = append(starts, b.Len())
				if start < 0 {
					if h := converter.CleanText(nodeText(n)); h != "" && slices.ContainsFunc(titles, func(t string) bool { return t != "" && (strings.Contains(t, h) || strings.Contains(h, t)) }) {
						start = b.Len()
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.doc.Nodes[0])
	if start < 0 && len(starts) > 0 {
		start = starts[0]
	}
	if start < 0 {
		return time.Time{}, false
	}
	text := b.String()
	after := cutValid(text[start:], textAfterTitle)
	if t, ok := timeparse.Find(after, loc); ok {
		return t, true
	}
	from := max(0, start-textBeforeTitle)
	for from < start && !utf8.RuneStart(text[from]) {
		from++
	}
	return timeparse.Find(text[from:start], loc)
}

// cutValid is s cut to at most n bytes, at a rune boundary.
func cutValid(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// walkElements calls f on every element under root in page order; f
// returns false to skip an element's children.
func walkElements(root *html.Node, f func(*html.Node) bool) {
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && !f(c) {
			continue
		}
		walkElements(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAncestor(n *html.Node, atoms ...atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && slices.Contains(atoms, p.DataAtom) {
			return true
		}
	}
	return false
}
