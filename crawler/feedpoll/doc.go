// Package feedpoll polls feeds: one poll of one feed, from claiming its
// state to scheduling the next. Poller.Poll claims the feed's State (one
// worker at a time), tries its URLs in order (feed.Feed.URLs) until one
// lists items, reads its pages (feed.Feed.PageURLs, joined by
// feed.Merge) through fetch.Client.GetWithin with redirects kept on the
// feed's site, and sets the next poll from the interval with jitter,
// Cache-Control max-age, the feed's ttl and Retry-After. The stored
// validators change only through Poll.Commit, once the runner has
// recorded every item. Which URL answered and where URLs redirect is
// logged once per change.
//
// It may import crawler/fetch, crawler/feed, crawler/site and
// crawler/internal; never crawler (the runner calls it and defines the
// rest of the ports), crawler/watch, store or cmd.
package feedpoll
