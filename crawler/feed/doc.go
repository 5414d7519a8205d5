// Package feed reads what feeds announce: the items of RSS, Atom and JSON
// Feed documents (gofeed) and of listing pages (HTML sections found with
// CSS selectors, the zaobao JSON listing), and compiles the feeds: section
// of config.yaml. It is pure: bytes and a URL in, items out; no network,
// no clock, no store.
//
// It may import gofeed, golang.org/x/net/html, cascadia, internal/config
// and crawler/internal; never crawler/fetch, colly or an HTTP client (a
// test in crawler enforces it).
package feed
