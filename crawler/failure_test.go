package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

type classifyTimeout struct{}

func (classifyTimeout) Error() string { return "i/o timeout" }
func (classifyTimeout) Timeout() bool { return true }

// TestClassify: the reasons metrics and summaries count, and what the
// Fetcher retries at once (retryNow) and the Runner gives up (retryNever).
func TestClassify(t *testing.T) {
	tests := []struct {
		err    error
		reason string
		when   retry
	}{
		{&HTTPError{Status: 404}, "http_404", retryNever},
		{fmt.Errorf("fetch x: %w", &HTTPError{Status: 410}), "http_410", retryNever},
		{&HTTPError{Status: 403}, "http_403", retryLater},
		{&HTTPError{Status: 429}, "http_429", retryNow},
		{fmt.Errorf("%w (gave up after 5 attempts)", &HTTPError{Status: 503}), "http_503", retryNow},
		{fmt.Errorf("fetch x: %w (10 > 1 bytes)", ErrTooLarge), "too_large", retryNever},
		{fmt.Errorf("%w \"br\"", ErrUnsupportedEncoding), "encoding", retryNever},
		{fmt.Errorf("%w: %w", errUnreadableFeed, ErrBadFeed), "parse", retryLater},
		{&ExtractError{URL: "x", Err: ErrMalformedPage}, "malformed", retryNever},
		{&ExtractError{URL: "x"}, "extract", retryLater},
		{fmt.Errorf("%q: %w", "x", ErrBadURL), "bad_url", retryNever},
		{fmt.Errorf("x: port 81: %w", errNoSiteRule), "bad_url", retryNever},
		{fmt.Errorf("%w: %w", ErrTruncated, io.ErrUnexpectedEOF), "truncated", retryNow},
		{fmt.Errorf("%w: cut by the fetch timeout: %w", ErrTruncated, context.DeadlineExceeded), "truncated", retryNow},
		{fmt.Errorf("%w: cut: %w", ErrTruncated, context.Canceled), "truncated", retryLater},
		{ErrRobots, "robots", retryNever},
		{fmt.Errorf("redirect to x: %w", ErrForbiddenHost), "redirect", retryNever},
		{ErrTooManyRedirects, "redirect", retryNever},
		{&HostBackoffError{Host: "x", Until: time.Now()}, "host_backoff", retryLater},
		{fmt.Errorf("no response within the fetch timeout: %w", context.DeadlineExceeded), "timeout", retryNow},
		{classifyTimeout{}, "timeout", retryNow},
		{context.Canceled, "network", retryLater},
		{errors.New("connection refused"), "network", retryNow},
	}
	for _, tt := range tests {
		reason, when := classify(tt.err)
		if reason != tt.reason || when != tt.when {
			t.Errorf("classify(%v): got %s, %d; want %s, %d", tt.err, reason, when, tt.reason, tt.when)
		}
		if retryable(tt.err) != (tt.when == retryNow) {
			t.Errorf("retryable(%v): got %v", tt.err, retryable(tt.err))
		}
	}
}
