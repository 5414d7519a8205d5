package converter

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// CloneTree is a deep copy of n, detached from its tree. Broken UTF-8 in
// text and attributes is dropped, as the parse of BodyHTML drops it.
func CloneTree(n *html.Node) *html.Node {
	c := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: validUTF8(n.Data), Namespace: n.Namespace}
	if len(n.Attr) > 0 {
		c.Attr = make([]html.Attribute, len(n.Attr))
		for i, a := range n.Attr {
			a.Val = validUTF8(a.Val)
			c.Attr[i] = a
		}
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		c.AppendChild(CloneTree(k))
	}
	return c
}

// validUTF8 is s without broken UTF-8; s itself, uncopied, when it has
// none (utf8.ValidString is far quicker than ToValidUTF8's own check).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "")
}

// parseNoscripts parses the content of the <noscript> elements under
// root, which a page parsed with scripting on (as browsers and html.Parse
// do) holds as text, into elements, as a body parsed with scripting off
// has them: unwrapNoscript looks for the images inside.
func parseNoscripts(root *html.Node) error {
	for _, n := range elements(root, atom.Noscript) {
		t := n.FirstChild
		if t == nil || t.Type != html.TextNode || t.NextSibling != nil {
			continue
		}
		nodes, err := html.ParseFragmentWithOptions(strings.NewReader(t.Data), n, html.ParseOptionEnableScripting(false))
		if err != nil {
			return err
		}
		n.RemoveChild(t)
		for _, c := range nodes {
			n.AppendChild(c)
		}
	}
	return nil
}
