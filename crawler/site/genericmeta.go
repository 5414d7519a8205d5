package site

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageMeta is what a page without rules says of itself besides its body:
// the candidates for its title, author, lead image and language, in the
// order they are trusted. readPageMeta gathers them before Readability
// changes the tree (it drops bylines and figures it judges noise);
// fromGeneric picks from them with what Readability found.
type pageMeta struct {
	titles   []string   // JSON-LD headline, og:title, twitter:title, <title>
	h1s      []string   // the text of the page's <h1>s, in page order
	authors  [][]string // from structured data: JSON-LD, then each meta
	bylines  []string   // marked: rel=author, itemprop=author, byline classes
	printed  []string   // unmarked: "Von Daniela Obers" alone in a paragraph
	images   []converter.Image
	captions map[string]string // converter.ImageKey of a figure's image → its caption
	langs    []string
	names    []string // the site's names: og:site_name, the JSON-LD publisher…
	host     string   // the page's host, without "www."
}

// Where the metas of a page name its author and its language, most
// trusted first.
var (
	authorMetas = []string{"author", "article:author", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author", "byl"}
	langMetas   = []string{"content-language", "language", "dc.language", "dcterms.language", "og:locale"}
	imageMetas  = []string{"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}
)

// maxBylines bounds the printed bylines kept: the first ones are the
// article's, later ones are teasers' and comments'.
const maxBylines = 8

// readPageMeta gathers the metadata candidates of p, fetched from u, whose
// site calls itself names. It must run before Readability.
func readPageMeta(p *page, u *url.URL, names []string) pageMeta {
	m := pageMeta{captions: map[string]string{}, host: strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")}
	metas := p.metas()
	firstOf := func(keys ...string) string {
		for _, k := range keys {
			for _, v := range metas[k] {
				if v = converter.CleanText(v); v != "" {
					return v
				}
			}
		}
		return ""
	}
	m.titles = append(m.titles, firstValue(p, "ldjson:headline"), firstOf("og:title"), firstOf("twitter:title"))
	if n := p.doc.Find("head title, title").First(); len(n.Nodes) > 0 {
		m.titles = append(m.titles, converter.CleanText(n.Text()))
	}

	ld := ldObjects(p)
	art := p.article()
	if art == nil {
		art = ld.withKey("author")
	}
	m.authors = append(m.authors, ld.names(art["author"]))
	for _, k := range authorMetas {
		m.authors = append(m.authors, metas[k])
	}
	m.names = append(m.names, names...)
	// A blog's publisher is its author: only an organization names the site.
	if pub, ok := art["publisher"].(map[string]any); !ok || !isPerson(ld.resolve(pub)["@type"]) {
		m.names = append(m.names, ld.names(art["publisher"])...)
	}
	if w := ld.ofType("WebSite"); w != nil {
		m.names = append(m.names, ld.names(w["name"])...)
	}

	if img := ld.image(art["image"]); img.URL != "" {
		m.images = append(m.images, img)
	}
	if img := firstOf(imageMetas...); img != "" {
		m.images = append(m.images, converter.Image{URL: img})
	}

	root := p.doc.Nodes[0]
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Html {
			m.langs = append(m.langs, attr(c, "lang"), attr(c, "xml:lang"))
		}
	}
	if l, ok := art["inLanguage"].(string); ok {
		m.langs = append(m.langs, l)
	}
	for _, n := range p.metaTags {
		if strings.EqualFold(attr(n, "http-equiv"), "content-language") {
			m.langs = append(m.langs, attr(n, "content"))
		}
	}
	for _, k := range langMetas {
		m.langs = append(m.langs, metas[k]...)
	}
	m.readTree(root, u)
	// A "site name" that is the page's headline (application-name set to
	// the title) is none.
	m.names = slices.DeleteFunc(m.names, func(n string) bool {
		return headlineWords(n) >= 4 && slices.ContainsFunc(m.h1s, func(h string) bool { return squash(h) == squash(n) })
	})
	return m
}

// readTree reads the <h1>s, the figures' captions and the printed bylines
// under root in one walk.
func (m *pageMeta) readTree(root *html.Node, base *url.URL) {
	walkElements(root, func(n *html.Node) bool {
		switch n.DataAtom {
		case atom.Head, atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg:
			return false
		case atom.H1:
			if h := converter.CleanText(spacedText(n)); h != "" && !isLogo(n, base) {
				m.h1s = append(m.h1s, h)
			}
		case atom.Figure:
			m.readFigure(n, base)
		}
		if len(m.bylines) < maxBylines && isByline(n) {
			if v := bylineText(n); v != "" {
				m.bylines = append(m.bylines, v)
			}
			return false
		}
		if len(m.printed) < maxBylines && bylineElements[n.DataAtom] {
			if t, ok := shortText(n, 80); ok && printedByline.MatchString(t) {
				m.printed = append(m.printed, t)
				return false
			}
		}
		if cls := strings.ToLower(attr(n, "class")); strings.Contains(cls, "caption") && n.Parent != nil && n.DataAtom != atom.Figure {
			m.readCaption(n.Parent, n, base)
		}
		return true
	})
}

// title is the page's headline as its readers see it: the <h1> that one
// of the page's titles holds (whole, or as the part a separator sets off
// from the site's name or a section); else the page's one <h1> when it
// reads as a headline; else the first title with the site's name cut
// off; else, when the titles are only the site's name, the first <h1>.
// "" when none holds a headline.
func (m pageMeta) title(readability string) string {
	var titles, h1s []string
	named := false // some title names the site and nothing else
	for _, t := range append(slices.Clone(m.titles), readability) {
		// Some sites escape their titles twice: "&#8211;" for "–".
		if strings.ContainsRune(t, '&') {
			t = html.UnescapeString(t)
		}
		t = strings.TrimRightFunc(converter.CleanText(t), isTitleSeparator)
		if headline(t, m.names) == "" || m.isSiteOwnName(t) {
			named = named || squash(t) != ""
			continue
		}
		titles = append(titles, t)
	}
	for _, h := range m.h1s {
		if headline(h, m.names) != "" && !m.isSiteOwnName(h) {
			h1s = append(h1s, h)
		}
	}
	for _, t := range titles {
		for _, h := range h1s {
			if part := titlePart(t, h); part != "" {
				// The <h1> has the page's own quotes and dashes, unless its
				// parts run together ("Kicker" "Headline" in two <span>s).
				if len(strings.Fields(h)) == len(strings.Fields(part)) {
					return h
				}
				return part
			}
		}
	}
	var title string
	for _, t := range titles {
		if h := headline(m.withoutSiteName(t), m.names); squash(h) != "" {
			title = h
			break
		}
	}
	// The one <h1> of the page, when no title holds it, is the headline a
	// reader sees (the titles are often worded for search engines), unless
	// it is a word or two (a section's name), or is the title with a
	// kicker or a date around it.
	if len(h1s) == 1 && len(m.h1s) == 1 && headlineWords(h1s[0]) >= 3 &&
		(title == "" || !strings.Contains(squash(h1s[0]), squash(title))) {
		return h1s[0]
	}
	if title == "" && named && len(h1s) > 0 {
		return h1s[0]
	}
	return title
}

// titleSeparator sets a headline apart from the site's name or a section
// in a <title>: "Headline | Site", "Site - Headline", "Headline – Site",
// "Headline » Blog Archive", "Section: Headline", "标题_栏目_网站",
// "标题｜网站".
var titleSeparator = regexp.MustCompile(`\s+(?:[|\-–—»«›‹·•/~*ǀ:]|::)\s+|[:：]\s+|\s*[｜_]\s*`)

// cjkSeparator parts a Chinese or Japanese title, which puts no spaces
// around its separators: "标题-新华网", "NEWS WEB EASY|…".
var cjkSeparator = regexp.MustCompile(`\s*(?:[|\-–—»«›‹·•/~*ǀ:｜_]|::)\s*|[:：]\s*`)

// titleParts splits a title at its separators; seps[i] is the separator
// after parts[i].
func titleParts(t string) (parts, seps []string) {
	last := 0
	re := titleSeparator
	if strings.ContainsFunc(t, isCJK) {
		re = cjkSeparator
	}
	for _, loc := range re.FindAllStringIndex(t, 16) {
		sep := t[loc[0]:loc[1]]
		// "_" parts a Chinese title only: elsewhere it is in names.
		if strings.TrimSpace(sep) == "_" && re == titleSeparator {
			continue
		}
		parts = append(parts, t[last:loc[0]])
		seps = append(seps, sep)
		last = loc[1]
	}
	return append(parts, t[last:]), seps
}

// titlePart is the part of title, whole or between separators, that is
// the headline h (letters and digits compared, case ignored); "" when
// there is none.
func titlePart(title, h string) string {
	want := squash(h)
	if want == "" || title == "" {
		return ""
	}
	if squash(title) == want {
		return title
	}
	parts, seps := titleParts(title)
	for i := range parts {
		var b strings.Builder
		for j := i; j < len(parts); j++ {
			if j > i {
				b.WriteString(seps[j-1])
			}
			b.WriteString(parts[j])
			if s := squash(b.String()); s == want {
				return strings.TrimSpace(b.String())
			} else if len(s) > len(want) {
				break
			}
		}
	}
	return ""
}

// withoutSiteName is title without the parts at either end that are the
// site's name (or nothing but symbols): "Headline | Site" and
// "Site: Headline" become "Headline". A title that is nothing else stays
// as it is.
func (m pageMeta) withoutSiteName(title string) string {
	parts, seps := titleParts(converter.CleanText(title))
	from, to := 0, len(parts)
	// The site's name and what follows it: "Headline - Site - Slogan".
	for i := len(parts) - 1; i > 0; i-- {
		if m.isSiteName(parts[i]) {
			to = i
		}
	}
	for to > 1 && squash(parts[to-1]) == "" {
		to--
	}
	// Before the headline: "Site - Headline", "Site » Headline".
	for i := 0; i < to-1; i++ {
		if m.isSiteName(parts[i]) {
			from = i + 1
		}
	}
	if from == 0 && to == len(parts) {
		return title
	}
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(seps[i-1])
		}
		b.WriteString(parts[i])
	}
	return strings.TrimSpace(b.String())
}

