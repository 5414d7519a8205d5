package site

import (
	"regexp"
	"slices"
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
	sources := append(slices.Clone(m.authors), []string{readability})
	for _, b := range m.bylines {
		sources = append(sources, []string{b})
	}
	for _, b := range m.printed {
		if n := m.bylineName(b); isNameLike(n) {
			sources = append(sources, []string{n})
		}
	}
	for _, group := range sources {
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
	// bylineTail is what follows the name: a date ("am 08.12.2022",
	// "| 5. März 2020", "le 07 Mai"), the illustrator, the photographer.
	bylineTail = regexp.MustCompile(`(?i)(?:\s*[,|·•–—-]\s*|\s+)(?:(?:am|on|le|el|vom|um|at|updated|aktualisiert|published|veröffentlicht)\s+)?(?:\d|` + dateWords + `).*$|\d{1,2}\.\s.*$|\s+(?:illustrations?|illustrationen|fotos?|photos?|bilder)\b.*$`)
	// bylineAt is "am", "on", "le" after the name, before a date.
	bylineAt = regexp.MustCompile(`\s+(?:am|on|le|el|um|at)\s.*$`)
	// dateWords start a date after a name: a month before a number, a day
	// of the week.
	dateWords = `(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|mär|mai|okt|dez|janv|févr|avr|juil|déc|ene|abr|ago|dic|` +
		`january|february|march|april|june|july|august|september|october|november|december|januar|februar|märz|juni|juli|oktober|dezember|` +
		`janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre)\.?\s*\d|` +
		`(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|` +
		`lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)[\s,])`
	// gluedLabel is "By" run into the name: "ByAlex Bozarjian".
	gluedLabel = regexp.MustCompile(`^(?:By|Von|Par|Por|Veröffentlicht von|Posted by)(\p{Lu})`)
	// lateLabel is a label after a date: "Posted on May 2, 2020 by Jane".
	lateLabel = regexp.MustCompile(`(?i)^.*\d.*\s(?:by|von|par|por)\s+`)
	// notAName are bylines that name no one, lower case.
	notAName = []string{"username", "admin", "administrator", "no author", "unknown", "anonymous", "posted", "published", "publiziert am", "veröffentlicht am", "by", "von", "author", "autor", "staff", "guest", "null", "none"}
)

// bylineName cleans a byline candidate into a name: the label and a date
// around it dropped, "" when what is left is no name (a URL, an e-mail
// address, the site's name, "Username", a paragraph).
func (m pageMeta) bylineName(v string) string {
	v = converter.CleanText(v)
	v = lateLabel.ReplaceAllString(gluedLabel.ReplaceAllString(v, "$1"), "")
	for range 2 {
		v = strings.TrimSpace(bylineLabel.ReplaceAllString(v, ""))
	}
	if loc := labelColon.FindStringIndex(v); loc != nil && len(strings.Fields(v[:loc[1]])) <= 3 {
		v = v[loc[1]:]
	}
	v = bylineAt.ReplaceAllString(bylineTail.ReplaceAllString(v, ""), "")
	v = strings.TrimFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ')' && r != '.' })
	switch {
	case v == "", !strings.ContainsFunc(v, unicode.IsLetter), unicode.IsDigit([]rune(v)[0]),
		strings.Contains(v, "://"), strings.HasPrefix(strings.ToLower(v), "www."), strings.Contains(v, "@"),
		strings.Contains(v, "/") && strings.Contains(v, ".") && !strings.Contains(v, " "), // gothamist.com/staff/x
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
	s := strings.ToLower(attr(n, "class") + " " + attr(n, "id") + " " + attr(n, "data-testid"))
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

// ldObjects decodes the ld+json blocks of p, repairing invalid JSON as
// ldjsonDates does; blocks past repair are skipped.
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

// isPerson reports whether a JSON-LD @type names a person.
func isPerson(v any) bool {
	switch t := v.(type) {
	case string:
		return t == "Person"
	case []any:
		return slices.ContainsFunc(t, isPerson)
	}
	return false
}

// printedByline is a line that is a byline by its words alone: "Von
// Daniela Obers", "By Jane Doe", "Text und Interview: Harald Willenbrock".
var printedByline = regexp.MustCompile(`^(?:[Bb]y|[Vv]on|[Pp]ar|[Pp]or|[Dd]oor|[Pp]rzez|Text(?: und [^:]{1,20})?(?: von|:)|Autor(?:in)?:|Author:|Auteur\s?:|作者[:：]|記者[:：]|记者[:：])\s*\p{Lu}`)

// bylineElements are the elements an unmarked byline stands alone in.
var bylineElements = map[atom.Atom]bool{atom.P: true, atom.Div: true, atom.Span: true, atom.Em: true, atom.I: true,
	atom.B: true, atom.Strong: true, atom.Small: true, atom.Address: true, atom.Li: true}

// shortText is the cleaned text under n when it is at most limit bytes,
// found without reading more of n than that.
func shortText(n *html.Node, limit int) (string, bool) {
	var b strings.Builder
	ok := true
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && ok; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
				ok = b.Len() <= limit*2 // white space folds later
			case c.Type == html.ElementNode && c.DataAtom != atom.Script && c.DataAtom != atom.Style:
				b.WriteByte(' ')
				walk(c)
			}
		}
	}
	walk(n)
	t := converter.CleanText(b.String())
	return t, ok && t != "" && len(t) <= limit
}

// isNameLike reports whether s reads as people's names: a few words, each
// capitalised or a particle that joins names ("und", "de", "von").
func isNameLike(s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '/' })
	if len(words) == 0 || len(words) > 6 {
		return false
	}
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !unicode.Is(unicode.Han, r) && !slices.Contains(nameParticles, w) {
			return false
		}
	}
	return true
}

var nameParticles = []string{"und", "and", "&", "y", "et", "e", "i", "de", "da", "di", "du", "van", "von", "der", "den", "del", "la", "le", "zu"}
