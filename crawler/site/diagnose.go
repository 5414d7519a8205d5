package site

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/crawler/internal/timeparse"
	"golang.org/x/net/html"
)

// Diagnosis is how Extract treats one page, told for the person fixing a
// site's rules: which layouts apply to the page, which one gave the
// article, and where each field of the article came from.
type Diagnosis struct {
	URL string `json:"url"`
	// Site is the name of the site rules of the page's host; "" when no
	// site has rules for it.
	Site string `json:"site,omitempty"`
	// Layouts are the site's layouts, in order.
	Layouts []LayoutCheck `json:"layouts,omitempty"`
	// Extractor names what gave the article, as Article.Extractor does:
	// "zaobao/hk", "generic", "generic (no zaobao layout matched)"; "" when
	// nothing did.
	Extractor string `json:"extractor,omitempty"`
	// Fields are the article's fields in a fixed order (DiagnosedFields),
	// each with the source that gave it; empty when there is no article.
	Fields []Field `json:"fields,omitempty"`
	// Truncated reports that a paywall prompt was found and removed.
	Truncated bool `json:"truncated"`
	// Article is the article, as Extract gives it.
	Article converter.Article `json:"-"`
	// Err is why there is no article (Extract's error), else nil.
	Err error `json:"-"`
}

// LayoutCheck is what one layout makes of the page.
type LayoutCheck struct {
	Name string `json:"name"`
	// Applies reports that the page passes the layout's when selector and
	// has its hydration data (a layout with neither applies to every page).
	Applies bool `json:"applies"`
	// Tried reports that Extract tried the layout: it comes before the one
	// that gave the article, or none did.
	Tried bool `json:"tried"`
	// Yields reports that the layout gave the article.
	Yields bool `json:"yields"`
	// Why says why the layout does not apply or gave no article.
	Why string `json:"why,omitempty"`
	// Lacks are the required fields (RequiredFields) none of the layout's
	// sources gives, when it applies but gave no article: the rules to fix.
	Lacks []string `json:"lacks,omitempty"`
	// Fields are, for a layout that applies but gave no article, what each
	// of its fields finds on the page: which rules still work.
	Fields []Field `json:"fields,omitempty"`
}

// RequiredFields are the fields without which a layout gives no article.
var RequiredFields = []string{"title", "published", "body"}

// Field is one field of the article and where it came from.
type Field struct {
	Name string `json:"name"`
	// Source is the layout's source that gave the value, as written in
	// the config ("json:headline"); "url" for what the site's section
	// pattern reads in the URL, "body" for a caption found next to the
	// image in the body, "generic" for the generic extractor; "" when
	// the field has no value.
	Source string `json:"source,omitempty"`
	Value  string `json:"value,omitempty"`
	// Tried are the layout's sources for the field, when none gave a value.
	Tried []string `json:"tried,omitempty"`
}

// Missing reports that the field has no value.
func (f Field) Missing() bool { return f.Source == "" }

// DiagnosedFields are the fields a Diagnosis reports, in its order.
var DiagnosedFields = []string{"title", "published", "modified", "author", "keywords", "section", "image", "image_caption", "images", "body"}

// Missing are the names of the fields without a value.
func (d *Diagnosis) Missing() []string {
	var out []string
	for _, f := range d.Fields {
		if f.Missing() {
			out = append(out, f.Name)
		}
	}
	return out
}

// Diagnose extracts the article of page as Extract does, with the same
// functions, and tells how: for each layout of the page's site, whether
// it applies and why not; for the layout that gave the article, the
// source of each field. It is pure, as Extract is.
func Diagnose(page []byte, pageURL string, sites []*Site) Diagnosis {
	return DiagnoseWith(page, pageURL, sites, Hints{})
}