// isSiteName reports whether a part of a title (or a byline) names the
// site: one of its names, its host ("Popkultur.de"), or a short name
// holding the host's main label ("St.Galler Tagblatt" on tagblatt.ch). A
// part with no letter or digit (stars, dashes) counts too.
func (m pageMeta) isSiteName(part string) bool {
	s := squash(part)
	if s == "" {
		return true
	}
	for _, n := range m.names {
		if squash(n) == s {
			return true
		}
	}
	if s == squash(m.host) {
		return true
	}
	label := hostLabel(m.host)
	return len(label) >= 4 && strings.Contains(s, label) && len(strings.Fields(part)) <= 4
}

// hostLabel is the label of host a reader knows the site by: "tagblatt"
// for www.tagblatt.ch, "bbc" for news.bbc.co.uk.
func hostLabel(host string) string {
	labels := strings.Split(host, ".")
	n := len(labels)
	switch {
	case n < 2:
		return squash(host)
	case n >= 3 && len(labels[n-1]) == 2 && len(labels[n-2]) <= 3:
		// co.uk, com.br, gv.at
		return squash(labels[n-3])
	}
	return squash(labels[n-2])
}

// squash is s's letters and digits, lower case: what two spellings of a
// name or a headline share.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// spacedText is the text under n with a space where an element starts or
// ends, so that "<span>Kicker</span><span>Headline</span>" reads as two
// words (CleanText folds the extra spaces).
func spacedText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				return
			case atom.A, atom.B, atom.I, atom.Em, atom.Strong, atom.Span, atom.Small, atom.Sup, atom.Sub, atom.Abbr, atom.Mark, atom.Q, atom.Cite:
				// Inline: "New<b>s</b>" stays one word.
			default:
				b.WriteByte(' ')
				defer b.WriteByte(' ')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// isLogo reports whether the heading h is the site's logo or name rather
