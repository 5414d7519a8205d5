package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// HTTPError is a response with a status that is neither 2xx nor 304.
type HTTPError struct {
	URL    string
	Status int
	// RetryAfter is the server's Retry-After, zero when it sent none.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Permanent reports whether the page is gone for good (404, 410): it is
// recorded as such and never fetched again.
func (e *HTTPError) Permanent() bool {
	return e.Status == http.StatusNotFound || e.Status == http.StatusGone
}

var (
	// ErrTooLarge is returned for a body larger than the configured
	// maximum, counted after any decompression.
	ErrTooLarge = errors.New("response body exceeds the maximum size")
	// ErrTruncated is returned for a body cut short: by the server (fewer
	// bytes than its Content-Length, the connection closed mid-body) or by
	// the fetch timeout. It is temporary.
	ErrTruncated = errors.New("response body truncated")
	// ErrUnsupportedEncoding is returned for a 2xx response whose
	// Content-Encoding is neither identity nor gzip: only gzip is ever
	// asked for. It is permanent.
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
	// ErrRobots is returned for a URL the site's robots.txt disallows; the
	// URL is not fetched.
	ErrRobots = errors.New("disallowed by robots.txt")
	// ErrHostBackoff is returned without a request while a host that kept
	// failing is backed off; the error is a *HostBackoffError, which says
	// until when.
	ErrHostBackoff = errors.New("host backed off after repeated failures")
	// ErrForbiddenHost is returned for a URL, or a redirect, to a host the
	// Client is not allowed to fetch from.
	ErrForbiddenHost = errors.New("host not allowed")
	// ErrTooManyRedirects is returned after more than 10 redirects, which
	// is how redirect loops end.
	ErrTooManyRedirects = errors.New("too many redirects")
)

// HostBackoffError is the error of a request not made because its host
// kept failing (five URLs in a row, none succeeding) and is left alone
// until Until: a caller can try again then rather than after a delay of
// its own. errors.Is(err, ErrHostBackoff) holds for it.
type HostBackoffError struct {
	Host  string // host[:port], as in the URL
	Until time.Time
}

func (e *HostBackoffError) Error() string {
	return fmt.Sprintf("host %s backed off after repeated failures until %s", e.Host, e.Until.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrHostBackoff) hold.
func (e *HostBackoffError) Is(target error) bool { return target == ErrHostBackoff }

// Conditional holds the validators of a copy the caller already has.
// Empty fields are not sent.
type Conditional struct {
	ETag         string // sent as If-None-Match
	LastModified string // sent as If-Modified-Since
}

// Response is a fetched page: a 2xx with its body, or a 304 without one.
type Response struct {
	URL string // after redirects
	// Redirects are the URLs redirects led to, in order, the last one URL;
	// empty when the page answered at the URL asked for.
	Redirects []string
	Status    int
	// Body is UTF-8, decoded from the charset of the Content-Type header,
	// a byte order mark, the page's <meta> or the XML declaration (which
	// then says UTF-8, so that feed parsers do not decode it again).
	Body         []byte
	ETag         string
	LastModified string
	CacheControl string
	Header       http.Header
}
