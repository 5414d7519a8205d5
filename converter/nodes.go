package converter

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// walk calls fn for n and every node below it, in document order. fn may
// change the node's attributes and data but not the tree.
func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// elements returns the elements a under root, in document order. They are
// collected before any is changed: walk cannot go on past a node taken out
// of the tree.
func elements(root *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == a {
			out = append(out, n)
		}
	})
	return out
}

func findElement(n *html.Node, a atom.Atom) *html.Node {
	var found *html.Node
	walk(n, func(c *html.Node) {
		if found == nil && c.Type == html.ElementNode && c.DataAtom == a {
			found = c
		}
	})
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// edgeChild returns n's first (or last) child of type t, past emptied
// text, or nil when the child there is of another type. Only direct text
// is moved out of an emphasis, so moved text never escapes an inner link
// or emphasis.
func edgeChild(n *html.Node, first bool, t html.NodeType) *html.Node {
	c := n.LastChild
	if first {
		c = n.FirstChild
	}
	for c != nil && c.Type == html.TextNode && c.Data == "" {
		if first {
			c = c.NextSibling
		} else {
			c = c.PrevSibling
		}
	}
	if c != nil && c.Type == t {
		return c
	}
	return nil
}

func onlyElementChild(n *html.Node) *html.Node {
	var only *html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode && strings.TrimSpace(c.Data) == "":
		case c.Type == html.ElementNode && only == nil:
			only = c
		default:
			return nil
		}
	}
	return only
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func removeNode(n *html.Node) {
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

// appendChildren moves the children of src to the end of dst.
func appendChildren(dst, src *html.Node) {
	for c := src.FirstChild; c != nil; c = src.FirstChild {
		src.RemoveChild(c)
		dst.AppendChild(c)
	}
}

// unwrap replaces n by its children.
func unwrap(n *html.Node) {
	if n.Parent == nil {
		return
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		n.RemoveChild(c)
		n.Parent.InsertBefore(c, n)
		c = next
	}
	n.Parent.RemoveChild(n)
}
