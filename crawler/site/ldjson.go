package site

import (
	"encoding/json"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

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
	for _, n := range p.scripts {
		if !isLDJSON(n) {
			continue
		}
		code := nodeText(n)
		if !mayHoldArticle(code) {
			continue
		}
		var v any
		if err := decodeLenient(code, &v); err != nil {
			continue
		}
		if p.ld = findArticle(v); p.ld != nil {
			break
		}
	}
	return p.ld
}

// isLDJSON reports whether the script n is an ld+json block: what
// script[type="application/ld+json"] matches.
func isLDJSON(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "type" && a.Val == "application/ld+json" {
			return true
		}
	}
	return false
}

// mayHoldArticle reports whether an ld+json block can name an article
// type: every one contains "Article", "BlogPosting" or "Report", unless
// written with \u escapes. Blocks that cannot (breadcrumbs, the
// publisher, the web site) are not decoded.
func mayHoldArticle(code string) bool {
	return strings.Contains(code, "Article") || strings.Contains(code, "BlogPosting") ||
		strings.Contains(code, "Report") || strings.Contains(code, `\u`)
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
// strings, as some real ld+json blocks do: when the block does not decode
// as it is, they are replaced by spaces (tabs and newlines are white space
// in JSON anyway, and raw inside a string make it invalid) and it is
// decoded again. Only the first value counts.
func decodeLenient(s string, v any) error {
	s = strings.TrimSpace(s)
	if err := decodeFirst(trimComment(s), v); err == nil {
		return nil
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 {
				return ' '
			}
			return r
		}, s)
	}
	return decodeFirst(trimComment(s), v)
}

// trimComment drops the HTML comment or CDATA some pages wrap a block in.
func trimComment(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(s, "<!--"), "-->")
}

// decodeFirst decodes the first JSON value of s into v, numbers as
// json.Number.
func decodeFirst(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
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

// stringify turns a JSON value into the strings it stands for: a boolean
// for "true" or "false", an object for its url, name or @id (schema.org
// ImageObject, Person).
func stringify(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case json.Number:
		return []string{t.String()}
	case bool:
		return []string{strconv.FormatBool(t)}
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
