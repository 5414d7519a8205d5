package site

import (
	"bytes"
	"cmp"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"golang.org/x/net/html/atom"
)

// ExtractError says why no article could be taken from a page, and what
// was tried.
type ExtractError struct {
	URL   string
	Tried []string
	// Err is ErrMalformedPage when an attempt found the article's body but
	// could not parse it, else nil.
	Err error
}

func (e *ExtractError) Error() string {
	return fmt.Sprintf("extract %s: no article found (tried: %s)", e.URL, strings.Join(e.Tried, "; "))
}

func (e *ExtractError) Unwrap() error { return e.Err }

// ErrBadURL is returned for a page URL that is not absolute http(s).
var ErrBadURL = httpurl.ErrBadURL

// ErrMalformedPage is wrapped by the errors of Extract for a page, or a
// body inside it, that cannot be parsed: the HTML parser
// (golang.org/x/net/html) rejects elements nested more than 512 deep, and
// parseHTML rejects HTML too large or too deeply nested to work on in
// reasonable time. The same bytes will never parse, so a retry cannot
// help.
var ErrMalformedPage = errors.New("page cannot be parsed")

// noise is removed from every body, whatever the rules say.
var noise = cascadia.MustCompile("script, style, template, button, form, input, select, textarea, svg, link, meta, object, canvas, dialog")

// Extract takes the article out of page, fetched from pageURL. It uses the
// layouts of the site pageURL belongs to, in order, then the generic
// extractor. It is pure: no network, no clock.
func Extract(page []byte, pageURL string, sites []*Site) (converter.Article, error) {
	u, ok := httpurl.Parse(strings.TrimSpace(pageURL))
	if !ok {
		return converter.Article{}, fmt.Errorf("extract %q: %w", pageURL, ErrBadURL)
	}
	page = charset.Decoded(page)
	doc, err := parseHTML(page)
	if err != nil {
		return converter.Article{}, fmt.Errorf("extract %s: %w", u, err)
	}
	ee := &ExtractError{URL: u.String()}
	failed := func(name string, err error) {
		ee.Tried = append(ee.Tried, name+": "+err.Error())
		if errors.Is(err, ErrMalformedPage) {
			ee.Err = ErrMalformedPage
		}
	}
	site := Find(sites, u)
	if site != nil {
		for _, l := range site.layouts {
			a, err := site.extractLayout(page, doc, u, l)
			if err == nil {
				return a, nil
			}
			failed(site.cfg.Name+"/"+l.cfg.Name, err)
		}
	}
	a, err := fromGeneric(page, u, doc, site)
	if err != nil {
		failed("generic", err)
		return converter.Article{}, ee
	}
	if site != nil {
		// The site's rules no longer match its pages: say so, so the rule
		// gets fixed before the generic output quietly degrades the archive.
		a.Extractor = "generic (no " + site.cfg.Name + " layout matched)"
	}
	return a, nil
}

