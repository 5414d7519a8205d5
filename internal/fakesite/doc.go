// Package fakesite is a fake Lianhe Zaobao for tests: an HTTP server with
// RSSHub-style feeds (with ETag and Last-Modified), section listing pages,
// the JSON listing endpoint and article pages in the site's layouts, that
// can be told to misbehave (429 with Retry-After, 5xx, slow, truncated or
// oversized bodies, redirect loops, gzip bombs, bodies that never finish),
// serves extra pages of a test's making (hostile feeds, huge listings) and
// records every request it saw.
//
// It is test support: tests import it, and `newsmd demo`, which shows
// newsmd at work without the network. It imports the standard
// library and no package of newsmd.
package fakesite
