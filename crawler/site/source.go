package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A source says where a field's value is on a page. Its syntax is
// "kind:argument", optionally followed by " | re:PATTERN" to keep the
// first group (or the whole match) of a regular expression:
//
//	css:h1.article-title            text of the first match
//	css:#carousel-article img@src   an attribute of the first match
//	css:.lead@imgsrc                best image URL of the match or the first img in it
//	meta:og:url                     content of <meta name|property=...>
//	ldjson:datePublished            a path into the page's schema.org article
//	json:create_time                a path into the layout's hydration payload
//
// Paths are dot-separated keys; a number indexes an array, "*" (or any key
// applied to an array) maps over its elements.
type source struct {
	raw    string
	kind   string
	sel    cascadia.Selector
	attr   string
	path   []string
	filter *regexp.Regexp
}

var attrName = regexp.MustCompile(`^[A-Za-z_:][-\w:.]*$`)

func parseSource(raw string) (source, error) {
	s := source{raw: raw}
	expr := raw
	if before, after, ok := strings.Cut(raw, "|"); ok {
		expr = strings.TrimSpace(before)
		f := strings.TrimSpace(after)
		pat, ok := strings.CutPrefix(f, "re:")
		if !ok {
			return s, fmt.Errorf("filter %q: want re:PATTERN", f)
		}
		re, err := regexp.Compile(strings.TrimSpace(pat))
		if err != nil {
			return s, fmt.Errorf("filter %q: %w", f, err)
		}
		s.filter = re
	}
	kind, arg, ok := strings.Cut(strings.TrimSpace(expr), ":")
	arg = strings.TrimSpace(arg)
	if !ok || arg == "" {
		return s, fmt.Errorf("source %q: want kind:argument with kind css, meta, ldjson or json", raw)
	}
	s.kind = kind
	switch kind {
	case "css":
		if i := strings.LastIndex(arg, "@"); i > 0 && attrName.MatchString(arg[i+1:]) {
			s.attr = arg[i+1:]
			arg = strings.TrimSpace(arg[:i])
		}
		g, err := cascadia.Compile(arg)
		if err != nil {
			return s, fmt.Errorf("source %q: bad CSS selector: %w", raw, err)
		}
		s.sel = g
	case "meta":
		s.attr = arg
	case "ldjson", "json":
		s.path = strings.Split(arg, ".")
		for _, p := range s.path {
			if p == "" {
				return s, fmt.Errorf("source %q: empty path segment", raw)
			}
		}
	default:
		return s, fmt.Errorf("source %q: unknown kind %q (want css, meta, ldjson or json)", raw, kind)
	}
	return s, nil
}

// page is a parsed page with the structured data found on it, computed
// once and shared by every source.
type page struct {
	doc       *goquery.Document
	ld        map[string]any
	ldDone    bool
	hydration map[string]any
	meta      map[string][]string
}

// values evaluates src on p. For css sources without an attribute, inner
// asks for inner HTML instead of text; all asks for every match instead
// of the first (lists such as keywords).
func (p *page) values(src source, inner, all bool) []string {
	var out []string
	switch src.kind {
	case "css":
		var nodes []*html.Node
		if all {
			nodes = src.sel.MatchAll(p.doc.Nodes[0])
		} else if n := src.sel.MatchFirst(p.doc.Nodes[0]); n != nil {
			nodes = []*html.Node{n}
		}
		for _, n := range nodes {
			s := goquery.NewDocumentFromNode(n).Selection
			var v string
			switch {
			case src.attr == "imgsrc":
				v = imgSrc(s)
			case src.attr != "":
				v, _ = s.Attr(src.attr)
			case inner:
				v, _ = s.Html()
			default:
				v = s.Text()
			}
			out = append(out, v)
		}
	case "meta":
		out = p.metas()[strings.ToLower(src.attr)]
	case "ldjson":
		out = stringsAt(p.article(), src.path)
	case "json":
		if p.hydration != nil {
			out = stringsAt(p.hydration, src.path)
		}
	}
	if src.filter != nil {
		kept := out[:0]
		for _, v := range out {
			m := src.filter.FindStringSubmatch(v)
			switch {
			case m == nil:
			case len(m) > 1:
				kept = append(kept, m[1])
			default:
				kept = append(kept, m[0])
			}
		}
		out = kept
	}
	return out
}

// first is the first value of src on p that is not empty once cleaned
// with converter.CleanText, cleaned; "" when there is none.
func (p *page) first(src source) string {
	for _, v := range p.values(src, false, false) {
		if v = converter.CleanText(v); v != "" {
			return v
		}
	}
	return ""
}

var metaSel = cascadia.MustCompile("meta[content]")

// metas maps the lowercased name (or property, or itemprop) of every
// <meta> to its contents, in page order. It is built once per page.
func (p *page) metas() map[string][]string {
	if p.meta != nil {
		return p.meta
	}
	p.meta = map[string][]string{}
	for _, n := range metaSel.MatchAll(p.doc.Nodes[0]) {
		var name, content string
		for _, a := range n.Attr {
			switch a.Key {
			case "property", "name", "itemprop":
				if name == "" {
					name = strings.ToLower(a.Val)
				}
			case "content":
				content = a.Val
			}
		}
		if name != "" {
			p.meta[name] = append(p.meta[name], content)
		}
	}
	return p.meta
}

