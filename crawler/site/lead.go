package site

import (
	"strconv"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The lead (standfirst, teaser, abstract) of many news pages sits between
// the headline and the article's body, in an element of its own: a
// <p class="lead"> in the article's header, an <h2 class="article-lead">,
// a field "abstract". Readability scores the body's container and leaves
// the lead out. leadBlocks notes the page's text blocks before Readability
// changes the page, and adoptLead puts back, at the top of the body, the
// paragraphs that stood between the headline and the first block
// Readability kept.

// textBlock is an element of the page that holds text and no other block.
type textBlock struct {
	n        *html.Node
	headline bool // an <h1>: where the article starts
	chrome   bool // inside page furniture (isChrome, <header> excepted)
}

// blockAttr numbers the text blocks of the page, in document order: what
// Readability returns are copies, and the number tells where each stood.
const blockAttr = "data-newsmd-block"

// leadBlocks lists the page's text blocks in document order, numbering
// them with blockAttr.
func leadBlocks(doc *html.Node) []textBlock {
	var out []textBlock
	var walk func(n *html.Node, chrome bool)
	walk = func(n *html.Node, chrome bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Svg:
				continue
			}
			ch := chrome || isChrome(c)
			if !blockAtoms[c.DataAtom] && c.DataAtom != atom.Dd && c.DataAtom != atom.Span {
				walk(c, ch)
				continue
			}
			if c.DataAtom == atom.Span || hasBlock(c) {
				walk(c, ch)
				continue
			}
			c.Attr = append(c.Attr, html.Attribute{Key: blockAttr, Val: strconv.Itoa(len(out))})
			out = append(out, textBlock{n: c, headline: c.DataAtom == atom.H1, chrome: ch})
		}
	}
	walk(doc, false)
	return out
}

// leadMin is the least text, in characters other than space, of a lead
// paragraph: shorter blocks between the headline and the body are bylines,
// dates and captions.
const leadMin = 60

// adoptLead prepends to body copies of the lead paragraphs among blocks:
// those after the page's last headline (<h1>) before the first block body
// holds, of leadMin characters or more, under a fifth links and outside
// page furniture. It adopts nothing when no headline comes first (the
// blocks before the body are then a column of something else), or when a
// long block of links stands between the headline and the body (a list of
// other stories).
func adoptLead(body *html.Node, blocks []textBlock) {
	first := -1
	walkElements(body, func(n *html.Node) bool {
		if first >= 0 {
			return false
		}
		for _, a := range n.Attr {
			if a.Key == blockAttr {
				if i, err := strconv.Atoi(a.Val); err == nil && i < len(blocks) {
					first = i
				}
			}
		}
		return true
	})
	if first <= 0 {
		return
	}
	var lead []*html.Node
	headline := false
	for j := first - 1; j >= 0; j-- {
		b := blocks[j]
		if b.headline {
			headline = true
			break
		}
		k := textLen(b.n)
		switch {
		case b.chrome || k < leadMin:
			continue
		case linkLen(b.n)*5 >= k:
			return
		}
		lead = append(lead, b.n)
	}
	if !headline || len(lead) == 0 {
		return
	}
	for _, n := range lead { // nearest the body first: each goes on top
		c := cloneNode(n)
		unmarkBlocks(c)
		if c.DataAtom != atom.P {
			c.DataAtom, c.Data = atom.P, "p"
			c.Attr = nil
		}
		body.InsertBefore(c, body.FirstChild)
	}
}

// unmarkBlocks removes blockAttr under n, n included.
func unmarkBlocks(n *html.Node) {
	if n.Type == html.ElementNode {
		for i := 0; i < len(n.Attr); i++ {
			if n.Attr[i].Key == blockAttr {
				n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
				i--
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		unmarkBlocks(c)
	}
}
