package converter

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// normalizeBody prepares an article body for Markdown conversion: lazy
// images get their real URL, URLs become absolute and rewritten, figures
// become an image followed by an italic caption, embeds become links, and
// emphasis is arranged so that it still renders next to CJK punctuation.
func normalizeBody(root *html.Node, base *url.URL, rw *rewriter) {
	unwrapNoscript(root)
	var imgs, links, embeds, emphasis []*html.Node
	walk(root, func(n *html.Node) {
		if n.Type == html.TextNode {
			n.Data = StripHidden(n.Data)
			return
		}
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Img:
			imgs = append(imgs, n)
		case atom.A:
			links = append(links, n)
		case atom.Iframe, atom.Video, atom.Embed:
			embeds = append(embeds, n)
		case atom.Strong, atom.B, atom.Em, atom.I:
			emphasis = append(emphasis, n)
		}
	})
	for _, n := range imgs {
		fixImage(n, base, rw)
	}
	for _, n := range links {
		fixLink(n, base)
	}
	for _, n := range embeds {
		embedToLink(n, base)
	}
	for _, n := range elements(root, atom.Figure) {
		flattenFigure(n)
	}
	for _, n := range elements(root, atom.Figcaption) {
		captionToParagraph(n)
	}
	// Inner runs first, so that punctuation they push out can leave the
	// outer run too: <b><i>“x”</i></b> becomes “<b><i>x</i></b>”.
	for _, n := range slices.Backward(emphasis) {
		if n.Parent != nil {
			fixEmphasis(n)
		}
	}
}

// unwrapNoscript replaces a <noscript> by its content when that is the
// only copy of the image it holds, and drops it otherwise. The body is
// parsed with scripting off, so a noscript's children are elements.
func unwrapNoscript(root *html.Node) {
	for _, n := range elements(root, atom.Noscript) {
		if n.Parent == nil {
			continue
		}
		if !hasUsableImage(n.Parent, n) && findElement(n, atom.Img) != nil {
			unwrap(n)
		} else {
			n.Parent.RemoveChild(n)
		}
	}
}

// hasUsableImage reports whether parent holds, outside skip, an image with
// a real URL.
func hasUsableImage(parent, skip *html.Node) bool {
	found := false
	for c := parent.FirstChild; c != nil && !found; c = c.NextSibling {
		if c == skip {
			continue
		}
		walk(c, func(n *html.Node) {
			if n.Type == html.ElementNode && n.DataAtom == atom.Img && ImageURL(n) != "" {
				found = true
			}
		})
	}
	return found
}

// usableURL reports whether u can stand for an image: not empty, not a
// data: placeholder, not a bare fragment.
func usableURL(u string) bool {
	u = strings.TrimSpace(u)
	if u == "" || strings.HasPrefix(u, "#") {
		return false
	}
	l := strings.ToLower(u)
	return !strings.HasPrefix(l, "data:") && !strings.HasPrefix(l, "javascript:") && !strings.HasPrefix(l, "about:")
}

// ImageURL picks the best URL of an <img> as written in the page (maybe
// relative): the lazy-loading attributes first (they hold the real
// picture), then the largest srcset candidate of the image or of its
// <picture> sources, then src. It is "" when the image has no usable URL;
// a data: placeholder never counts.
func ImageURL(n *html.Node) string {
	for _, k := range []string{"data-src", "data-original", "data-lazy-src", "data-url"} {
		if v := attr(n, k); usableURL(v) {
			return v
		}
	}
	sets := []string{attr(n, "data-srcset"), attr(n, "srcset")}
	if p := n.Parent; p != nil && p.DataAtom == atom.Picture {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Source {
				sets = append(sets, attr(c, "data-srcset"), attr(c, "srcset"))
			}
		}
	}
	best, bestW := "", -1.0
	for _, s := range sets {
		if u, w := largestCandidate(s); u != "" && w > bestW {
			best, bestW = u, w
		}
	}
	if best != "" {
		return best
	}
	if v := attr(n, "src"); usableURL(v) {
		return v
	}
	return ""
}

