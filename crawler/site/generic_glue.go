package site

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"golang.org/x/net/html/atom"
)

// fromGeneric builds an article with the generic extractor, filling what it
// misses from the page's schema.org data and meta tags. Readability
// changes doc (it drops scripts, among others): what the page says of
// itself is read first. A page that gives no date of its own is dated
// by hints (the feed item, Last-Modified, the fetch time); it fails
// only without a body or title, or without any date when hints are
// zero.
func fromGeneric(pageBytes []byte, u *url.URL, t *tree, site *Site, hints Hints) (converter.Article, error) {
	p := &page{tree: t}
	// Pages without rules and without a zone: the default zone of posts.
	loc := converter.DefaultOptions().Location
	if site != nil {
		loc = site.loc
	}
	ogURL := converter.CleanText(firstMeta(p, "og:url"))
	meta := readPageMeta(p, u, p.siteNames(site))
	published, dateSource := pageDate(p, u, loc, hints.Fetched)
	modified := cmp.Or(firstValue(p, "ldjson:dateModified"), firstMeta(p, "article:modified_time"))
	keywords := cmp.Or(firstValue(p, "ldjson:keywords"), firstMeta(p, "keywords"))

	g, err := extractGeneric(pageBytes, t.doc.Nodes[0], u)
	if err != nil {
		return converter.Article{}, err
	}
	meta.names = append(meta.names, g.SiteName)
	a := converter.Article{Extractor: "generic", Site: converter.CleanText(g.SiteName)}
	if site != nil {
		a.Site = site.cfg.Title
		a.URL = site.canonicalURL(u, ogURL)
		a.StoryID = site.match(site.storyID, a.URL)
		a.Section = converter.CleanText(site.match(site.section, a.URL))
	} else {
		a.URL = genericCanonical(u, ogURL)
	}
	if site != nil {
		meta.names = append(meta.names, a.Site)
	}
	a.Title = meta.title(g.Title)
	if a.Title == "" {
		a.Title = untitled(g.Body, u, meta.names)
	}
	if a.Title == "" {
		return a, errNoTitle
	}
	// Readability's date comes from JSON-LD or meta tags too, read by a
	// more lenient parser: it beats what is printed on the page.
	switch dateSource {
	case "", dateTime, dateURL, dateText:
		if !g.Published.IsZero() && g.Published.Year() >= 1990 {
			published, dateSource = g.Published, dateMeta
		}
	}
	if published.IsZero() {
		published, dateSource = hintDate(hints)
	}
	if published.IsZero() {
		return a, fmt.Errorf("no publication time")
	}
	a.Published, a.DateSource = published, dateSource
	a.Modified = g.Modified
	if a.Modified.IsZero() {
		if t, err := timeparse.Parse(modified, loc); err == nil && !t.Before(a.Published) {
			a.Modified = t
		}
	}
	a.Keywords = splitKeywords([]string{keywords})
	a.Image = meta.image(u, g.ImageURL)
	a.Author = meta.author(g.Byline)
	a.Language = meta.lang(g.Language)
	body := element(atom.Body)
	body.AppendChild(g.Body)
	stripHidden(body)
	a.Body = body
	return a, nil
}

// firstValue evaluates a source written as in config.yaml and returns its
// first non-empty value.
func firstValue(p *page, raw string) string {
	src, err := parseSource(raw)
	if err != nil {
		return ""
	}
	return p.first(src)
}

// genericCanonical is the address of a page on a site without rules: og:url
// when it is on the same host and not the home page, else the request URL,
// without fragment and tracking parameters.
func genericCanonical(req *url.URL, og string) string {
	u := req
	if o, err := url.Parse(og); err == nil && o.IsAbs() && o.Hostname() == req.Hostname() && cleanPath(o.Path) != "/" {
		u = o
	}
	c := *u
	c.Fragment, c.RawFragment, c.User = "", "", nil
	c.Host = strings.ToLower(c.Host)
	q := c.Query()
	for k := range q {
		if strings.HasPrefix(k, "utm_") || k == "ref" || k == "fbclid" || k == "gclid" {
			q.Del(k)
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}