// DiagnoseWith is Diagnose with the dates ExtractWith falls back on, so
// that it tells what a run would do with a page that prints no date.
func DiagnoseWith(page []byte, pageURL string, sites []*Site, hints Hints) Diagnosis {
	d := Diagnosis{URL: pageURL}
	u, ok := httpurl.Parse(strings.TrimSpace(pageURL))
	if !ok {
		d.Err = fmt.Errorf("extract %q: %w", pageURL, ErrBadURL)
		return d
	}
	d.URL = u.String()
	page = charset.Decoded(page)
	t, err := parseHTML(page)
	if err != nil {
		d.Err = fmt.Errorf("extract %s: %w", u, err)
		return d
	}
	ee := &ExtractError{URL: u.String()}
	s := Find(sites, u)
	if s != nil {
		d.Site = s.cfg.Name
		for _, l := range s.layouts {
			c := LayoutCheck{Name: l.cfg.Name}
			c.Applies, c.Why = applies(t, l)
			if d.Extractor == "" {
				c.Tried = true
				a, err := s.extractLayout(page, t, u, l)
				if err == nil {
					c.Yields = true
					d.Article, d.Extractor = a, a.Extractor
					d.Fields = s.explain(t, u, l, a)
				} else {
					ee.Tried = append(ee.Tried, s.cfg.Name+"/"+l.cfg.Name+": "+err.Error())
					if errors.Is(err, ErrMalformedPage) {
						ee.Err = ErrMalformedPage
					}
					c.Why = err.Error()
					if c.Applies {
						c.Fields = s.explain(t, u, l, a)
						c.Lacks = lacks(c.Fields)
					}
				}
			}
			d.Layouts = append(d.Layouts, c)
		}
	}
	if d.Extractor == "" {
		a, err := fromGeneric(page, u, t, s, hints)
		if err != nil {
			ee.Tried = append(ee.Tried, "generic: "+err.Error())
			d.Err = ee
			return d
		}
		if s != nil && len(s.layouts) > 0 {
			a.Extractor = "generic (no " + s.cfg.Name + " layout matched)"
		}
		d.Article, d.Extractor = a, a.Extractor
		d.Fields = explainGeneric(a)
	}
	d.Truncated = d.Article.Truncated
	return d
}

// applies reports whether layout l applies to the page, with the checks
// of extractLayout, and says why not.
func applies(t *tree, l layout) (bool, string) {
	if l.hydration != nil {
		if _, err := findHydration(t.scripts, l.hydration); err != nil {
			return false, err.Error()
		}
	}
	if l.when != nil && l.when.MatchFirst(t.doc.Nodes[0]) == nil {
		return false, fmt.Sprintf("page does not match %q", l.cfg.When)
	}
	return true, ""
}

