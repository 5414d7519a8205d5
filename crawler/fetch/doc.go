// Package fetch is newsmd's HTTP client: everything that touches the
// network. A Client gets pages and feeds politely (per-host concurrency
// and delay, shared across workers through a HostGate, robots.txt,
// retries with backoff, Retry-After, host backoff), reads every body under
// one size and time limit after decompression, decodes it to UTF-8, and
// returns typed errors (HTTPError, HostBackoffError, ErrTooLarge,
// ErrTruncated, ...) that Classify names and sorts into what may be
// retried now, later or never. An Observer (the crawler's metrics) hears
// of each request, politeness wait and retry.
//
// It may import colly, net/http, robotstxt, internal/config and
// crawler/internal; never crawler/feed, crawler/site, converter or store.
package fetch
