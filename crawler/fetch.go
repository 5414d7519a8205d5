package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// HTTPError is a response with a status that is not 200.
type HTTPError struct {
	URL        string
	Status     int
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// ErrTooLarge is returned for a body larger than the configured maximum.
var ErrTooLarge = errors.New("response body exceeds the maximum size")

// FetchOptions controls a single page fetch.
type FetchOptions struct {
	UserAgent    string
	MaxBodyBytes int64
}

// FetchPage gets one page with client. A status other than 200 is an
// *HTTPError, a body over opts.MaxBodyBytes is ErrTooLarge, and a body cut
// short by the connection is an error, never a short page.
func FetchPage(ctx context.Context, client *http.Client, pageURL string, opts FetchOptions) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", pageURL, err)
	}
	req.Header.Set("User-Agent", opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", pageURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{URL: pageURL, Status: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			he.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
			he.RetryAfter = time.Until(t)
		}
		return nil, he
	}
	if resp.ContentLength > opts.MaxBodyBytes {
		return nil, fmt.Errorf("fetch %s: %w (%d > %d bytes)", pageURL, ErrTooLarge, resp.ContentLength, opts.MaxBodyBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, opts.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", pageURL, err)
	}
	if int64(len(body)) > opts.MaxBodyBytes {
		return nil, fmt.Errorf("fetch %s: %w (over %d bytes)", pageURL, ErrTooLarge, opts.MaxBodyBytes)
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		return nil, fmt.Errorf("fetch %s: body truncated: got %d of %d bytes", pageURL, len(body), resp.ContentLength)
	}
	return body, nil
}
