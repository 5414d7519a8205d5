// Package charset is the one charset decoder of pages, feeds and listings:
// whatever the bytes a site sent, the rest of newsmd reads UTF-8. It
// imports only the standard library and golang.org/x/{net,text}.
package charset
