// Package crawler is the runner: the one code path of the once, run and
// backfill commands. New(cfg, deps) builds it; Once polls every feed once,
// Run polls each at its interval until stopped, Process writes a list of
// stories. For each story it decides: claim it in the store, fetch its
// page, extract the article, render the post, publish it or record the
// failure and when to retry, or give it up and write the feed's copy.
//
// It owns the cycle over the feeds and the scope of their items
// (poll.go), the life of one story (story.go), the re-fetch of posts a
// paywall cut short (refetch.go), and the one classification of failures
// (failure.go, over fetch.Classify). ports.go holds the small interfaces
// it consumes (claims, retries, failures, re-fetches; feed state is
// crawler/feedpoll's); everything that needs a time gets it from the
// runner's clock. One poll of one feed is crawler/feedpoll's; the
// metrics, alarms and run summary are crawler/watch's.
//
// It may import crawler/fetch, crawler/feed, crawler/feedpoll,
// crawler/site, crawler/watch, converter and internal/config. It never
// imports store or cmd: cmd/newsmd adapts the store to the ports.
package crawler
