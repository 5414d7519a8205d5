package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/feedpoll"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
)

type classifyTimeout struct{}

func (classifyTimeout) Error() string { return "i/o timeout" }
func (classifyTimeout) Timeout() bool { return true }

// TestClassify: the reasons metrics and summaries count, and what the
// Fetcher retries at once (fetch.RetryNow) and the Runner gives up (fetch.RetryNever).
func TestClassify(t *testing.T) {
	tests := []struct {
		err    error
		reason string
		when   fetch.Retry
	}{
		{&fetch.HTTPError{Status: 404}, "http_404", fetch.RetryNever},
		{fmt.Errorf("fetch x: %w", &fetch.HTTPError{Status: 410}), "http_410", fetch.RetryNever},
		{&fetch.HTTPError{Status: 403}, "http_403", fetch.RetryLater},
		{&fetch.HTTPError{Status: 429}, "http_429", fetch.RetryNow},
		{fmt.Errorf("%w (gave up after 5 attempts)", &fetch.HTTPError{Status: 503}), "http_503", fetch.RetryNow},
		{fmt.Errorf("fetch x: %w (10 > 1 bytes)", fetch.ErrTooLarge), "too_large", fetch.RetryNever},
		{fmt.Errorf("%w \"br\"", fetch.ErrUnsupportedEncoding), "encoding", fetch.RetryNever},
		{fmt.Errorf("%w: %w", feedpoll.ErrUnreadable, feed.ErrBadFeed), "parse", fetch.RetryLater},
		{&site.ExtractError{URL: "x", Err: site.ErrMalformedPage}, "malformed", fetch.RetryNever},
		{&site.ExtractError{URL: "x"}, "extract", fetch.RetryLater},
		{fmt.Errorf("%q: %w", "x", site.ErrBadURL), "bad_url", fetch.RetryNever},
		{fmt.Errorf("x: port 81: %w", site.ErrNoSiteRule), "bad_url", fetch.RetryNever},
		{fmt.Errorf("%w: %w", fetch.ErrTruncated, io.ErrUnexpectedEOF), "truncated", fetch.RetryNow},
		{fmt.Errorf("%w: cut by the fetch timeout: %w", fetch.ErrTruncated, context.DeadlineExceeded), "truncated", fetch.RetryNow},
		{fmt.Errorf("%w: cut: %w", fetch.ErrTruncated, context.Canceled), "truncated", fetch.RetryLater},
		{fetch.ErrRobots, "robots", fetch.RetryNever},
		{fmt.Errorf("redirect to x: %w", fetch.ErrForbiddenHost), "redirect", fetch.RetryNever},
		{fetch.ErrTooManyRedirects, "redirect", fetch.RetryNever},
		{&fetch.HostBackoffError{Host: "x", Until: time.Now()}, "host_backoff", fetch.RetryLater},
		{fmt.Errorf("no response within the fetch timeout: %w", context.DeadlineExceeded), "timeout", fetch.RetryNow},
		{classifyTimeout{}, "timeout", fetch.RetryNow},
		{context.Canceled, "network", fetch.RetryLater},
		{errors.New("connection refused"), "network", fetch.RetryNow},
	}
	for _, tt := range tests {
		reason, when := classify(tt.err)
		if reason != tt.reason || when != tt.when {
			t.Errorf("classify(%v): got %s, %d; want %s, %d", tt.err, reason, when, tt.reason, tt.when)
		}
	}
}