// largestCandidate parses a srcset ("a.jpg 480w, b.jpg 1024w" or "1x, 2x")
// and returns its widest candidate. A candidate without a descriptor
// counts as 1x. As in the HTML standard, a URL runs to the next white
// space, so commas inside it (data: placeholders, CDN transformations
// such as "w_480,c_fill") do not split it; a comma that ends it does.
func largestCandidate(srcset string) (string, float64) {
	best, bestW := "", -1.0
	s := srcset
	for {
		s = strings.TrimLeft(s, " \t\n\r\f,")
		if s == "" {
			return best, bestW
		}
		end := strings.IndexAny(s, " \t\n\r\f")
		if end < 0 {
			end = len(s)
		}
		u, desc := s[:end], ""
		s = s[end:]
		if strings.HasSuffix(u, ",") {
			u = strings.TrimRight(u, ",")
		} else {
			end = strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			desc, s = s[:end], s[end:]
		}
		if !usableURL(u) {
			continue
		}
		w := 1.0
		if f := strings.Fields(desc); len(f) > 0 {
			d := f[len(f)-1]
			if v, err := strconv.ParseFloat(d[:len(d)-1], 64); err == nil && len(d) > 1 {
				w = v
			}
		}
		if w > bestW {
			best, bestW = u, w
		}
	}
}

func rewriteURL(u string, rewrites []Rewrite) string {
	for _, r := range rewrites {
		u = r.Pattern.ReplaceAllString(u, r.Replace)
	}
	return u
}

// rewriter applies rewrites and remembers what it made of each URL: one
// render asks for an image's URL up to three times (does the body show
// the lead image, the image itself, the front matter), and the regular
// expressions are a good part of the work.
type rewriter struct {
	rules []Rewrite
	done  map[string]string
}

func newRewriter(rules []Rewrite) *rewriter {
	return &rewriter{rules: rules, done: map[string]string{}}
}

// rewrite is u after the rules; a rewriter without a memo (done is nil)
// works them out every time.
func (rw *rewriter) rewrite(u string) string {
	if len(rw.rules) == 0 {
		return u
	}
	if v, ok := rw.done[u]; ok {
		return v
	}
	v := rewriteURL(u, rw.rules)
	if rw.done != nil {
		rw.done[u] = v
	}
	return v
}

// key is ImageKey(u, rw.rules).
func (rw *rewriter) key(u string) string {
	if u == "" {
		return ""
	}
	u = rw.rewrite(u)
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// normalizeImageURL is the URL an image src ends up with in the post.
func normalizeImageURL(base *url.URL, raw string, rw *rewriter) string {
	u := ResolveURL(base, raw)
	if u == "" {
		return ""
	}
	return rw.rewrite(u)
}

// fileNameAlt matches alt text that is only an image's file name
// ("hui_rui_file7do03ikbgjlx6sv7am9_Medium.jpg").
var fileNameAlt = regexp.MustCompile(`(?i)^[^\s/]+\.(?:jpe?g|png|gif|webp|avif|bmp|svg)$`)

func fixImage(n *html.Node, base *url.URL, rw *rewriter) {
	u := normalizeImageURL(base, ImageURL(n), rw)
	if u == "" {
		removeNode(n)
		return
	}
	alt := attr(n, "alt")
	if fileNameAlt.MatchString(alt) {
		// The CMS default, the upload's name: no text for a reader.
		alt = ""
	}
	caption := cmp.Or(alt, attr(n, "data-caption"), attr(n, "data-title"), attr(n, "title"))
	n.Attr = []html.Attribute{{Key: "src", Val: u}, {Key: "alt", Val: CleanText(caption)}}
}

func fixLink(n *html.Node, base *url.URL) {
	href := attr(n, "href")
	if href == "" {
		return
	}
	u := ResolveURL(base, href)
	if u == "" {
		// javascript:, mailto: with no use in an archive, or garbage:
		// keep the text, drop the link.
		unwrap(n)
		return
	}
	n.Attr = []html.Attribute{{Key: "href", Val: u}}
}

// embedToLink turns an iframe, video or embed into a paragraph linking to
// what it showed, so a video or tweet in the story is not lost silently.
func embedToLink(n *html.Node, base *url.URL) {
	src := attr(n, "src")
	if src == "" {
		if s := findElement(n, atom.Source); s != nil && s != n {
			src = attr(s, "src")
		}
	}
	u := ResolveURL(base, src)
	if u == "" || n.Parent == nil {
		removeNode(n)
		return
	}
	p := &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P}
	a := &html.Node{Type: html.ElementNode, Data: "a", DataAtom: atom.A, Attr: []html.Attribute{{Key: "href", Val: u}}}
	a.AppendChild(&html.Node{Type: html.TextNode, Data: u})
	p.AppendChild(a)
	n.Parent.InsertBefore(p, n)
	removeNode(n)
}

