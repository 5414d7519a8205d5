package site

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// tidy removes from Readability's article node what Readability keeps of
// a page's furniture: captions as running text, share rows, related-story
// lists, newsletter boxes, copyright lines and "read also" links. It works
// on the node as Readability returns it with its classes kept
// (Parser.KeepClasses), and drops the classes last, as Readability would.
//
// Each pass removes only a part of the article, never the whole: a node
// holding a large share of the article's text stays, whatever its class
// says (WordPress puts tag and category names on the article's own
// wrapper). The passes and what each scored on the extraction benchmark
// are in docs/GENERIC-EXTRACTOR.md.
func tidy(root *html.Node) {
	total := textLen(root)
	captionsToAlt(root)
	removeWhere(root, func(n *html.Node) bool {
		return isChrome(n) && textLen(n)*3 < total
	})
	removeWhere(root, isLinkLine)
	removeWhere(root, isNotice)
	dropDanglingHeadings(root)
	dropClasses(root)
}

// removeWhere removes every element under root (not root itself) for which
// drop reports true, without looking inside what it removes.
func removeWhere(root *html.Node, drop func(*html.Node) bool) {
	for c := root.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			if drop(c) {
				root.RemoveChild(c)
			} else {
				removeWhere(c, drop)
			}
		}
		c = next
	}
}

// captionsToAlt keeps a figure's caption with its picture but out of the
// running text: the caption becomes the alt text of the figure's image
// when that has none, and the caption element is removed. A caption
// repeats what the picture shows; read as text it breaks the article.
func captionsToAlt(root *html.Node) {
	var caps []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c.DataAtom == atom.Figcaption || hasWord(c, "caption") && firstElement(c, atom.Img) == nil {
				caps = append(caps, c)
				continue
			}
			walk(c)
		}
	}
	walk(root)
	for _, c := range caps {
		if c.Parent == nil {
			continue
		}
		text := strings.Join(strings.Fields(nodeText(c)), " ")
		if img := figureImage(c); img != nil && text != "" && attr(img, "alt") == "" {
			setAttr(img, "alt", text)
		}
		c.Parent.RemoveChild(c)
	}
}

// figureImage is the image a caption belongs to: the first <img> of the
// nearest ancestor (figure or not) that holds one, looking up at most three
// levels.
func figureImage(c *html.Node) *html.Node {
	for p, i := c.Parent, 0; p != nil && i < 3; p, i = p.Parent, i+1 {
		if img := firstElement(p, atom.Img); img != nil {
			return img
		}
		if p.DataAtom == atom.Figure {
			return nil
		}
	}
	return nil
}

// chromeWords are class and id words that name page furniture rather than
// article text. They are matched as whole words of the class and id split
// at spaces, hyphens, underscores and lower-to-upper case changes.
var chromeWords = wordSet(
	"related", "relatedposts", "newsletter", "copyright", "share", "sharing",
	"shares", "sharebar", "social", "sociable", "breadcrumb", "breadcrumbs",
	"tags", "tagcloud", "byline", "rating", "ratings", "subscribe", "promo",
	"sponsored", "advert", "advertisement", "bio", "toolbar", "comments",
	"comment", "respond", "reply", "replies", "disqus", "meta", "date",
	"timestamp", "credit", "credits",
)

// chromeTags are elements that hold no article text inside an article.
var chromeTags = map[atom.Atom]bool{
	atom.Nav: true, atom.Aside: true, atom.Footer: true, atom.Button: true,
	atom.Form: true, atom.Select: true, atom.Label: true,
}

// isChrome reports whether n is page furniture by its element or its class
// and id words.
func isChrome(n *html.Node) bool {
	if chromeTags[n.DataAtom] {
		return true
	}
	words := classWords(n)
	for _, w := range words {
		if chromeWords[w] {
			return true
		}
	}
	for _, ph := range chromePhrases {
		if hasPhrase(words, ph) {
			return true
		}
	}
	return false
}

// chromePhrases are class and id words in a row that name furniture whose
// words alone do not: an author's box, as opposed to the author's name.
var chromePhrases = [][]string{
	{"author", "box"}, {"author", "info"}, {"author", "card"}, {"about", "author"},
	{"author", "bio"}, {"post", "author"},
}

// isLinkLine reports whether n is a short block that is mostly a link, as
// "Read also: …" lines and teaser rows are: a paragraph, list item or
// heading of under 150 characters at least 30% of which are link text.
func isLinkLine(n *html.Node) bool {
	switch n.DataAtom {
	case atom.P, atom.Li, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Div:
	default:
		return false
	}
	if n.DataAtom == atom.Div && hasBlock(n) {
		return false
	}
	total := textLen(n)
	if total == 0 || total >= 150 {
		return false
	}
	// A spelled-out address is information, not a teaser.
	t := nodeText(n)
	if strings.Contains(t, "://") || strings.Contains(t, "www.") || strings.Contains(t, "@") {
		return false
	}
	return linkLen(n)*10 >= total*3
}

