package site

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/newsmd/newsmd/converter"
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
	*tree
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

// metas maps the lowercased name (or property, or itemprop) of every
// <meta> to its contents, in page order. It is built once per page.
func (p *page) metas() map[string][]string {
	if p.meta != nil {
		return p.meta
	}
	p.meta = map[string][]string{}
	for _, n := range p.metaTags {
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
			body.AppendChild(converter.CloneTree(c))
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
