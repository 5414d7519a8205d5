package site

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
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

// noise names the elements removed from every body, whatever the rules
// say. They are found by name, as CSS type selectors find them.
var noise = map[string]bool{
	"script": true, "style": true, "template": true, "button": true, "form": true, "input": true,
	"select": true, "textarea": true, "svg": true, "link": true, "meta": true, "object": true,
	"canvas": true, "dialog": true,
}

// Extract takes the article out of page, fetched from pageURL. It uses the
// layouts of the site pageURL belongs to, in order, then the generic
// extractor. It is pure: no network, no clock. It is ExtractWith without
// hints: a generic page that gives no date fails.
func Extract(page []byte, pageURL string, sites []*Site) (converter.Article, error) {
	return ExtractWith(page, pageURL, sites, Hints{})
}

// ExtractWith is Extract with what the caller knows of the page besides
// its bytes: the generic extractor dates a page that gives no date of its
// own by hints, and says so in Article.DateSource. Layouts ignore hints:
// they require their own dates.
func ExtractWith(page []byte, pageURL string, sites []*Site, hints Hints) (converter.Article, error) {
	u, ok := httpurl.Parse(strings.TrimSpace(pageURL))
	if !ok {
		return converter.Article{}, fmt.Errorf("extract %q: %w", pageURL, ErrBadURL)
	}
	page = charset.Decoded(page)
	t, err := parseHTML(page)
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
			a, err := site.extractLayout(page, t, u, l)
			if err == nil {
				return a, nil
			}
			failed(site.cfg.Name+"/"+l.cfg.Name, err)
		}
	}
	a, err := fromGeneric(page, u, t, site, hints)
	if err != nil {
		failed("generic", err)
		return converter.Article{}, ee
	}
	if site != nil && len(site.layouts) > 0 {
		// The site's rules no longer match its pages: say so, so the rule
		// gets fixed before the generic output quietly degrades the archive.
		// A site without layouts is meant for the generic extractor.
		a.Extractor = "generic (no " + site.cfg.Name + " layout matched)"
	}
	return a, nil
}

func (s *Site) extractLayout(raw []byte, t *tree, u *url.URL, l layout) (converter.Article, error) {
	if l.hydration != nil && !bytes.Contains(raw, []byte(l.hydration.Variable)) {
		// Far cheaper than any selector on the tree.
		return converter.Article{}, fmt.Errorf("no script assigns %s", l.hydration.Variable)
	}
	if l.when != nil && l.when.MatchFirst(t.doc.Nodes[0]) == nil {
		return converter.Article{}, fmt.Errorf("page does not match %q", l.cfg.When)
	}
	p := &page{tree: t}
	if l.hydration != nil {
		h, err := findHydration(t.scripts, l.hydration)
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
			prependGallery(body, t.doc, l, u)
			a.Body, a.Truncated = body, truncated || p.truncated(l.truncated)
			a.Images = s.images(p, l.images, u)
			if a.Image.URL != "" && a.Image.Caption == "" {
				a.Image.Caption = s.captionInBody(body, u, a.Image.URL)
			}
			if a.Image.URL != "" && a.Image.Caption == "" {
				a.Image.Caption = s.captionOf(a.Images, a.Image.URL)
			}
			return a, nil
		}
	}
	return a, lastErr
}

// canonicalURL is the story's address: og:url when it names the same story
// on the same site (real pages have pointed rel=canonical at the home
// page, so that is never used), else the request URL; with the site's
// canonical host, https, no fragment, doubled or trailing slash. With a
// story_id the query is dropped: the path names the story. Without one
// the query may be what names it (?p=123), so only tracking parameters
// are dropped.
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
	c.RawQuery, c.Fragment, c.RawFragment, c.User = untracked(c.RawQuery, s.storyID == nil), "", "", nil
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
