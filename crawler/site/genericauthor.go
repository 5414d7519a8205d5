package site

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// author is the page's author as its byline names them: the first
// candidate that is a name once cleaned (bylineName), from the structured
// data, then Readability, then the printed bylines. A name that looks
// like a user name ("christian.stadtfeld") gives way to a printed one.
// "" when the page names none.
func (m pageMeta) author(readability string) string {
	var weak string
	for _, group := range [][]string{m.authors, {readability}, m.bylines} {
		var names []string
		for _, v := range group {
			if n := m.bylineName(v); n != "" && !containsFold(names, n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		// A JSON-LD author list, or several author metas.
		joined := strings.Join(names, ", ")
		if !isUserName(joined) {
			return joined
		}
		if weak == "" {
			weak = joined
		}
	}
	return weak
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isUserName reports whether an author is a login rather than a name:
// one word of lower-case letters with a dot, underscore or digit.
func isUserName(s string) bool {
	return !strings.ContainsRune(s, ' ') && strings.ContainsAny(s, "._0123456789") && strings.ToLower(s) == s
}

var (
	// bylineLabel is the word before the name: "By", "Von", "Par",
	// "Text:", "Posted by", "作者：", "記者", "文／".
	bylineLabel = regexp.MustCompile(`(?i)^(?:(?:written|posted|published|geschrieben|verfasst|veröffentlicht|publiziert|ein\s+(?:gast)?(?:beitrag|artikel))\s+(?:by|von)\b|by|von|vom|par|por|door|przez|av|af|text|autor(?:in)?|author|auteur|作者|記者|记者|撰文|撰稿|文|編輯|编辑|責任編輯|责任编辑)(?:\s*[:：/／|｜]\s*|\s+)`)
	// labelColon is a short label ending in a colon: "Text und Interview: ".
	labelColon = regexp.MustCompile(`^[^:：\d]{1,30}[:：]\s*`)
	// bylineDate is a date after the name: "am 08.12.2022", "| 5. März".
	bylineDate = regexp.MustCompile(`(?i)\s*(?:[,|·•–—-]\s*)?(?:am|on|le|el|vom|updated|aktualisiert|published|veröffentlicht)?\s*\d{1,4}[./-]\s?\d{1,2}[./-]\s?\d{1,4}.*$`)
	// notAName are bylines that name no one, lower case.
	notAName = []string{"username", "admin", "administrator", "no author", "unknown", "anonymous", "posted", "published", "publiziert am", "veröffentlicht am", "by", "von", "author", "autor", "staff", "guest"}
)

// bylineName cleans a byline candidate into a name: the label and a date
// around it dropped, "" when what is left is no name (a URL, an e-mail
// address, the site's name, "Username", a paragraph).
func (m pageMeta) bylineName(v string) string {
	v = converter.CleanText(v)
	for range 2 {
		v = strings.TrimSpace(bylineLabel.ReplaceAllString(v, ""))
	}
	if loc := labelColon.FindStringIndex(v); loc != nil && len(strings.Fields(v[:loc[1]])) <= 3 {
		v = v[loc[1]:]
	}
	v = bylineDate.ReplaceAllString(v, "")
	v = strings.TrimFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ')' && r != '.' })
	switch {
	case v == "", !strings.ContainsFunc(v, unicode.IsLetter),
		strings.Contains(v, "://"), strings.HasPrefix(strings.ToLower(v), "www."), strings.Contains(v, "@"),
		utf8.RuneCountInString(v) > 100, len(strings.Fields(v)) > 12,
		containsFold(notAName, v), m.isSiteOwnName(v):
		return ""
	}
	return v
}

// isSiteOwnName reports whether a byline is the site's name or its host:
// the publisher, not an author.
func (m pageMeta) isSiteOwnName(v string) bool {
	s := squash(v)
	if s == squash(m.host) {
		return true
	}
	for _, n := range m.names {
		if squash(n) == s {
			return true
		}
	}
	return false
}

// isByline reports whether n is a printed byline: a link with
// rel="author", an element with itemprop="author", or one whose class or
// id says byline or author; not inside comments, a navigation or a
// sidebar.
func isByline(n *html.Node) bool {
	if hasToken(attr(n, "rel"), "author") || hasToken(attr(n, "itemprop"), "author") {
		return !inComments(n)
	}
	if n.DataAtom == atom.Meta || n.DataAtom == atom.Img || n.DataAtom == atom.Link || n.DataAtom == atom.Body || n.DataAtom == atom.Html {
		return false
	}
	s := strings.ToLower(attr(n, "class") + " " + attr(n, "id"))
	if !strings.Contains(s, "byline") && !strings.Contains(s, "author") && !strings.Contains(s, "autor") {
		return false
	}
	for _, no := range []string{"avatar", "comment", "bio", "about", "description", "image", "photo", "box", "social"} {
		if strings.Contains(s, no) {
			return false
		}
	}
	return !inComments(n) && !hasAncestor(n, atom.Nav, atom.Aside)
}

// bylineText is the name a byline element shows: its itemprop="name" when
// it has one, else its text; "" when that is too long to be a byline.
func bylineText(n *html.Node) string {
	var name string
	walkElements(n, func(c *html.Node) bool {
		if name == "" && hasToken(attr(c, "itemprop"), "name") {
			name = converter.CleanText(attr(c, "content"))
			if name == "" {
				name = converter.CleanText(spacedText(c))
			}
		}
		return name == ""
	})
	if name != "" {
		return name
	}
	if v := converter.CleanText(attr(n, "content")); v != "" {
		return v
	}
	t := converter.CleanText(spacedText(n))
	if utf8.RuneCountInString(t) > 150 {
		return ""
	}
	return t
}

func hasToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}

