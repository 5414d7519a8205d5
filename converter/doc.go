// Package converter turns an extracted article into the Markdown post an
// archive keeps: YAML front matter, the publication marker, the title link
// and the body converted from HTML. It is a pure function of its input: no
// I/O, no clock, no network.
//
// It imports html-to-markdown, yaml and golang.org/x/net/html, and no
// package of newsmd: every other package may import it.
package converter
