package site

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A second opinion on where the article is. Readability scores every
// paragraph's parents and takes the best; on some pages the best is a
// cookie notice, a disclosure box or a teaser column, while the page
// marks its article plainly: schema.org's articleBody, a class such as
// "entry-content" or "article-body", a lone <article>. contentCandidate
// finds that container before Readability changes the page; extractGeneric
// takes it instead when Readability's own choice holds little of its text
// (preferCandidate).

// candidateWords are class and id words that name an article's text
// container, best first. Each is matched as whole words in a row (see
// hasWord).
var candidateWords = [][]string{
	{"article body", "articlebody", "article content", "article text", "articletext", "story body", "story content", "post body", "post content", "post text", "postcontent", "entry content", "entry body", "content body", "body text", "news text", "text content"},
	{"main content", "page content", "single content", "content main", "hentry", "h entry", "type post"},
}

// candidatePhrases are candidateWords split into words.
var candidatePhrases = func() [][][]string {
	out := make([][][]string, len(candidateWords))
	for i, ws := range candidateWords {
		for _, w := range ws {
			out[i] = append(out[i], strings.Fields(w))
		}
	}
	return out
}()

// contentCandidate is the page's own article container, or nil: an
// element with itemprop="articleBody", else one named by candidateWords,
// else the page's one <article>, else its one <main>. Among several of a
// kind it takes the one with the most text. It returns a deep copy of the candidate,
// which Readability's changes to doc do not reach, without junkAtoms and
// hidden elements.
func contentCandidate(doc *html.Node) *html.Node {
	var best *html.Node
	bestLen := 0
	consider := func(n *html.Node) {
		if k := textLen(n); k > bestLen {
			best, bestLen = n, k
		}
	}
	var itemprop, articles, mains []*html.Node
	named := make([][]*html.Node, len(candidateWords))
	walkElements(doc, func(n *html.Node) bool {
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head:
			return false
		case atom.Article:
			articles = append(articles, n)
		case atom.Main:
			mains = append(mains, n)
		}
		if attr(n, "itemprop") == "articleBody" {
			itemprop = append(itemprop, n)
		}
		switch n.DataAtom {
		case atom.Div, atom.Section, atom.Article, atom.Main, atom.Td:
			words := classWords(n)
			if len(words) == 0 {
				break
			}
			for i, phrases := range candidatePhrases {
				for _, ph := range phrases {
					if hasPhrase(words, ph) {
						named[i] = append(named[i], n)
						break
					}
				}
			}
		}
		return true
	})
	groups := append([][]*html.Node{itemprop}, named...)
	for _, g := range groups {
		for _, n := range g {
			consider(n)
		}
		if best != nil {
			break
		}
	}
	if best == nil && len(articles) == 1 {
		best = articles[0]
	}
	if best == nil && len(mains) == 1 {
		best = mains[0]
	}
	if best == nil || textLen(best) == 0 {
		return nil
	}
	c := cloneNode(best)
	cleanCandidate(c)
	if textLen(c) == 0 {
		return nil
	}
	return c
}

// cloneNode is a deep copy of n, detached.
func cloneNode(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace}
	if len(n.Attr) > 0 {
		c.Attr = append([]html.Attribute(nil), n.Attr...)
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		c.AppendChild(cloneNode(k))
	}
	return c
}

// junkAtoms are the elements a candidate taken as it is loses: code,
// embeds, forms and the page's own navigation.
var junkAtoms = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Form: true,
	atom.Button: true, atom.Input: true, atom.Select: true, atom.Textarea: true,
	atom.Svg: true, atom.Canvas: true, atom.Nav: true, atom.Aside: true,
	atom.Footer: true, atom.Link: true, atom.Meta: true, atom.Dialog: true,
}

// cleanCandidate removes from cand, taken as the article without
// Readability's choice, what is no text: junkAtoms and hidden elements.
func cleanCandidate(cand *html.Node) {
	removeWhere(cand, func(n *html.Node) bool {
		if junkAtoms[n.DataAtom] {
			return true
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "hidden", a.Key == "aria-hidden" && a.Val == "true":
				return true
			case a.Key == "style" && hiddenStyle(a.Val):
				return true
			}
		}
		return false
	})
}

// hiddenStyle reports whether an inline style hides its element.
func hiddenStyle(style string) bool {
	s := strings.ToLower(strings.ReplaceAll(style, " ", ""))
	return strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden")
}
