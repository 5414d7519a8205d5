package site

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// readFigure maps the images of a <figure> to the text of its <figcaption>.
func (m *pageMeta) readFigure(fig *html.Node, base *url.URL) {
	var caption *html.Node
	walkElements(fig, func(n *html.Node) bool {
		if n.DataAtom == atom.Figcaption && caption == nil {
			caption = n
		}
		return true
	})
	if caption != nil {
		m.readCaption(fig, caption, base)
	}
}

// readCaption maps the images under box, but those of the caption
// element, to the caption's text: a <figure>'s <figcaption>, or a
// WordPress-style "wp-caption-text" beside its image.
func (m *pageMeta) readCaption(box, caption *html.Node, base *url.URL) {
	text := converter.CleanText(spacedText(caption))
	if text == "" || utf8.RuneCountInString(text) > 500 {
		return
	}
	walkElements(box, func(n *html.Node) bool {
		if n == caption {
			return false
		}
		if n.DataAtom == atom.Img {
			for _, k := range imageKeys(converter.ResolveURL(base, converter.ImageURL(n)), converter.ResolveURL(base, attr(n, "src"))) {
				if _, ok := m.captions[k]; !ok {
					m.captions[k] = text
				}
			}
		}
		return true
	})
}

// imageKeys are the keys under which a picture's URLs are looked up: the
// URL without query (converter.ImageKey), and its file name without the
// size suffix CMSs add to a copy ("photo-1200x630.jpg"), when that name
// is long enough to tell pictures apart.
func imageKeys(urls ...string) []string {
	var keys []string
	for _, u := range urls {
		k := converter.ImageKey(u, nil)
		if k == "" {
			continue
		}
		keys = append(keys, k)
		if s := imageStem(k); s != "" {
			keys = append(keys, "stem:"+s)
		}
	}
	return keys
}

var sizeSuffix = regexp.MustCompile(`[-_](\d{2,4}x\d{2,4}|scaled|large|medium|small|thumb(nail)?)$`)

func imageStem(key string) string {
	name := key[strings.LastIndexByte(key, '/')+1:]
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	name = strings.ToLower(sizeSuffix.ReplaceAllString(name, ""))
	if len(name) < 8 {
		return ""
	}
	return name
}

// image is the page's lead image: Readability's pick (og:image and its
// kin), else the JSON-LD image, else an image meta; with its caption from
// the JSON-LD ImageObject or from the <figure> that shows it in the page.
func (m pageMeta) image(base *url.URL, readability string) converter.Image {
	var img converter.Image
	if readability != "" {
		img.URL = readability
	}
	for _, c := range m.images {
		u := converter.ResolveURL(base, c.URL)
		if u == "" {
			continue
		}
		if img.URL == "" {
			img.URL = u
		}
		if img.Caption == "" && c.Caption != "" && sameImage(u, img.URL) {
			img.Caption = c.Caption
		}
	}
	if img.URL == "" {
		return img
	}
	if img.Caption == "" {
		for _, k := range imageKeys(img.URL) {
			if c, ok := m.captions[k]; ok {
				img.Caption = c
				break
			}
		}
	}
	img.Caption = converter.CleanText(img.Caption)
	return img
}

func sameImage(a, b string) bool {
	ka, kb := imageKeys(a), imageKeys(b)
	for _, k := range ka {
		if slices.Contains(kb, k) {
			return true
		}
	}
	return false
}

// langTag is a BCP 47 language tag as pages write it: "de", "de-DE",
// "zh-Hant-TW", "de_DE" (og:locale).
var langTag = regexp.MustCompile(`^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$`)

// lang is the page's language as a BCP 47 tag: the first well-formed one
// of <html lang>, JSON-LD inLanguage, Content-Language, og:locale and
// Readability's, in its usual case ("de-DE", "zh-Hant"). "" when the page
// declares none.
func (m pageMeta) lang(readability string) string {
	for _, v := range append(slices.Clone(m.langs), readability) {
		// Content-Language may list several: the first is the main one.
		v, _, _ = strings.Cut(strings.TrimSpace(v), ",")
		v = strings.TrimSpace(v)
		if !langTag.MatchString(v) {
			continue
		}
		parts := strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == '_' })
		parts[0] = strings.ToLower(parts[0])
		for i, p := range parts[1:] {
			switch len(p) {
			case 2:
				parts[i+1] = strings.ToUpper(p)
			case 4:
				parts[i+1] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
			default:
				parts[i+1] = strings.ToLower(p)
			}
		}
		return strings.Join(parts, "-")
	}
	return ""
}
