package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// retry says when a request that failed may be made again.
type retry int

const (
	// retryNow: the failure may pass within seconds (a timeout, a
	// connection error, a body cut short, 429, 5xx): the Fetcher retries
	// the request after a backoff.
	retryNow retry = iota
	// retryLater: not within this fetch, but in a later run (another 4xx,
	// a host backed off, a feed that does not parse, a cancelled request).
	retryLater
	// retryNever: the page is gone or will never be fetched (404, 410, a
	// body too large, robots.txt, a redirect off the allowed hosts, a page
	// that never parses): the Runner records the story as failed for good.
	retryNever
)

// classify names what failed in fetching, reading or extracting a story
// or a feed, with a short reason that metrics, logs and the run summary
// use ("http_404", "timeout", "extract"), and says when trying again can
// help. It is the one classification of failures: the Fetcher retries what
// is retryNow, and the Runner records what is retryNever as permanent.
func classify(err error) (reason string, when retry) {
	reason, when = classifyCause(err)
	if when == retryNow && errors.Is(err, context.Canceled) {
		// Cut short by our own cancellation, not by the server.
		when = retryLater
	}
	return reason, when
}

func classifyCause(err error) (string, retry) {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		reason := fmt.Sprintf("http_%d", he.Status)
		switch {
		case he.Permanent():
			return reason, retryNever
		case he.Status == http.StatusTooManyRequests || he.Status >= 500:
			return reason, retryNow
		}
		return reason, retryLater
	case errors.Is(err, ErrTooLarge):
		return "too_large", retryNever
	case errors.Is(err, ErrUnsupportedEncoding):
		return "encoding", retryNever
	case errors.Is(err, errUnreadableFeed):
		return "parse", retryLater
	case errors.Is(err, ErrMalformedPage):
		return "malformed", retryNever // the same bytes never parse
	case errors.As(err, new(*ExtractError)):
		return "extract", retryLater
	case errors.Is(err, ErrBadURL), errors.Is(err, errNoSiteRule):
		return "bad_url", retryNever
	case errors.Is(err, ErrTruncated):
		return "truncated", retryNow
	case errors.Is(err, ErrRobots):
		return "robots", retryNever
	case errors.Is(err, ErrForbiddenHost), errors.Is(err, ErrTooManyRedirects):
		return "redirect", retryNever
	case errors.Is(err, ErrHostBackoff):
		// Retried at once, it would fail at once.
		return "host_backoff", retryLater
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout", retryNow
	case errors.Is(err, context.Canceled):
		return "network", retryLater
	}
	return "network", retryNow
}

// retryable reports whether the request that failed with err may succeed
// if made again at once.
func retryable(err error) bool {
	_, when := classify(err)
	return when == retryNow
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