func (s *Site) extractLayout(raw []byte, doc *goquery.Document, u *url.URL, l layout) (converter.Article, error) {
	if l.hydration != nil && !bytes.Contains(raw, []byte(l.hydration.Variable)) {
		// Far cheaper than any selector on the tree.
		return converter.Article{}, fmt.Errorf("no script assigns %s", l.hydration.Variable)
	}
	if l.when != nil && l.when.MatchFirst(doc.Nodes[0]) == nil {
		return converter.Article{}, fmt.Errorf("page does not match %q", l.cfg.When)
	}
	p := &page{doc: doc}
	if l.hydration != nil {
		h, err := findHydration(doc, l.hydration)
		if err != nil {
			return converter.Article{}, err
		}
		p.hydration = h
	}
	names := p.siteNames(s)
	first := func(field string) string {
		for _, src := range l.fields[field] {
			if v := p.first(src); v != "" {
				return v
			}
		}
		return ""
	}
	a := converter.Article{
		Site:      s.cfg.Title,
		Extractor: s.cfg.Name + "/" + l.cfg.Name,
	}
	a.Title = p.firstHeadline(l.fields["title"], names)
	if a.Title == "" {
		return a, errNoTitle
	}
	a.URL = s.canonicalURL(u, converter.CleanText(firstMeta(p, "og:url")))
	a.StoryID = s.match(s.storyID, a.URL)
	// The path is unescaped: %1B would be an ESC.
	a.Section = cmp.Or(converter.CleanText(s.match(s.section, a.URL)), first("section"))
	for _, src := range l.fields["published"] {
		for _, v := range p.values(src, false, false) {
			if t, err := timeparse.Parse(v, s.loc); err == nil {
				a.Published = t
				break
			}
		}
		if !a.Published.IsZero() {
			break
		}
	}
	if a.Published.IsZero() {
		return a, fmt.Errorf("no publication time")
	}
	for _, src := range l.fields["modified"] {
		for _, v := range p.values(src, false, false) {
			if t, err := timeparse.Parse(v, s.loc); err == nil && !t.Before(a.Published) {
				a.Modified = t
				break
			}
		}
		if !a.Modified.IsZero() {
			break
		}
	}
	if author := first("author"); author != s.cfg.Title {
		a.Author = author
	}
	for _, src := range l.fields["keywords"] {
		a.Keywords = splitKeywords(p.values(src, false, true))
		if len(a.Keywords) > 0 {
			break
		}
	}
	a.Image.URL = converter.ResolveURL(u, first("image"))
	if a.Image.URL != "" {
		a.Image.Caption = first("image_caption")
	}
	var lastErr error = errors.New("no body source matched")
	for _, src := range l.fields["body"] {
		bodies, err := p.bodies(src)
		if err != nil {
			lastErr = err
			continue
		}
		for _, body := range bodies {
			truncated, err := s.cleanBody(body, l)
			if err != nil {
				lastErr = err
				continue
			}
			prependGallery(body, doc, l, u)
			a.Body, a.Truncated = body, truncated
			if a.Image.URL != "" && a.Image.Caption == "" {
				a.Image.Caption = s.captionInBody(body, u, a.Image.URL)
			}
			return a, nil
		}
	}
	return a, lastErr
}

// errNoTitle is the error of an attempt that found no headline.
var errNoTitle = errors.New("no title")

// firstHeadline returns the first headline that srcs give on p.
func (p *page) firstHeadline(srcs []source, siteNames []string) string {
	for _, src := range srcs {
		for _, v := range p.values(src, false, false) {
			if h := headline(v, siteNames); h != "" {
				return h
			}
		}
	}
	return ""
}

// siteNames are the site's title when it has rules, and the names the
// page gives its site (og:site_name, application-name).
func (p *page) siteNames(s *Site) []string {
	var names []string
	if s != nil {
		names = append(names, s.cfg.Title)
	}
	for _, key := range []string{"og:site_name", "application-name"} {
		names = append(names, p.metas()[key]...)
	}
	return names
}

// titleSeparators part a headline from the site's name in a <title> or an
// og:title: "标题 | 联合早报", "标题 - 联合早报".
const titleSeparators = "|｜-–—:：·•_/»«"

func isTitleSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(titleSeparators, r)
}

// headline cleans a title candidate with converter.CleanText and returns
// "" when it holds no headline. That is what a page whose headline is
// empty shows in its <title> or og:title: nothing visible (white space of
// any kind, zero-width characters), or only separators and the site's
// name ("| 联合早报", "- 联合早报", "联合早报 | 联合早报"), or a separator
// with nothing before it, then the site's name with a suffix ("| 联合早报网"
// for the site 联合早报). A headline that starts or ends with the site's
// name is kept whole ("联合早报社论：…", "读者来信 | 联合早报").
func headline(title string, siteNames []string) string {
	t := converter.CleanText(title)
	var names, known []string
	for _, n := range siteNames {
		n = strings.TrimFunc(converter.CleanText(n), isTitleSeparator)
		// A "name" with a separator inside is the page's own title put
		// where the site's name belongs (application-name), not a name.
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return strings.ContainsRune(titleSeparators, r) }) {
			continue
		}
		names = append(names, n)
		known = append(known, strings.FieldsFunc(n, isTitleSeparator)...)
	}
	isKnown := func(w string) bool {
		return slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(w, k) })
	}
	if !slices.ContainsFunc(strings.FieldsFunc(t, isTitleSeparator), func(w string) bool { return !isKnown(w) }) {
		return ""
	}
	if r, size := utf8.DecodeRuneInString(t); strings.ContainsRune(titleSeparators, r) && strings.HasPrefix(t[size:], " ") {
		rest := strings.TrimLeftFunc(t[size:], isTitleSeparator)
		if slices.ContainsFunc(names, func(n string) bool { return len(rest) >= len(n) && strings.EqualFold(rest[:len(n)], n) }) {
			return ""
		}
	}
	return t
}

