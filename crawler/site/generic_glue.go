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
	var (
		ogURL  = converter.CleanText(firstMeta(p, "og:url"))
		names  = p.siteNames(site)
		titles [][]string
	)
	for _, src := range genericTitles {
		titles = append(titles, p.values(src, false, false))
	}
	published, dateSource := pageDate(p, u, loc, hints.Fetched)
	modified := cmp.Or(firstValue(p, "ldjson:dateModified"), firstMeta(p, "article:modified_time"))
	keywords := cmp.Or(firstValue(p, "ldjson:keywords"), firstMeta(p, "keywords"))
	ogImage := firstMeta(p, "og:image")

	g, err := extractGeneric(pageBytes, t.doc.Nodes[0], u)
	if err != nil {
		return converter.Article{}, err
	}
	names = append(names, converter.CleanText(g.SiteName))
	a := converter.Article{Extractor: "generic", Author: converter.CleanText(g.Byline), Site: converter.CleanText(g.SiteName)}
	if site != nil {
		a.Site = site.cfg.Title
		a.URL = site.canonicalURL(u, ogURL)
		a.StoryID = site.match(site.storyID, a.URL)
		a.Section = converter.CleanText(site.match(site.section, a.URL))
	} else {
		a.URL = genericCanonical(u, ogURL)
	}
	a.Title = headline(g.Title, names)
	for _, vals := range titles {
		for _, v := range vals {
			if a.Title == "" {
				a.Title = headline(v, names)
			}
		}
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
	a.Image.URL = converter.ResolveURL(u, cmp.Or(g.ImageURL, ogImage))
	if a.Author == a.Site {
		a.Author = ""
	}
	body := element(atom.Body)
	body.AppendChild(g.Body)
	stripHidden(body)
	a.Body = body
	return a, nil
}

// genericTitles are where fromGeneric looks for the headline when
// Readability's title is empty or only the site's name.
var genericTitles = mustSources("ldjson:headline", "meta:og:title", "css:title")

func mustSources(raws ...string) []source {
	srcs := make([]source, len(raws))
	for i, raw := range raws {
		src, err := parseSource(raw)
		if err != nil {
			panic(err)
		}
		srcs[i] = src
	}
	return srcs
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