// isNotice reports whether n is a short copyright or credit line.
func isNotice(n *html.Node) bool {
	switch n.DataAtom {
	case atom.P, atom.Div, atom.Span, atom.Small, atom.Li:
	default:
		return false
	}
	if hasBlock(n) {
		return false
	}
	t := strings.TrimSpace(nodeText(n))
	if utf8.RuneCountInString(t) > 200 {
		return false
	}
	low := strings.ToLower(t)
	if strings.HasPrefix(t, "©") || strings.HasPrefix(low, "copyright") || strings.HasPrefix(low, "(c) ") {
		return true
	}
	return utf8.RuneCountInString(t) <= 80 && creditLine.MatchString(t)
}

// creditLine matches a line that names where a picture or the text came
// from: "Foto: …", "Quelle: …", "Photo / AFP", "Źródło: PAP".
var creditLine = regexp.MustCompile(`(?i)^(fotos?|photos?|photograph|bild|bilder|titelbild|beitragsbild|quellen?|sources?|źródło|fuentes?|crédits?( photos?)?|credits?|imagen|image|grafik|abbildung)\s*[:/|]`)

// hasWord reports whether n's class or id holds the words of w (one word,
// or several separated by spaces) in a row.
func hasWord(n *html.Node, w string) bool {
	return hasPhrase(classWords(n), strings.Fields(w))
}

// classWords are the words of n's class and id (splitWords), nil when it
// has neither.
func classWords(n *html.Node) []string {
	var words []string
	for _, a := range n.Attr {
		if a.Key == "class" || a.Key == "id" {
			words = append(words, splitWords(a.Val)...)
		}
	}
	return words
}

// hasPhrase reports whether words hold want in a row.
func hasPhrase(words, want []string) bool {
	for i := 0; i+len(want) <= len(words); i++ {
		match := true
		for j, x := range want {
			if words[i+j] != x {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// splitWords splits a class or id value into lower-case words at spaces,
// hyphens, underscores, digits and lower-to-upper case changes:
// "post-relatedPosts_2" is post, related, posts.
func splitWords(v string) []string {
	var words []string
	var cur strings.Builder
	prevLower := false
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range v {
		switch {
		case unicode.IsLetter(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			cur.WriteRune(unicode.ToLower(r))
			prevLower = unicode.IsLower(r)
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}

// blockAtoms are the elements that start a new block of text.
var blockAtoms = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.Table: true, atom.Section: true, atom.Article: true, atom.Figure: true,
	atom.Blockquote: true, atom.Pre: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Header: true,
	atom.Footer: true, atom.Dl: true,
}

// hasBlock reports whether n holds a block element.
func hasBlock(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (blockAtoms[c.DataAtom] || hasBlock(c)) {
			return true
		}
	}
	return false
}

// textLen is the number of non-space characters under n.
func textLen(n *html.Node) int {
	if n.Type == html.TextNode {
		k := 0
		for _, r := range n.Data {
			if !unicode.IsSpace(r) {
				k++
			}
		}
		return k
	}
	k := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		k += textLen(c)
	}
	return k
}

// linkLen is the number of non-space characters under n inside links.
func linkLen(n *html.Node) int {
	if n.Type == html.ElementNode && n.DataAtom == atom.A {
		return textLen(n)
	}
	k := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		k += linkLen(c)
	}
	return k
}

// firstElement is the first element a under n, n excluded.
func firstElement(n *html.Node, a atom.Atom) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if c.DataAtom == a {
			return c
		}
		if f := firstElement(c, a); f != nil {
			return f
		}
	}
	return nil
}

func setAttr(n *html.Node, key, val string) {
	for i := range n.Attr {
		if n.Attr[i].Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// dropClasses removes class attributes under root but Readability's own
// "page", as Readability does when it is not told to keep them.
func dropClasses(n *html.Node) {
	if n.Type == html.ElementNode {
		for i := 0; i < len(n.Attr); i++ {
			if n.Attr[i].Key != "class" {
				continue
			}
			if strings.Contains(" "+n.Attr[i].Val+" ", " page ") {
				n.Attr[i].Val = "page"
			} else {
				n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
			}
			break
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		dropClasses(c)
	}
}

// isHeading reports whether n is a heading element.
func isHeading(n *html.Node) bool {
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// dropDanglingHeadings removes headings that head nothing: a heading
// followed, up to the next heading of the same or a higher level or the
// end of the article, by no text. They are what is left of a "Related"
// or "Comments" section once its content is gone.
func dropDanglingHeadings(root *html.Node) {
	var blocks []*html.Node // headings and text blocks in document order
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode && strings.TrimSpace(c.Data) != "":
				blocks = append(blocks, c)
			case c.Type == html.ElementNode && isHeading(c):
				blocks = append(blocks, c)
			case c.Type == html.ElementNode && c.DataAtom == atom.Img:
				blocks = append(blocks, c)
			case c.Type == html.ElementNode:
				walk(c)
			}
		}
	}
	walk(root)
	for i := len(blocks) - 1; i >= 0; i-- {
		h := blocks[i]
		if h.Type != html.ElementNode || !isHeading(h) {
			continue
		}
		if i+1 < len(blocks) {
			next := blocks[i+1]
			if next.Type != html.ElementNode || !isHeading(next) || next.DataAtom > h.DataAtom {
				continue
			}
		}
		if h.Parent != nil {
			h.Parent.RemoveChild(h)
		}
		blocks = append(blocks[:i], blocks[i+1:]...)
	}
}

// wordSet is a set of words.
func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
