// Package site is the site rules and the extraction of articles: it
// compiles the sites: section of config.yaml, identifies stories
// (canonical URL, story id, which ports a site allows), and turns a page
// into a converter.Article with the first matching layout of the page's
// site, or with the generic extractor (Readability plus the page's
// schema.org data and meta tags). Extract parses a page once; the body
// leaves as a parsed tree (Article.Body) for the converter.
//
// It is pure: page bytes, the page URL and the rules in, an article out;
// no network, no clock, no store. It may import goquery, cascadia,
// golang.org/x/net/html, go-readability, converter (for Article),
// internal/config and crawler/internal; never crawler/fetch, colly or an
// HTTP client (a test in crawler enforces it).
package site