func firstMeta(p *page, name string) string {
	for _, v := range p.values(source{kind: "meta", attr: name}, false, false) {
		if v != "" {
			return v
		}
	}
	return ""
}

// cleanBody removes noise and paywall prompts from a body (the nodes
// under body), restores the reading order of shuffled paragraphs and
// strips invisible watermarks, in place. It reports whether a paywall
// prompt was found.
func (s *Site) cleanBody(root *html.Node, l layout) (bool, error) {
	body := goquery.NewDocumentFromNode(root).Selection
	body.FindMatcher(noise).Remove()
	for _, g := range slices.Concat(s.remove, l.remove) {
		body.FindMatcher(g).Remove()
	}
	truncated := false
	for _, g := range s.paywall {
		if sel := body.FindMatcher(g); sel.Length() > 0 {
			truncated = true
			sel.Remove()
		}
	}
	if len(s.cfg.PaywallText) > 0 {
		body.Find("p, div, span").Each(func(_ int, e *goquery.Selection) {
			t := e.Text()
			for _, marker := range s.cfg.PaywallText {
				// Only a short block is a prompt; a paragraph that merely
				// quotes the phrase is story text.
				if strings.Contains(t, marker) && utf8.RuneCountInString(t) < 4*utf8.RuneCountInString(marker)+40 {
					truncated = true
					e.Remove()
					return
				}
			}
		})
	}
	if l.cfg.Unshuffle != "" {
		unshuffle(body, l.cfg.Unshuffle)
	}
	stripHidden(root)
	if strings.TrimFunc(body.Text(), isBlank) == "" && body.Find("img").Length() == 0 {
		return false, fmt.Errorf("body is empty after removing noise")
	}
	return truncated, nil
}

// isBlank reports whether r shows nothing to a reader.
func isBlank(r rune) bool {
	return unicode.IsSpace(r) || converter.Invisible(r) || converter.Control(r)
}

// unshuffle sorts body's children by their reading position: attr holds 3
// junk characters and then the base32 (RFC 4648, padding optional) of the
// decimal position. Children without a readable position keep their order
// after the positioned ones.
func unshuffle(body *goquery.Selection, attr string) {
	type child struct {
		sel *goquery.Selection
		pos int
	}
	var keyed, rest []child
	body.Children().Each(func(_ int, c *goquery.Selection) {
		v, ok := c.Attr(attr)
		if pos, err := decodePosition(v); ok && err == nil {
			keyed = append(keyed, child{c, pos})
		} else {
			rest = append(rest, child{c, 0})
		}
	})
	if len(keyed) == 0 {
		return
	}
	slices.SortStableFunc(keyed, func(a, b child) int { return a.pos - b.pos })
	// Detach everything, then append in reading order; stray text between
	// shuffled blocks is only white space.
	body.Contents().Remove()
	for _, c := range append(keyed, rest...) {
		body.AppendSelection(c.sel)
	}
}

