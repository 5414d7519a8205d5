package site

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"golang.org/x/net/html"
)

// An imageRule is a compiled config.ImageRule: where a layout finds every
// image of a story, each with its caption.
type imageRule struct {
	from source
	// url and caption are paths into each value of a json: or ldjson:
	// source; nil tries the defaults.
	url, caption []string
	// urlPart and captionPart are what a css: source reads inside each
	// element it matches.
	urlPart, captionPart part
}

// A part is what an image rule reads inside an element: the text or an
// attribute ("imgsrc": the best image URL) of the first match of sel,
// which may be the element itself, or of the element when sel is nil.
type part struct {
	sel  cascadia.Selector
	attr string
}

var (
	defaultURLKeys     = [][]string{{"url"}, {"contentUrl"}}
	defaultCaptionKeys = [][]string{{"caption"}}
)

func compileImageRule(p string, c config.ImageRule, errs *[]error) (imageRule, bool) {
	var r imageRule
	src, err := parseSource(c.From)
	if err != nil {
		*errs = append(*errs, &config.FieldError{Path: p + ".from", Err: err})
		return r, false
	}
	r.from = src
	switch {
	case src.filter != nil:
		config.BadField(errs, p+".from", "%q: an image source takes no filter", c.From)
		return r, false
	case src.kind == "css":
		if src.attr != "" {
			config.BadField(errs, p+".from", "%q: an image source selects elements; put the attribute in url or caption", c.From)
			return r, false
		}
		url, uerr := parsePart(cmp.Or(c.URL, "@imgsrc"))
		caption, cerr := parsePart(c.Caption)
		if uerr != nil {
			config.BadField(errs, p+".url", "%v", uerr)
		}
		if cerr != nil {
			config.BadField(errs, p+".caption", "%v", cerr)
		}
		r.urlPart, r.captionPart = url, caption
		return r, uerr == nil && cerr == nil
	case src.kind == "json" || src.kind == "ldjson":
		for _, f := range []struct {
			name, raw string
			path      *[]string
		}{{"url", c.URL, &r.url}, {"caption", c.Caption, &r.caption}} {
			if f.raw == "" {
				continue
			}
			*f.path = strings.Split(f.raw, ".")
			for _, seg := range *f.path {
				if seg == "" {
					config.BadField(errs, p+"."+f.name, "%q: empty path segment", f.raw)
					return r, false
				}
			}
		}
		return r, true
	}
	config.BadField(errs, p+".from", "%q: want a css:, json: or ldjson: source", c.From)
	return r, false
}

// parsePart reads "SELECTOR", "@ATTRIBUTE" or "SELECTOR@ATTRIBUTE"; ""
// is the zero part, which reads nothing.
func parsePart(raw string) (part, error) {
	var pt part
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return pt, nil
	}
	sel := raw
	if i := strings.LastIndex(raw, "@"); i >= 0 && attrName.MatchString(raw[i+1:]) {
		pt.attr = raw[i+1:]
		sel = strings.TrimSpace(raw[:i])
	}
	if sel != "" {
		g, err := cascadia.Compile(sel)
		if err != nil {
			return pt, fmt.Errorf("%q: bad CSS selector: %w", raw, err)
		}
		pt.sel = g
	}
	return pt, nil
}

// read is the part's value inside n, or "" when there is none.
func (pt part) read(n *html.Node) string {
	if pt.sel == nil && pt.attr == "" {
		return ""
	}
	if pt.sel != nil {
		if n = pt.sel.MatchFirst(n); n == nil {
			return ""
		}
	}
	s := goquery.NewDocumentFromNode(n).Selection
	switch pt.attr {
	case "":
		return s.Text()
	case "imgsrc":
		return imgSrc(s)
	}
	v, _ := s.Attr(pt.attr)
	return v
}

// images are the images the layout's rules find on p, absolute, in rule
// then page order, each once (as converter.ImageKey compares URLs); an
// image found again gives its caption when the first find had none.
func (s *Site) images(p *page, rules []imageRule, base *url.URL) []converter.Image {
	var out []converter.Image
	index := map[string]int{}
	add := func(rawURL, caption string) {
		u := converter.ResolveURL(base, converter.CleanText(rawURL))
		if u == "" {
			return
		}
		caption = converter.CleanText(caption)
		k := converter.ImageKey(u, s.rewrites)
		if i, ok := index[k]; ok {
			if out[i].Caption == "" {
				out[i].Caption = caption
			}
			return
		}
		index[k] = len(out)
		out = append(out, converter.Image{URL: u, Caption: caption})
	}
	for _, r := range rules {
		switch r.from.kind {
		case "css":
			for _, n := range r.from.sel.MatchAll(p.doc.Nodes[0]) {
				add(r.urlPart.read(n), r.captionPart.read(n))
			}
		case "json", "ldjson":
			root := any(p.article())
			if r.from.kind == "json" {
				root = p.hydration
			}
			if root == nil {
				continue
			}
			for _, v := range elementsAt(root, r.from.path) {
				switch t := v.(type) {
				case string:
					add(t, "")
				case map[string]any:
					add(firstAt(t, r.url, defaultURLKeys), firstAt(t, r.caption, defaultCaptionKeys))
				}
			}
		}
	}
	return out
}

// elementsAt walks path from v, as stringsAt does, and returns what it
// reaches with arrays spread into their elements.
func elementsAt(v any, path []string) []any {
	vals := []any{v}
	for _, seg := range path {
		var next []any
		for _, cur := range vals {
			next = append(next, step(cur, seg)...)
		}
		vals = next
	}
	var out []any
	for _, v := range vals {
		if a, ok := v.([]any); ok {
			out = append(out, a...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// firstAt is the first string that is not blank at path in m, or at the
// first of defaults that has one when path is nil.
func firstAt(m map[string]any, path []string, defaults [][]string) string {
	paths := defaults
	if path != nil {
		paths = [][]string{path}
	}
	for _, p := range paths {
		for _, v := range stringsAt(m, p) {
			if strings.TrimSpace(v) != "" {
				return v
			}
		}
	}
	return ""
}

// captionOf is the caption images give the image u, or "".
func (s *Site) captionOf(images []converter.Image, u string) string {
	k := converter.ImageKey(u, s.rewrites)
	for _, im := range images {
		if converter.ImageKey(im.URL, s.rewrites) == k {
			return im.Caption
		}
	}
	return ""
}

// truncated reports whether any of the truncation signals srcs is on p.
func (p *page) truncated(srcs []source) bool {
	for _, src := range srcs {
		if p.holds(src) {
			return true
		}
	}
	return false
}

// holds reports whether the truncation signal src is on p: a css: source
// without attribute or filter matches an element; any other source yields
// a value that is not blank, after its filter.
func (p *page) holds(src source) bool {
	if src.kind == "css" && src.attr == "" && src.filter == nil {
		return src.sel.MatchFirst(p.doc.Nodes[0]) != nil
	}
	for _, v := range p.values(src, false, true) {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}