func firstAttr(s *goquery.Selection, names ...string) string {
	for _, n := range names {
		if v, ok := s.Attr(n); ok {
			return v
		}
	}
	return ""
}

// imgSrc is the best image URL of s when it is an <img>, else of the
// first <img> inside it.
func imgSrc(s *goquery.Selection) string {
	if !s.Is("img") {
		s = s.Find("img").First()
	}
	if len(s.Nodes) == 0 {
		return ""
	}
	return converter.ImageURL(s.Nodes[0])
}

// schema.org types that describe an article.
var articleTypes = []string{"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting", "Report"}

// article returns the page's schema.org article from its ld+json blocks:
// the first object (also inside arrays and @graph) whose @type is an
// article type. Blocks that do not parse are skipped.
func (p *page) article() map[string]any {
	if p.ldDone {
		return p.ld
	}
	p.ldDone = true
	p.doc.Find(`script[type="application/ld+json"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		var v any
		if err := decodeLenient([]byte(s.Text()), &v); err != nil {
			return true
		}
		p.ld = findArticle(v)
		return p.ld == nil
	})
	return p.ld
}

func findArticle(v any) map[string]any {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if a := findArticle(e); a != nil {
				return a
			}
		}
	case map[string]any:
		if isArticleType(t["@type"]) {
			return t
		}
		if g, ok := t["@graph"]; ok {
			return findArticle(g)
		}
	}
	return nil
}

func isArticleType(v any) bool {
	switch t := v.(type) {
	case string:
		for _, a := range articleTypes {
			if t == a {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if isArticleType(e) {
				return true
			}
		}
	}
	return false
}

// decodeLenient decodes JSON that may hold raw control characters inside
// strings, as some real ld+json blocks do: they are replaced by spaces
// (tabs and newlines are white space in JSON anyway) before decoding.
func decodeLenient(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if i := bytes.IndexFunc(b, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }); i >= 0 || bytes.ContainsAny(b, "\n\r\t") {
		b = bytes.Map(func(r rune) rune {
			if r < 0x20 {
				return ' '
			}
			return r
		}, b)
	}
	// Some pages wrap the block in an HTML comment or CDATA.
	b = bytes.TrimPrefix(b, []byte("<!--"))
	b = bytes.TrimSuffix(b, []byte("-->"))
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// stringsAt walks path from v and returns the string forms of what it
// reaches. Arrays are mapped over unless the segment is an index.
func stringsAt(v any, path []string) []string {
	vals := []any{v}
	for _, seg := range path {
		var next []any
		for _, cur := range vals {
			next = append(next, step(cur, seg)...)
		}
		vals = next
	}
	var out []string
	for _, v := range vals {
		out = append(out, stringify(v)...)
	}
	return out
}

func step(v any, seg string) []any {
	switch t := v.(type) {
	case map[string]any:
		if e, ok := t[seg]; ok && e != nil {
			return []any{e}
		}
	case []any:
		if seg == "*" {
			return t
		}
		if i, err := strconv.Atoi(seg); err == nil {
			if i >= 0 && i < len(t) {
				return []any{t[i]}
			}
			return nil
		}
		var out []any
		for _, e := range t {
			out = append(out, step(e, seg)...)
		}
		return out
	}
	return nil
}

// stringify turns a JSON value into the strings it stands for: an object
// stands for its url, name or @id (schema.org ImageObject, Person).
func stringify(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case json.Number:
		return []string{t.String()}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, stringify(e)...)
		}
		return out
	case map[string]any:
		for _, k := range []string{"url", "name", "@id"} {
			if s, ok := t[k].(string); ok {
				return []string{s}
			}
		}
	}
	return nil
}

// findHydration finds `<variable> = JSON.parse("…")` or `<variable> = {…}`
// in the page's scripts and returns the value at path.
func findHydration(doc *goquery.Document, h *config.Hydration) (map[string]any, error) {
	var payload any
	var lastErr error
	doc.Find("script").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		code := s.Text()
		i := strings.Index(code, h.Variable)
		if i < 0 {
			return true
		}
		rest := strings.TrimLeft(code[i+len(h.Variable):], " \t\r\n")
		rest, ok := strings.CutPrefix(rest, "=")
		if !ok {
			return true
		}
		rest = strings.TrimLeft(rest, " \t\r\n")
		var raw string
		if r, ok := strings.CutPrefix(rest, "JSON.parse("); ok {
			lit, err := jsStringLiteral(strings.TrimLeft(r, " \t\r\n"))
			if err != nil {
				lastErr = fmt.Errorf("hydration %s: %w", h.Variable, err)
				return true
			}
			raw = lit
		} else {
			raw = rest
		}
		d := json.NewDecoder(strings.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&payload); err != nil {
			lastErr = fmt.Errorf("hydration %s: decode JSON: %w", h.Variable, err)
			return true
		}
		return false
	})
	if payload == nil {
		if lastErr == nil {
			lastErr = fmt.Errorf("hydration %s: no script assigns it", h.Variable)
		}
		return nil, lastErr
	}
	if h.Path == "" {
		m, ok := payload.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("hydration %s: payload is not an object", h.Variable)
		}
		return m, nil
	}
	cur := payload
	for _, seg := range strings.Split(h.Path, ".") {
		next := step(cur, seg)
		if len(next) == 0 {
			return nil, fmt.Errorf("hydration %s: no %q in path %s", h.Variable, seg, h.Path)
		}
		cur = next[0]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("hydration %s: %s is not an object", h.Variable, h.Path)
	}
	return m, nil
}

// jsStringLiteral decodes the JavaScript string literal at the start of s
// (single or double quoted), with JavaScript's escapes.
func jsStringLiteral(s string) (string, error) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", fmt.Errorf("want a string literal")
	}
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'v':
				b.WriteByte('\v')
			case '0':
				b.WriteByte(0)
			case 'x':
				if i+2 >= len(s) {
					return "", fmt.Errorf("short \\x escape")
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return "", fmt.Errorf("bad \\x escape: %w", err)
				}
				b.WriteRune(rune(v))
				i += 2
			case 'u':
				r, n, err := unicodeEscape(s[i+1:])
				if err != nil {
					return "", err
				}
				b.WriteRune(r)
				i += n
			case '\n':
				// line continuation
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated string literal")
}

// unicodeEscape decodes the part after "\u": XXXX (with a following
// low surrogate when XXXX is a high one) or {X…}. It returns the rune
// and the number of bytes consumed.
func unicodeEscape(s string) (rune, int, error) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 0, 0, fmt.Errorf("bad \\u{} escape")
		}
		v, err := strconv.ParseUint(s[1:end], 16, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("bad \\u{} escape: %w", err)
		}
		return rune(v), end + 1, nil
	}
	if len(s) < 4 {
		return 0, 0, fmt.Errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(s[:4], 16, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("bad \\u escape: %w", err)
	}
	r := rune(v)
	if r >= 0xD800 && r < 0xDC00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, err := strconv.ParseUint(s[6:10], 16, 16); err == nil && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000, 10, nil
		}
	}
	return r, 4, nil
}

// fragment parses an HTML fragment (a body delivered as a JSON string, a
// feed item's HTML) and returns the <body> holding it, with the limits of
// parseHTML.
func fragment(s string) (*html.Node, error) {
	doc, err := parseHTML([]byte("<!DOCTYPE html><html><head></head><body>" + s + "</body></html>"))
	if err != nil {
		return nil, fmt.Errorf("parse body: %w", err)
	}
	body := doc.Find("body")
	if body.Length() == 0 {
		return nil, fmt.Errorf("parse body: %w: no <body>", ErrMalformedPage)
	}
	return body.Nodes[0], nil
}

// bodies are the bodies src gives on p, each the nodes under a fresh
// element of its own that cleanBody may change: copies of the children
// of the elements a css: source matches (the first, unless all), or the
// HTML a json: or ldjson: source holds, parsed.
func (p *page) bodies(src source) ([]*html.Node, error) {
	if src.kind == "css" && src.attr == "" {
		n := src.sel.MatchFirst(p.doc.Nodes[0])
		if n == nil {
			return nil, nil
		}
		body := element(atom.Body)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			body.AppendChild(clone(c))
		}
		return []*html.Node{body}, nil
	}
	var out []*html.Node
	for _, v := range p.values(src, true, false) {
		body, err := fragment(v)
		if err != nil {
			return out, err
		}
		out = append(out, body)
	}
	return out, nil
}

// element is a new element a.
func element(a atom.Atom) *html.Node {
	return &html.Node{Type: html.ElementNode, DataAtom: a, Data: a.String()}
}

// clone is a deep copy of n, detached.
func clone(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Attr: slices.Clone(n.Attr)}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		c.AppendChild(clone(k))
	}
	return c
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

// parseHTML parses a page. Its errors wrap ErrMalformedPage: the parser
// rejects elements nested more than 512 deep; parseHTML rejects more than
// maxElements elements before parsing (tokenizing takes time in
// proportion to the size, whatever the shape), and a nesting (the sum
// over elements of their depth) over maxNesting after it.
func parseHTML(page []byte) (*goquery.Document, error) {
	// A start tag takes three bytes at least ("<p>"): a smaller page
	// cannot hold too many, and is spared the extra pass.
	if len(page) > 3*maxElements && countElements(page, maxElements) > maxElements {
		return nil, fmt.Errorf("%w: more than %d elements", ErrMalformedPage, maxElements)
	}
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPage, err)
	}
	if n := nesting(doc, 0); n > maxNesting {
		return nil, fmt.Errorf("%w: elements nested too deep (total depth %d, limit %d)", ErrMalformedPage, n, maxNesting)
	}
	return goquery.NewDocumentFromNode(doc), nil
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

// nesting is the sum over the elements under n of their depth, n being at
// depth.
func nesting(n *html.Node, depth int) int {
	sum := 0
	if n.Type == html.ElementNode {
		sum = depth
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sum += nesting(c, depth+1)
	}
	return sum
}
