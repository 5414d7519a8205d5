package crawler

import (
	"errors"

	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
)

// reasons are the failure reasons whose series are at zero from the
// start: what classify names, and the statuses a site most often
// answers when it fails (others appear at their first failure).
var reasons = []string{"parse", "malformed", "extract", "bad_url", "render", "too_large", "encoding", "truncated",
	"robots", "redirect", "host_backoff", "timeout", "network", "http_403", "http_404", "http_410", "http_429",
	"http_500", "http_502", "http_503", "http_504"}

// classify names what failed in fetching, reading or extracting a story
// or a feed ("http_404", "timeout", "extract"), for metrics, logs and the
// run summary, and says when trying again can help: what is
// fetch.RetryNever is recorded as permanent. It is the one classification
// of failures: the errors of reading what was fetched are classified here,
// the fetch errors by fetch.Classify, which the Client also retries by.
func classify(err error) (reason string, when fetch.Retry) {
	switch {
	case errors.Is(err, feedpoll.ErrUnreadable):
		return "parse", fetch.RetryLater
	case errors.Is(err, site.ErrMalformedPage):
		return "malformed", fetch.RetryNever // the same bytes never parse
	case errors.As(err, new(*site.ExtractError)):
		return "extract", fetch.RetryLater
	case errors.Is(err, site.ErrBadURL), errors.Is(err, site.ErrNoSiteRule):
		return "bad_url", fetch.RetryNever
	}
	return fetch.Classify(err)
}