func decodePosition(v string) (int, error) {
	if len(v) <= 3 {
		return 0, fmt.Errorf("position %q too short", v)
	}
	enc := strings.ToUpper(strings.TrimRight(v[3:], "="))
	if n := len(enc) % 8; n != 0 {
		enc += strings.Repeat("=", 8-n)
	}
	b, err := base32.StdEncoding.DecodeString(enc)
	if err != nil {
		return 0, fmt.Errorf("position %q: %w", v, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// prependGallery puts the layout's gallery images of doc, as figures,
// before the body.
func prependGallery(body *html.Node, doc *goquery.Document, l layout, base *url.URL) {
	if l.gallery == nil {
		return
	}
	first := body.FirstChild
	doc.FindMatcher(l.gallery).Each(func(_ int, s *goquery.Selection) {
		src := converter.ResolveURL(base, imgSrc(s))
		if src == "" {
			return
		}
		caption := converter.CleanText(firstAttr(s, "data-caption", "data-title", "alt", "title"))
		fig := element(atom.Figure)
		img := element(atom.Img)
		img.Attr = []html.Attribute{{Key: "src", Val: src}, {Key: "alt", Val: caption}}
		fig.AppendChild(img)
		if caption != "" {
			fc := element(atom.Figcaption)
			fc.AppendChild(&html.Node{Type: html.TextNode, Data: caption})
			fig.AppendChild(fc)
		}
		body.InsertBefore(fig, first)
	})
}

// canonicalURL is the story's address: og:url when it names the same story
// on the same site (real pages have pointed rel=canonical at the home
// page, so that is never used), else the request URL; with the site's
// canonical host, https, no query, fragment, doubled or trailing slash.
func (s *Site) canonicalURL(req *url.URL, og string) string {
	u := req
	if o, err := url.Parse(og); err == nil && o.IsAbs() && s.Matches(o.Hostname()) && strings.Trim(o.Path, "/") != "" {
		reqID := s.match(s.storyID, req.Path)
		if reqID == "" || reqID == s.match(s.storyID, o.Path) {
			u = o
		}
	}
	c := *u
	c.Scheme = "https"
	if s.cfg.CanonicalScheme != "" {
		c.Scheme = s.cfg.CanonicalScheme
	}
	c.Host = strings.ToLower(c.Host)
	if s.cfg.CanonicalHost != "" {
		c.Host = s.cfg.CanonicalHost
	}
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	c.Path = cleanPath(c.Path)
	c.RawPath = ""
	return c.String()
}

// cleanPath collapses doubled slashes and dot segments and drops a
// trailing slash: all are variants of the same story.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// match returns the first group (or the whole match) of re in the path of
// v, or "" when re is nil or does not match.
func (s *Site) match(re *regexp.Regexp, v string) string {
	if re == nil || v == "" {
		return ""
	}
	if u, err := url.Parse(v); err == nil && u.Path != "" {
		v = u.Path
	}
	m := re.FindStringSubmatch(v)
	switch {
	case len(m) > 1:
		return m[1]
	case len(m) == 1:
		return m[0]
	}
	return ""
}

// splitKeywords splits comma lists ("日本,经济") and drops duplicates.
func splitKeywords(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, k := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' }) {
			if k = converter.CleanText(k); k != "" && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// CleanFragment applies the site's noise and paywall rules to a body that
// did not come from a page layout (a feed item's HTML, an archived post),
// and strips control and invisible characters as from a page's body. It
// reports whether a paywall prompt was found.
func (s *Site) CleanFragment(body string) (string, bool, error) {
	root, truncated, err := s.cleanFragment(body)
	if err != nil {
		return "", false, err
	}
	return converter.Article{Body: root}.HTML(), truncated, nil
}

// cleanFragment is CleanFragment with the body as a tree.
func (s *Site) cleanFragment(body string) (*html.Node, bool, error) {
	root, err := fragment(body)
	if err != nil {
		return nil, false, err
	}
	truncated, err := s.cleanBody(root, layout{})
	return root, truncated, err
}

// captionInBody finds the caption of the image imageURL when the body
// shows it: its figure's figcaption, or else its alt text. URLs compare as
// converter.ImageKey compares them.
func (s *Site) captionInBody(body *html.Node, base *url.URL, imageURL string) string {
	want := converter.ImageKey(imageURL, s.rewrites)
	caption := ""
	goquery.NewDocumentFromNode(body).Find("img").EachWithBreak(func(_ int, img *goquery.Selection) bool {
		if converter.ImageKey(converter.ResolveURL(base, imgSrc(img)), s.rewrites) != want {
			return true
		}
		caption = converter.CleanText(img.Closest("figure").Find("figcaption").First().Text())
		if caption == "" {
			caption = converter.CleanText(firstAttr(img, "alt", "title", "data-caption"))
		}
		return false
	})
	return caption
}
