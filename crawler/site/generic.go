package site

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// genericResult is what the generic extractor finds on a page no site rule matches.
type genericResult struct {
	Title     string
	Byline    string
	Body      *html.Node // the article body: Readability's container, detached
	ImageURL  string     // lead image, absolute
	Published time.Time  // zero when unknown
	Modified  time.Time  // zero when unknown
	SiteName  string
	Language  string
}

var errNoContent = errors.New("no article content found")

// extractGeneric runs the generic extractor on page, fetched from pageURL
// and parsed as doc, which it changes (Readability works in place).
// It returns an error wrapping errNoContent when no body is found.
//
// The work is done by go-readability, a port of Mozilla's Readability.js,
// chosen over go-trafilatura in docs/GENERIC-EXTRACTOR.md. It reads dates only
// from JSON-LD and Open Graph style <meta> tags, and takes a date without a
// zone as UTC.
//
// Fuzzing found no panic in the extraction itself, only in its date parser,
// which articleDates guards. The HTML parser (golang.org/x/net/html v0.45.0 and
// later) rejects documents nested deeper than 512 elements; such a page yields
// an error that does not wrap errNoContent. Extract never gets here with one:
// parseHTML rejects it first, and pages too large or too deeply nested for
// Readability to finish in reasonable time.
func extractGeneric(page []byte, doc *html.Node, pageURL *url.URL) (genericResult, error) {
	if pageURL == nil {
		return genericResult{}, errors.New("generic extract: no page URL")
	}
	// Readability turns any bytes into "text"; binary data is no page at all.
	if !strings.HasPrefix(http.DetectContentType(page), "text/") {
		return genericResult{}, fmt.Errorf("generic extract %s: %w", pageURL, errNoContent)
	}
	// Readability's own reader guesses the encoding from byte statistics,
	// ignoring <meta charset>, and turns UTF-8 pages with few non-ASCII
	// letters into mojibake ("It’s" becomes "Itâ€™s"): it gets the page as
	// Extract decoded and parsed it.
	parser := readability.NewParser()
	parser.KeepClasses = true     // tidy reads them, then drops them
	blocks := leadBlocks(doc)     // before Readability changes doc,
	cand := contentCandidate(doc) // and after the blocks are numbered
	article, err := parser.ParseAndMutate(doc, pageURL)
	if err != nil {
		return genericResult{}, fmt.Errorf("generic extract %s: %w", pageURL, err)
	}
	node := article.Node
	if node != nil && node.Parent != nil {
		node.Parent.RemoveChild(node)
	}
	if cand != nil && (node == nil || preferCandidate(node, cand)) {
		node = cand
	}
	if node != nil {
		adoptLead(node, blocks)
		unmarkBlocks(node)
	}
	// Readability falls back to the whole <body> when it finds no article, so
	// an empty page or a bare list of links still comes back as a "body".
	if node == nil || !hasTextOutsideLinks(node) {
		return genericResult{}, fmt.Errorf("generic extract %s: %w", pageURL, errNoContent)
	}
	// tidy takes parts of the article away, never most of it: a page whose
	// text it would mostly remove keeps the node as it was.
	before, k := cloneNode(node), textLen(node)
	tidy(node)
	if !hasTextOutsideLinks(node) || textLen(node)*10 < k*3 {
		node = before
		dropClasses(node)
	}
	article.Node = node
	res := genericResult{
		Title:    strings.TrimSpace(article.Title()),
		Byline:   strings.TrimSpace(article.Byline()),
		Body:     article.Node,
		ImageURL: converter.ResolveURL(pageURL, article.ImageURL()),
		SiteName: strings.TrimSpace(article.SiteName()),
		Language: strings.TrimSpace(article.Language()),
	}
	res.Published, res.Modified = articleDates(article)
	return res, nil
}

// articleDates returns the article's publish and modify times, zero when
// missing or unparsable. Readability parses them with
// github.com/itlightning/dateparse v0.2.1, which panics on some malformed
// values (fuzzing found "0000-00-00 0000000000,0000000000" in a <meta>):
// such a date counts as unknown, and fromGeneric looks for it elsewhere.
func articleDates(article readability.Article) (published, modified time.Time) {
	defer func() {
		if r := recover(); r != nil {
			published, modified = time.Time{}, time.Time{}
		}
	}()
	if t, perr := article.PublishedTime(); perr == nil {
		published = t
	}
	if t, perr := article.ModifiedTime(); perr == nil {
		modified = t
	}
	return published, modified
}

// hasTextOutsideLinks reports whether n holds a character that is neither
// white space nor an invisible format character (zero-width spaces, joiners,
// BOMs: some sites scatter them as watermarks) nor a control character
// outside <a> and <nav> elements: links and menus are no article text.
func hasTextOutsideLinks(n *html.Node) bool {
	switch {
	case n.Type == html.TextNode:
		return strings.IndexFunc(n.Data, func(r rune) bool {
			return !isBlank(r) && !unicode.Is(unicode.Cf, r)
		}) >= 0
	case n.Type == html.ElementNode && (n.DataAtom == atom.A || n.DataAtom == atom.Nav):
		return false
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasTextOutsideLinks(c) {
			return true
		}
	}
	return false
}

// preferCandidate reports whether the page's own article container, cand,
// beats Readability's choice, node: when node holds under half of cand's
// text and cand is not a list of links (under 10% of its text in links).
// Readability then took a teaser column, a cookie notice or one section of
// a long article.
func preferCandidate(node, cand *html.Node) bool {
	k := textLen(cand)
	return textLen(node)*2 < k && linkLen(cand)*10 <= k
}
