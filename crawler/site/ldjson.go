package site

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/PuerkitoBio/goquery"
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