// than a headline: its class or id says so, or it links to the home page.
func isLogo(h *html.Node, base *url.URL) bool {
	logo := false
	for n := h; n != nil && !logo; n = n.Parent {
		s := strings.ToLower(attr(n, "class") + " " + attr(n, "id"))
		logo = n.Type == html.ElementNode && containsAny(s, logoWords)
		if n != h && n.DataAtom == atom.Article {
			break
		}
	}
	walkElements(h, func(n *html.Node) bool {
		if n.DataAtom == atom.A {
			s := strings.ToLower(attr(n, "class") + " " + attr(n, "id"))
			u, err := base.Parse(strings.TrimSpace(attr(n, "href")))
			logo = logo || hasToken(attr(n, "rel"), "home") || containsAny(s, logoWords) ||
				err == nil && u.Hostname() == base.Hostname() && (u.Path == "" || u.Path == "/") && u.RawQuery == ""
		}
		return !logo
	})
	return logo
}

var logoWords = []string{"logo", "site-title", "site-name", "sitename", "sitetitle", "site_title", "brand", "blog-title", "blogtitle", "masthead"}

// headlineWords counts the words of h, a Chinese or Japanese character
// counting as half a word.
func headlineWords(h string) int {
	n, cjk := 0, 0
	for _, f := range strings.Fields(h) {
		if c := utf8.RuneCountInString(f); strings.ContainsFunc(f, isCJK) {
			cjk += c
		} else {
			n++
		}
	}
	return n + cjk/2
}

// untitled is the title of an article whose page names none but the site
// (its <title>, Open Graph and headline all say "ICON Magazine"): the
// body's first heading, else the words of the URL's last path segment
// ("interview-mit-sharon-stone"). An article is not refused for lacking a
// title, but a body of under untitledMin characters besides its headings
// is no article, and gets "".
func untitled(body *html.Node, u *url.URL, names []string) string {
	if textLen(body)-headingLen(body) < untitledMin {
		return ""
	}
	var title string
	walkElements(body, func(n *html.Node) bool {
		if title != "" {
			return false
		}
		if isHeading(n) {
			if t := headline(nodeText(n), names); utf8.RuneCountInString(t) <= 200 {
				title = t
			}
			return false
		}
		return true
	})
	if title != "" {
		return title
	}
	seg := path.Base(strings.TrimRight(u.Path, "/"))
	seg = strings.TrimSuffix(seg, path.Ext(seg))
	words := strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '+' || r == ' ' })
	letters := 0
	for _, w := range words {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			letters++
		}
	}
	if letters < 2 {
		return ""
	}
	t := strings.Join(words, " ")
	r, size := utf8.DecodeRuneInString(t)
	return converter.CleanText(string(unicode.ToUpper(r)) + t[size:])
}

// untitledMin is the least text, in characters other than space, that an
// untitled body needs besides its headings to be taken as an article.
const untitledMin = 200

// headingLen is the text length under n's headings.
func headingLen(n *html.Node) int {
	k := 0
	walkElements(n, func(e *html.Node) bool {
		if isHeading(e) {
			k += textLen(e)
			return false
		}
		return true
	})
	return k
}
