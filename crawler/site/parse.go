package site

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// fragment parses an HTML fragment (a body delivered as a JSON string, a
// feed item's HTML) and returns the <body> holding it, with the limits of
// parseHTML.
func fragment(s string) (*html.Node, error) {
	t, err := parseHTML([]byte("<!DOCTYPE html><html><head></head><body>" + s + "</body></html>"))
	if err != nil {
		return nil, fmt.Errorf("parse body: %w", err)
	}
	body := t.doc.Find("body")
	if body.Length() == 0 {
		return nil, fmt.Errorf("parse body: %w: no <body>", ErrMalformedPage)
	}
	return body.Nodes[0], nil
}

// nodeText is the text under n: the one text node n holds (a script's
// code), uncopied, or else the text of all of them.
func nodeText(n *html.Node) string {
	if c := n.FirstChild; c != nil && c.NextSibling == nil && c.Type == html.TextNode {
		return c.Data
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// element is a new element a.
func element(a atom.Atom) *html.Node {
	return &html.Node{Type: html.ElementNode, DataAtom: a, Data: a.String()}
}

// stripHidden removes control and invisible characters from the text,
// comments and attribute values under root (converter.StripHidden), and
// white space at the start and end of the body.
func stripHidden(root *html.Node) {
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode, html.CommentNode:
			n.Data = converter.StripHidden(n.Data)
		case html.ElementNode:
			for i := range n.Attr {
				n.Attr[i].Val = converter.StripHidden(n.Attr[i].Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if c := root.FirstChild; c != nil && c.Type == html.TextNode {
		c.Data = strings.TrimLeftFunc(c.Data, unicode.IsSpace)
	}
	if c := root.LastChild; c != nil && c.Type == html.TextNode {
		c.Data = strings.TrimRightFunc(c.Data, unicode.IsSpace)
	}
}

// maxElements and maxNesting bound the work done on a page or a body. The
// work of the HTML parser and of Readability grows with the number of
// elements times their depth: a 10 MB page of a million empty paragraphs
// 500 levels deep took a minute, a 3 MB page of 100,000 paragraphs 500
// deep 15 seconds. Real pages stay far below both limits: the zaobao
// pages in testdata have under 1,000 elements and a nesting under 7,000.
const (
	maxElements = 100_000
	maxNesting  = 5_000_000
)

// tree is a parsed page: its document, and the elements extraction reads
// wherever they are, in page order, collected by the walk that measures
// the page's nesting so that no source walks the whole page for them.
type tree struct {
	doc *goquery.Document
	// scripts are the <script> elements, metas the <meta> elements with a
	// content attribute.
	scripts, metaTags []*html.Node
}

// parseHTML parses a page. Its errors wrap ErrMalformedPage: the parser
// rejects elements nested more than 512 deep; parseHTML rejects more than
// maxElements elements before parsing (tokenizing takes time in
// proportion to the size, whatever the shape), and a nesting (the sum
// over elements of their depth) over maxNesting after it.
func parseHTML(page []byte) (*tree, error) {
	// A start tag takes three bytes at least ("<p>"): a smaller page
	// cannot hold too many, and is spared the extra pass.
	if len(page) > 3*maxElements && countElements(page, maxElements) > maxElements {
		return nil, fmt.Errorf("%w: more than %d elements", ErrMalformedPage, maxElements)
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPage, err)
	}
	t := &tree{doc: goquery.NewDocumentFromNode(doc)}
	if n := t.walk(doc, 0); n > maxNesting {
		return nil, fmt.Errorf("%w: elements nested too deep (total depth %d, limit %d)", ErrMalformedPage, n, maxNesting)
	}
	return t, nil
}

// countElements counts the start tags of page, up to one more than limit.
func countElements(page []byte, limit int) int {
	z := html.NewTokenizer(bytes.NewReader(page))
	n := 0
	for n <= limit {
		switch z.Next() {
		case html.ErrorToken:
			return n
		case html.StartTagToken, html.SelfClosingTagToken:
			n++
		}
	}
	return n
}

// walk collects the scripts and metas under n, n being at depth, and
// returns the nesting under n: the sum over its elements of their depth.
func (t *tree) walk(n *html.Node, depth int) int {
	sum := 0
	if n.Type == html.ElementNode {
		sum = depth
		// By name, as a CSS type selector matches: also in SVG.
		switch n.Data {
		case "script":
			t.scripts = append(t.scripts, n)
		case "meta":
			if hasAttr(n, "content") {
				t.metaTags = append(t.metaTags, n)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sum += t.walk(c, depth+1)
	}
	return sum
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}