func inComments(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && strings.Contains(strings.ToLower(attr(p, "class")+" "+attr(p, "id")), "comment") {
			return true
		}
	}
	return false
}

// ldObjs are the objects of a page's ld+json blocks, also inside arrays
// and @graph, in page order.
type ldObjs []map[string]any

func ldObjects(p *page) ldObjs {
	var objs ldObjs
	var add func(v any)
	add = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				add(e)
			}
		case map[string]any:
			objs = append(objs, t)
			add(t["@graph"])
		}
	}
	for _, n := range p.scripts {
		if !isLDJSON(n) {
			continue
		}
		var v any
		code := nodeText(n)
		if err := decodeLenient(code, &v); err != nil {
			if err := decodeLenient(withoutTrailingCommas(code), &v); err != nil {
				continue
			}
		}
		add(v)
	}
	return objs
}

// withKey is the first object with key, an article type first.
func (objs ldObjs) withKey(key string) map[string]any {
	var first map[string]any
	for _, o := range objs {
		if _, ok := o[key]; ok {
			if isArticleType(o["@type"]) {
				return o
			}
			if first == nil {
				first = o
			}
		}
	}
	return first
}

// ofType is the first object of type typ.
func (objs ldObjs) ofType(typ string) map[string]any {
	for _, o := range objs {
		if t, ok := o["@type"].(string); ok && t == typ {
			return o
		}
	}
	return nil
}

// resolve is the object a reference {"@id": …} stands for, elsewhere in
// the page's JSON-LD; v itself when it is no reference or none is found.
func (objs ldObjs) resolve(v map[string]any) map[string]any {
	id, ok := v["@id"].(string)
	if !ok || len(v) > 1 {
		return v
	}
	for _, o := range objs {
		if oid, _ := o["@id"].(string); oid == id && len(o) > 1 {
			return o
		}
	}
	return v
}

// names are the names v gives: a string, a Person or Organization (by
// reference too), or a list of them.
func (objs ldObjs) names(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, objs.names(e)...)
		}
		return out
	case map[string]any:
		switch n := objs.resolve(t)["name"].(type) {
		case string:
			return []string{n}
		case []any:
			return objs.names(n)
		}
	}
	return nil
}

// image is the first picture v gives, with its caption: a URL, an
// ImageObject (by reference too), or a list of them.
func (objs ldObjs) image(v any) converter.Image {
	switch t := v.(type) {
	case string:
		return converter.Image{URL: t}
	case []any:
		for _, e := range t {
			if img := objs.image(e); img.URL != "" {
				return img
			}
		}
	case map[string]any:
		o := objs.resolve(t)
		u, _ := o["url"].(string)
		if u == "" {
			u, _ = o["contentUrl"].(string)
		}
		c, _ := o["caption"].(string)
		return converter.Image{URL: u, Caption: c}
	}
	return converter.Image{}
}
