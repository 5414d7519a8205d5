// Package crawler is the runner: the one code path of the once, run and
// backfill commands. New(cfg, deps) builds it; Once polls every feed once,
// Run polls each at its interval until stopped, Process writes a list of
// stories. For each story it decides: claim it in the store, fetch its
// page, extract the article, render the post, publish it or record the
// failure and when to retry, or give it up and write the feed's copy.
//
// It owns scheduling (poll.go), the life of one story (story.go), the run
// summary and metrics, and the one classification of failures
// (failure.go, over fetch.Classify). ports.go holds the small interfaces
// it consumes (claims, retries, failures, feed state); everything that
// needs a time gets it from the runner's clock.
//
// It may import crawler/fetch, crawler/feed, crawler/site, converter and
// internal/config. It never imports store or cmd: cmd/newsmd adapts the
// store to the ports.
package crawler
