package site

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// cleanBody removes noise and paywall prompts from a body (the nodes
// under body), restores the reading order of shuffled paragraphs and
// strips invisible watermarks, in place. It reports whether a paywall
// prompt was found.
func (s *Site) cleanBody(root *html.Node, l layout) (bool, error) {
	removeNoise(root)
	body := goquery.NewDocumentFromNode(root).Selection
	for _, g := range slices.Concat(s.remove, l.remove) {
		body.FindMatcher(g).Remove()
	}
	truncated := false
	for _, g := range s.paywall {
		if sel := body.FindMatcher(g); sel.Length() > 0 {
			truncated = true
			sel.Remove()
		}
	}
	if len(s.cfg.PaywallText) > 0 && containsAny(body.Text(), s.cfg.PaywallText) {
		body.Find("p, div, span").Each(func(_ int, e *goquery.Selection) {
			t := e.Text()
			for _, marker := range s.cfg.PaywallText {
				// Only a short block is a prompt; a paragraph that merely
				// quotes the phrase is story text.
				if strings.Contains(t, marker) && utf8.RuneCountInString(t) < 4*utf8.RuneCountInString(marker)+40 {
					truncated = true
					e.Remove()
					return
				}
			}
		})
	}
	if l.cfg.Unshuffle != "" {
		unshuffle(body, l.cfg.Unshuffle)
	}
	stripHidden(root)
	if !showsSomething(root) {
		return false, fmt.Errorf("body is empty after removing noise")
	}
	return truncated, nil
}

// removeNoise removes the noise elements under root (not root itself).
func removeNoise(root *html.Node) {
	for c := root.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && noise[c.Data] {
			root.RemoveChild(c)
		} else {
			removeNoise(c)
		}
		c = next
	}
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// showsSomething reports whether the nodes under root show a reader
// anything: text that is not blank, or an image.
func showsSomething(root *html.Node) bool {
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode && strings.IndexFunc(c.Data, func(r rune) bool { return !isBlank(r) }) >= 0:
			return true
		case c.Type == html.ElementNode && c.Data == "img":
			return true
		case showsSomething(c):
			return true
		}
	}
	return false
}

// isBlank reports whether r shows nothing to a reader.
func isBlank(r rune) bool {
	return unicode.IsSpace(r) || converter.Invisible(r) || converter.Control(r)
}

// unshuffle sorts body's children by their reading position: attr holds 3
// junk characters and then the base32 (RFC 4648, padding optional) of the
// decimal position. Children without a readable position keep their order
// after the positioned ones.
func unshuffle(body *goquery.Selection, attr string) {
	type child struct {
		sel *goquery.Selection
		pos int
	}
	var keyed, rest []child
	body.Children().Each(func(_ int, c *goquery.Selection) {
		v, ok := c.Attr(attr)
		if pos, err := decodePosition(v); ok && err == nil {
			keyed = append(keyed, child{c, pos})
		} else {
			rest = append(rest, child{c, 0})
		}
	})
	if len(keyed) == 0 {
		return
	}
	slices.SortStableFunc(keyed, func(a, b child) int { return a.pos - b.pos })
	// Detach everything, then append in reading order; stray text between
	// shuffled blocks is only white space.
	body.Contents().Remove()
	for _, c := range append(keyed, rest...) {
		body.AppendSelection(c.sel)
	}
}

func decodePosition(v string) (int, error) {
	if len(v) <= 3 {
		return 0, fmt.Errorf("position %q too short", v)
	}
	enc := strings.ToUpper(strings.TrimRight(v[3:], "="))
	if n := len(enc) % 8; n != 0 {
		enc += strings.Repeat("=", 8-n)
	}
	b, err := base32.StdEncoding.DecodeString(enc)
	if err != nil {
		return 0, fmt.Errorf("position %q: %w", v, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// prependGallery puts the layout's gallery images of doc, as figures,
// before the body.
func prependGallery(body *html.Node, doc *goquery.Document, l layout, base *url.URL) {
	if l.gallery == nil {
		return
	}
	first := body.FirstChild
	doc.FindMatcher(l.gallery).Each(func(_ int, s *goquery.Selection) {
		src := converter.ResolveURL(base, imgSrc(s))
		if src == "" {
			return
		}
		caption := converter.CleanText(firstAttr(s, "data-caption", "data-title", "alt", "title"))
		fig := element(atom.Figure)
		img := element(atom.Img)
		img.Attr = []html.Attribute{{Key: "src", Val: src}, {Key: "alt", Val: caption}}
		fig.AppendChild(img)
		if caption != "" {
			fc := element(atom.Figcaption)
			fc.AppendChild(&html.Node{Type: html.TextNode, Data: caption})
			fig.AppendChild(fc)
		}
		body.InsertBefore(fig, first)
	})
}

// CleanFragment applies the site's noise and paywall rules to a body that
// did not come from a page layout (a feed item's HTML, an archived post),
// and strips control and invisible characters as from a page's body. It
// reports whether a paywall prompt was found.
func (s *Site) CleanFragment(body string) (string, bool, error) {
	root, truncated, err := s.cleanFragment(body)
	if err != nil {
		return "", false, err
	}
	return converter.Article{Body: root}.HTML(), truncated, nil
}

// cleanFragment is CleanFragment with the body as a tree.
func (s *Site) cleanFragment(body string) (*html.Node, bool, error) {
	root, err := fragment(body)
	if err != nil {
		return nil, false, err
	}
	truncated, err := s.cleanBody(root, layout{})
	return root, truncated, err
}

// captionInBody finds the caption of the image imageURL when the body
// shows it: its figure's figcaption, or else its alt text. URLs compare as
// converter.ImageKey compares them.
func (s *Site) captionInBody(body *html.Node, base *url.URL, imageURL string) string {
	want := converter.ImageKey(imageURL, s.rewrites)
	caption := ""
	goquery.NewDocumentFromNode(body).Find("img").EachWithBreak(func(_ int, img *goquery.Selection) bool {
		if converter.ImageKey(converter.ResolveURL(base, imgSrc(img)), s.rewrites) != want {
			return true
		}
		caption = converter.CleanText(img.Closest("figure").Find("figcaption").First().Text())
		if caption == "" {
			caption = converter.CleanText(firstAttr(img, "alt", "title", "data-caption"))
		}
		return false
	})
	return caption
}