// flattenFigure rewrites a figure as its images, each in a paragraph with
// the caption as alt text, followed by the caption as an italic paragraph
// (the captionToParagraph step), so caption and picture stay together.
func flattenFigure(fig *html.Node) {
	if fig.Parent == nil {
		return
	}
	var imgs []*html.Node
	var caption *html.Node
	walk(fig, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.DataAtom {
		case atom.Img:
			imgs = append(imgs, n)
		case atom.Figcaption:
			if caption == nil {
				caption = n
			}
		}
	})
	capText := ""
	if caption != nil {
		capText = CleanText(textOf(caption))
	}
	for _, img := range imgs {
		if attr(img, "alt") == "" && capText != "" {
			setAttr(img, "alt", capText)
		}
		img.Parent.RemoveChild(img)
		p := &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P}
		p.AppendChild(img)
		fig.Parent.InsertBefore(p, fig)
	}
	if caption != nil {
		caption.Parent.RemoveChild(caption)
		fig.Parent.InsertBefore(caption, fig)
	}
	// Anything else a figure held (a credit line, a link) stays after it.
	unwrap(fig)
}

// captionToParagraph turns a figcaption into <p><em>caption</em></p>.
func captionToParagraph(n *html.Node) {
	text := CleanText(textOf(n))
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		n.RemoveChild(c)
		c = next
	}
	n.Data, n.DataAtom, n.Attr = "p", atom.P, nil
	if text == "" {
		removeNode(n)
		return
	}
	em := &html.Node{Type: html.ElementNode, Data: "em", DataAtom: atom.Em}
	em.AppendChild(&html.Node{Type: html.TextNode, Data: text})
	n.AppendChild(em)
}

// fixEmphasis moves punctuation and spaces at the edges of an emphasised
// run outside of it. CommonMark only opens "**" before punctuation when
// whitespace or punctuation precedes it, which is rarely so in Chinese
// text ("他说**“两岸”**是" does not render bold), so 他说<b>“两岸”</b>是
// becomes 他说“<b>两岸</b>”是. A run of nothing but punctuation loses its
// emphasis. A run that is one link gets the emphasis inside the link.
func fixEmphasis(n *html.Node) {
	if only := onlyElementChild(n); only != nil && only.DataAtom == atom.A {
		// <b><a>x</a></b> → <a><b>x</b></a>
		parent := n.Parent
		n.RemoveChild(only)
		appendChildren(n, only)
		parent.InsertBefore(only, n)
		parent.RemoveChild(n)
		only.AppendChild(n)
	}
	if strings.TrimFunc(textOf(n), edgeRune) == "" {
		if findElement(n, atom.Img) == nil {
			unwrap(n)
		}
		return
	}
	if first := edgeChild(n, true, html.TextNode); first != nil {
		trimmed := strings.TrimLeftFunc(first.Data, edgeRune)
		if moved := first.Data[:len(first.Data)-len(trimmed)]; moved != "" {
			first.Data = trimmed
			n.Parent.InsertBefore(&html.Node{Type: html.TextNode, Data: moved}, n)
		}
	}
	if last := edgeChild(n, false, html.TextNode); last != nil {
		trimmed := strings.TrimRightFunc(last.Data, edgeRune)
		if moved := last.Data[len(trimmed):]; moved != "" {
			last.Data = trimmed
			n.Parent.InsertBefore(&html.Node{Type: html.TextNode, Data: moved}, n.NextSibling)
		}
	}
	// A link at an edge of a longer run goes out of it with the emphasis
	// inside: in "**详见[专题](u)**后" the ")" before "**" is punctuation
	// and the run does not close.
	moved := false
	if c := edgeChild(n, true, html.ElementNode); c != nil && c.DataAtom == atom.A && c.NextSibling != nil {
		linkOut(n, c, true)
		moved = true
	}
	if c := edgeChild(n, false, html.ElementNode); c != nil && c.DataAtom == atom.A && c.PrevSibling != nil {
		linkOut(n, c, false)
		moved = true
	}
	if moved {
		fixEmphasis(n)
	}
}

// linkOut moves the link a out of the emphasis n, before or after it, and
// wraps the link's content in a copy of n.
func linkOut(n, a *html.Node, before bool) {
	n.RemoveChild(a)
	if before {
		n.Parent.InsertBefore(a, n)
	} else {
		n.Parent.InsertBefore(a, n.NextSibling)
	}
	e := &html.Node{Type: html.ElementNode, Data: n.Data, DataAtom: n.DataAtom}
	appendChildren(e, a)
	a.AppendChild(e)
	fixEmphasis(e)
}

// edgeRune is what may not stand just inside an emphasis delimiter.
func edgeRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}
