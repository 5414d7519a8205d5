package converter

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// figure is <figure><img><figcaption></figure> for the image src, without
// a figcaption when caption is "".
func figure(src, caption string) *html.Node {
	fig := &html.Node{Type: html.ElementNode, Data: "figure", DataAtom: atom.Figure}
	fig.AppendChild(&html.Node{Type: html.ElementNode, Data: "img", DataAtom: atom.Img,
		Attr: []html.Attribute{{Key: "src", Val: src}, {Key: "alt", Val: caption}}})
	if caption != "" {
		fig.AppendChild(figcaption(caption))
	}
	return fig
}

func figcaption(caption string) *html.Node {
	fc := &html.Node{Type: html.ElementNode, Data: "figcaption", DataAtom: atom.Figcaption}
	fc.AppendChild(&html.Node{Type: html.TextNode, Data: caption})
	return fc
}

// placeImages places the story's images (Article.Images) in the body
// under root, so that every image shows once and every caption once:
//
//   - an image the body shows (as ImageKey compares URLs) stays where it
//     is; it gets its caption when its figure has none and the body does
//     not show that text anywhere (where it does, in an element of its
//     own, that element becomes a figcaption);
//   - the lead image, put on top of the body (leadOnTop is its key), is
//     not shown again;
//   - every other image is shown after the body, in a figure with its
//     caption (unless an element of the body shows that text alone).
func placeImages(root *html.Node, base *url.URL, images []Image, leadOnTop string, rw *rewriter) {
	if len(images) == 0 {
		return
	}
	inBody := map[string]*html.Node{}
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			if k := rw.key(ResolveURL(base, ImageURL(n))); k != "" && inBody[k] == nil {
				inBody[k] = n
			}
		}
	})
	// The captions shown so far: by the body, in an element holding
	// nothing else, or placed here. A caption's words inside a longer
	// paragraph are story text and do not count.
	shown := map[string]bool{}
	done := map[string]bool{leadOnTop: true}
	var gallery []*html.Node
	for _, im := range images {
		u := ResolveURL(base, im.URL)
		k := rw.key(u)
		if u == "" || done[k] {
			continue
		}
		done[k] = true
		caption := CleanText(im.Caption)
		alt := caption
		img := inBody[k]
		if img != nil && alt != "" && attr(img, "alt") == "" && !hasFigcaption(root, img) {
			// Where the body shows the caption as text, the image is
			// still described.
			setAttr(img, "alt", alt)
		}
		switch c := compactText(caption); {
		case c == "" || shown[c]:
			caption = ""
		case captionElement(root, c) != nil:
			markCaption(root, c)
			shown[c], caption = true, ""
		default:
			shown[c] = true
		}
		if img != nil {
			if caption != "" {
				addCaption(root, img, caption)
			}
			continue
		}
		fig := figure(rw.rewrite(u), caption)
		setAttr(fig.FirstChild, "alt", alt)
		gallery = append(gallery, fig)
	}
	for _, fig := range gallery {
		root.AppendChild(fig)
	}
}

// markCaption makes the element of the body under root that holds
// nothing but the caption c (compactText) a figcaption, so that it shows
// as the other captions do (.figure-caption on SG 2026 pages is a div).
// Elements holding an image, and figcaptions, are left alone.
func markCaption(root *html.Node, c string) {
	found := captionElement(root, c)
	if found == nil {
		return
	}
	// The innermost element with that text: not the figure around it.
	for descended := true; descended; {
		descended = false
		for ch := found.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && compactText(textOf(ch)) == c {
				found, descended = ch, true
				break
			}
		}
	}
	if found.DataAtom == atom.Figcaption || findElement(found, atom.Img) != nil || found.DataAtom == atom.Img {
		return
	}
	found.Data, found.DataAtom, found.Attr = "figcaption", atom.Figcaption, nil
}

// captionElement is the first element of the body under root whose text
// is the caption c (compactText) and nothing else, or nil.
func captionElement(root *html.Node, c string) *html.Node {
	var found *html.Node
	walk(root, func(n *html.Node) {
		if found == nil && n != root && n.Type == html.ElementNode && compactText(textOf(n)) == c {
			found = n
		}
	})
	return found
}

// figureOf is the figure under root that holds img, or nil.
func figureOf(root, img *html.Node) *html.Node {
	for n := img.Parent; n != nil && n != root; n = n.Parent {
		if n.Type == html.ElementNode && n.DataAtom == atom.Figure {
			return n
		}
	}
	return nil
}

// hasFigcaption reports whether img, in the body under root, is in a
// figure with a caption.
func hasFigcaption(root, img *html.Node) bool {
	fig := figureOf(root, img)
	if fig == nil {
		return false
	}
	fc := findElement(fig, atom.Figcaption)
	return fc != nil && CleanText(textOf(fc)) != ""
}

// addCaption gives img, in the body under root, the caption: in its
// figure when it has one without a caption, else right after the block
// of the body that holds it.
func addCaption(root, img *html.Node, caption string) {
	if fig := figureOf(root, img); fig != nil {
		if !hasFigcaption(root, img) {
			fig.AppendChild(figcaption(caption))
		}
		return
	}
	block := img
	for block.Parent != nil && block.Parent != root {
		block = block.Parent
	}
	if block.Parent == nil {
		return
	}
	root.InsertBefore(figcaption(caption), block.NextSibling)
}

// compactText is s without white space, so texts compare by their words.
func compactText(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// showsImage reports whether the body already has the image u, an
// absolute URL, as ImageKey compares them.
func showsImage(root *html.Node, base *url.URL, u string, rw *rewriter) bool {
	want := rw.key(u)
	found := false
	walk(root, func(n *html.Node) {
		if !found && n.Type == html.ElementNode && n.DataAtom == atom.Img {
			found = rw.key(ResolveURL(base, ImageURL(n))) == want
		}
	})
	return found
}
