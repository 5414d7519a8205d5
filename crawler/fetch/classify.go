package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Retry says when a request that failed may be made again.
type Retry int

const (
	// RetryNow: the failure may pass within seconds (a timeout, a
	// connection error, a body cut short, 429, 5xx): the Client retries
	// the request after a backoff.
	RetryNow Retry = iota
	// RetryLater: not within this fetch, but in a later run (another 4xx,
	// a host backed off, a cancelled request).
	RetryLater
	// RetryNever: the page is gone or will never be fetched (404, 410, a
	// body too large, robots.txt, a redirect off the allowed hosts): the
	// runner records the story as failed for good.
	RetryNever
)

// Classify names what failed in fetching a page or feed, with a short
// reason that metrics, logs and the run summary use ("http_404",
// "timeout"), and says when trying again can help. It is the
// classification of every error this package returns; the runner
// (crawler.classify) adds the errors of reading what was fetched, and
// hands every other error to Classify.
func Classify(err error) (reason string, when Retry) {
	reason, when = classifyCause(err)
	if when == RetryNow && errors.Is(err, context.Canceled) {
		// Cut short by our own cancellation, not by the server.
		when = RetryLater
	}
	return reason, when
}

func classifyCause(err error) (string, Retry) {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		reason := fmt.Sprintf("http_%d", he.Status)
		switch {
		case he.Permanent():
			return reason, RetryNever
		case he.Status == http.StatusTooManyRequests || he.Status >= 500:
			return reason, RetryNow
		}
		return reason, RetryLater
	case errors.Is(err, ErrTooLarge):
		return "too_large", RetryNever
	case errors.Is(err, ErrUnsupportedEncoding):
		return "encoding", RetryNever
	case errors.Is(err, ErrTruncated):
		return "truncated", RetryNow
	case errors.Is(err, ErrRobots):
		return "robots", RetryNever
	case errors.Is(err, ErrForbiddenHost), errors.Is(err, ErrTooManyRedirects):
		return "redirect", RetryNever
	case errors.Is(err, ErrHostBackoff):
		// Retried at once, it would fail at once.
		return "host_backoff", RetryLater
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout", RetryNow
	case errors.Is(err, context.Canceled):
		return "network", RetryLater
	}
	return "network", RetryNow
}

// retryable reports whether the request that failed with err may succeed
// if made again at once.
func retryable(err error) bool {
	_, when := Classify(err)
	return when == RetryNow
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