// explain finds the source of each field of a, the article layout l gave,
// by the rules extractLayout follows: the first source with a usable
// value wins.
func (s *Site) explain(t *tree, u *url.URL, l layout, a converter.Article) []Field {
	p := &page{tree: t}
	if l.hydration != nil {
		p.hydration, _ = findHydration(t.scripts, l.hydration)
	}
	names := p.siteNames(s)
	// first is the first source of field giving a value ok accepts.
	first := func(field string, value func(src source) (string, bool)) Field {
		f := Field{Name: field}
		for _, src := range l.fields[field] {
			if v, ok := value(src); ok {
				f.Source, f.Value = src.raw, v
				return f
			}
		}
		for _, src := range l.fields[field] {
			f.Tried = append(f.Tried, src.raw)
		}
		return f
	}
	text := func(src source) (string, bool) {
		v := p.first(src)
		return v, v != ""
	}
	var published time.Time
	fields := []Field{
		first("title", func(src source) (string, bool) {
			h := p.firstHeadline([]source{src}, names)
			return h, h != ""
		}),
		first("published", func(src source) (string, bool) {
			for _, v := range p.values(src, false, false) {
				if tm, err := timeparse.Parse(v, s.loc); err == nil {
					published = tm
					return tm.Format(time.RFC3339), true
				}
			}
			return "", false
		}),
		first("modified", func(src source) (string, bool) {
			for _, v := range p.values(src, false, false) {
				if tm, err := timeparse.Parse(v, s.loc); err == nil && !tm.Before(published) {
					return tm.Format(time.RFC3339), true
				}
			}
			return "", false
		}),
		first("author", text),
		first("keywords", func(src source) (string, bool) {
			k := splitKeywords(p.values(src, false, true))
			return strings.Join(k, ", "), len(k) > 0
		}),
	}
	// The first author is taken, and dropped when it is the site's name.
	if f := &fields[3]; f.Value == s.cfg.Title && !f.Missing() {
		*f = Field{Name: "author", Tried: []string{f.Source + " (the site's own name)"}}
	}
	if v := converter.CleanText(s.match(s.section, a.URL)); v != "" {
		fields = append(fields, Field{Name: "section", Source: "url", Value: v})
	} else {
		fields = append(fields, first("section", text))
	}
	image := first("image", text)
	image.Value = converter.ResolveURL(u, image.Value)
	caption := Field{Name: "image_caption"}
	if !image.Missing() {
		if caption = first("image_caption", text); caption.Missing() && a.Image.Caption != "" {
			caption = Field{Name: "image_caption", Source: "body", Value: a.Image.Caption}
		}
	}
	body := first("body", func(src source) (string, bool) {
		bodies, _ := p.bodies(src)
		for _, b := range bodies {
			if _, err := s.cleanBody(b, l); err == nil {
				if a.Body != nil {
					b = a.Body // with the gallery extractLayout adds
				}
				return bodySize(b), true
			}
		}
		return "", false
	})
	return append(fields, image, caption, imagesField(l, a), body)
}

// imagesField tells how many images the layout's images: rules gave
// (every rule's images are kept, merged), with the rules as its source.
func imagesField(l layout, a converter.Article) Field {
	f := Field{Name: "images"}
	var rules []string
	for _, r := range l.images {
		rules = append(rules, r.from.raw)
	}
	if len(a.Images) == 0 {
		f.Tried = rules
		return f
	}
	f.Source, f.Value = "images: "+strings.Join(rules, ", "), plural(len(a.Images), "image")
	return f
}

// lacks are the required fields without a source in fields.
func lacks(fields []Field) []string {
	var out []string
	for _, f := range fields {
		if f.Missing() && slices.Contains(RequiredFields, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// explainGeneric gives every field of a, made by the generic extractor,
// the source "generic".
func explainGeneric(a converter.Article) []Field {
	var published, modified string
	if !a.Published.IsZero() {
		published = a.Published.Format(time.RFC3339)
	}
	if !a.Modified.IsZero() {
		modified = a.Modified.Format(time.RFC3339)
	}
	images := ""
	if len(a.Images) > 0 {
		images = plural(len(a.Images), "image")
	}
	values := []string{a.Title, published, modified, a.Author, strings.Join(a.Keywords, ", "), a.Section, a.Image.URL, a.Image.Caption, images, bodySize(a.Body)}
	fields := make([]Field, len(DiagnosedFields))
	for i, name := range DiagnosedFields {
		fields[i] = Field{Name: name, Value: values[i]}
		if values[i] != "" {
			fields[i].Source = "generic"
			if name == "published" && a.DateSource != "" {
				// Where the date came from: an estimate shows as one.
				fields[i].Source = "generic: " + a.DateSource
			}
		}
	}
	return fields
}

// bodySize describes a body by what a reader gets: characters of text,
// paragraphs, images; "" for an empty body.
func bodySize(body *html.Node) string {
	if body == nil {
		return ""
	}
	var chars, paras, imgs int
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			chars += utf8.RuneCountInString(strings.TrimSpace(n.Data))
		case n.Type == html.ElementNode && n.Data == "p":
			paras++
		case n.Type == html.ElementNode && n.Data == "img":
			imgs++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(body)
	if chars == 0 && imgs == 0 {
		return ""
	}
	return fmt.Sprintf("%s, %s, %s", plural(chars, "character"), plural(paras, "paragraph"), plural(imgs, "image"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
