package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/internal/config"
)

const (
	// hostFailures URLs failing in a row back a host off.
	hostFailures = 5
	// hostBackoffMin is the first pause of a failing host.
	hostBackoffMin = time.Minute
	// robotsTTL is how long a robots.txt is trusted (as Google does).
	robotsTTL = 24 * time.Hour
	// maxRedirects ends redirect loops, as net/http does.
	maxRedirects = 10
	accept       = "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml,application/atom+xml,application/feed+json,application/json;q=0.8,*/*;q=0.5"
)

// Client gets pages and feeds politely: it is the one place for per-host
// concurrency and delay, robots.txt, retries and host backoff. It is safe
// for concurrent use.
//
// The HTTP exchange itself goes through a colly Collector (User-Agent,
// request timeout, redirect policy, transport, charset from the header).
// Colly's LimitRule, robots.txt support and MaxBodySize are not used:
// LimitRule waits with time.Sleep and a channel send that ignore the
// request's context, and it holds the slot during the delay; robots.txt is
// fetched without a context, never expires, and a 5xx on it disallows the
// host for the life of the process; MaxBodySize cuts the body silently.
type Client struct {
	cfg     config.Fetch
	allowed []string
	log     *slog.Logger
	colly   *colly.Collector
	// transport applies the body limits under colly; its base sends.
	transport *transport

	// now, sleep and jitter are the clock and the dice, replaced in tests.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64 // uniform in [0, n)

	mu    sync.Mutex
	hosts map[string]*hostState

	gate HostGate // shared politeness across workers; nil: this process only
	obs  Observer // nil: none
}

// New returns a Client for cfg that fetches only from allowedHosts
// and their subdomains, also when following redirects; no allowedHosts
// allows every host.
func New(cfg config.Fetch, allowedHosts []string, log *slog.Logger) (*Client, error) {
	if errs := cfg.Validate("fetch"); len(errs) > 0 {
		return nil, fmt.Errorf("fetch config: %w", errors.Join(errs...))
	}
	f := &Client{
		cfg:    cfg,
		log:    log.With("component", "fetch"),
		now:    time.Now,
		sleep:  sleepCtx,
		jitter: rand.Int64N,
		hosts:  map[string]*hostState{},
	}
	for _, h := range allowedHosts {
		h, _ = httpurl.SplitPort(h) // the site rules say which ports; see Runner.Identify
		f.allowed = append(f.allowed, strings.TrimSuffix(strings.ToLower(h), "."))
	}

	// Init without NewCollector: NewCollector also reads COLLY_* variables
	// from the environment, and only cmd/ reads the environment.
	c := &colly.Collector{}
	c.Init()
	c.UserAgent = cfg.UserAgent
	c.AllowURLRevisit = true        // a feed is fetched again and again
	c.ParseHTTPErrorResponse = true // statuses are classified here
	c.IgnoreRobotsTxt = true        // see checkRobots
	c.MaxBodySize = 0               // enforced by transport, which fails instead of truncating
	c.DisableCookies()
	// do bounds each request with its context instead: on a timeout
	// http.Client.Timeout replaces the body's error with its own, and
	// ErrTruncated would be lost.
	c.SetRequestTimeout(0)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = http.ProxyFromEnvironment // HTTP_PROXY, HTTPS_PROXY, NO_PROXY
	base.MaxIdleConnsPerHost = max(cfg.Concurrency, 2)
	f.transport = &transport{base: base, max: cfg.MaxBodyBytes, timeout: cfg.Timeout}
	c.WithTransport(f.transport)
	c.SetRedirectHandler(f.redirect)
	f.colly = c
	return f, nil
}

// SetBaseTransport makes f send its requests through rt (a proxying or
// recording transport, a test's), under the body limits and
// decompression f applies to every response. Call it before the first
// request.
func (f *Client) SetBaseTransport(rt http.RoundTripper) { f.transport.base = rt }

// Get fetches rawURL, sending cond's validators. It returns a 2xx
// response with its body, or a 304 without one. Other statuses are an
// *HTTPError; 429, 5xx, timeouts, connection errors and truncated bodies
// are first retried as config.Fetch says. Requests to a host that keeps
// failing fail fast with a *HostBackoffError (ErrHostBackoff); a URL
// robots.txt disallows is ErrRobots. Cancelling ctx ends every wait and
// request at once.
//
// Redirects to the Client's hosts are followed, up to maxRedirects
// requests in all; each hop is a request like the first, under its
// host's robots.txt, politeness and retries. Response.Redirects lists
// them.
func (f *Client) Get(ctx context.Context, rawURL string, cond Conditional) (*Response, error) {
	return f.GetWithin(ctx, rawURL, cond, nil)
}

// GetWithin is Get that follows a redirect only when within allows its
// target too: a feed's redirects stay on its site's hosts. A redirect
// refused is an error wrapping ErrForbiddenHost that names where it
// led. A nil within allows what the Client allows.
func (f *Client) GetWithin(ctx context.Context, rawURL string, cond Conditional, within func(*url.URL) bool) (*Response, error) {
	cur := rawURL
	var redirects []string
	for {
		resp, err := f.get(ctx, cur, cond)
		if err != nil {
			if len(redirects) > 0 {
				err = fmt.Errorf("after redirects from %s: %w", rawURL, err)
			}
			return nil, err
		}
		loc := redirectTarget(resp)
		if loc == nil {
			resp.Redirects = redirects
			return resp, nil
		}
		if len(redirects)+1 >= maxRedirects {
			// maxRedirects requests in all, as net/http makes.
			return nil, fmt.Errorf("fetch %s: redirect to %s: %w (%d)", rawURL, loc, ErrTooManyRedirects, len(redirects))
		}
		switch {
		case loc.Scheme != "http" && loc.Scheme != "https":
			return nil, fmt.Errorf("fetch %s: redirect to %s: %w: not an http or https URL", cur, loc, ErrForbiddenHost)
		case !f.hostAllowed(loc.Hostname()):
			return nil, fmt.Errorf("fetch %s: redirect to %s: %w (no site rule or feed names it)", cur, loc, ErrForbiddenHost)
		case within != nil && !within(loc):
			return nil, fmt.Errorf("fetch %s: redirect to %s: %w: it leaves the feed's site", cur, loc, ErrForbiddenHost)
		}
		f.log.Debug("redirected", "url", cur, "status", resp.Status, "location", loc.String())
		cur = loc.String()
		redirects = append(redirects, cur)
	}
}

// redirectTarget is where a redirect response sends the client, nil when
// resp is not a redirect.
func redirectTarget(resp *Response) *url.URL {
	switch resp.Status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil
	}
	base, err := url.Parse(resp.URL)
	if err != nil {
		return nil
	}
	ref, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return nil
	}
	return base.ResolveReference(ref)
}

// get fetches rawURL once, with retries; a redirect is a response.
func (f *Client) get(ctx context.Context, rawURL string, cond Conditional) (*Response, error) {
	u, ok := httpurl.Parse(rawURL)
	if !ok {
		return nil, fmt.Errorf("fetch %q: not an http or https URL", rawURL)
	}
	if !f.hostAllowed(u.Hostname()) {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, ErrForbiddenHost)
	}
	h := f.hostOf(u.Host)
	hdr := http.Header{}
	hdr.Set("User-Agent", f.cfg.UserAgent)
	hdr.Set("Accept", accept)
	if cond.ETag != "" {
		hdr.Set("If-None-Match", cond.ETag)
	}
	if cond.LastModified != "" {
		hdr.Set("If-Modified-Since", cond.LastModified)
	}

	// The host's failure count is of URLs, not attempts: this Get counts
	// once, at its first failed attempt. Retries of one story's URL then
	// do not back its host off for every other story, while a host that
	// is down is noticed after its first hostFailures URLs fail, not
	// after all their retries; a retry that succeeds resets the count.
	counted := false
	for attempt := 1; ; attempt++ {
		if until, ok := h.backedOff(f.now()); ok {
			return nil, fmt.Errorf("fetch %s: %w", rawURL, &HostBackoffError{Host: u.Host, Until: until})
		}
		start := f.now()
		resp, err := f.attempt(ctx, h, u, rawURL, hdr)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetch %s: %w", rawURL, ctx.Err())
		}
		if errors.Is(err, ErrHostGate) {
			return nil, err
		}
		if err == nil {
			h.succeeded()
			f.log.Debug("fetched", "url", rawURL, "status", resp.Status, "attempt", attempt, "duration_seconds", f.now().Sub(start).Round(time.Millisecond).Seconds())
			return resp, nil
		}
		if !retryable(err) {
			var he *HTTPError
			if errors.As(err, &he) {
				h.succeeded() // the host answers; the page is the problem
			}
			return nil, err
		}
		if !counted {
			counted = true
			if d := h.failed(f.now(), f.cfg.HostBackoffMax); d > 0 {
				f.log.Warn("host backed off", "url", rawURL, "host", u.Host, "wait_seconds", d.Round(time.Millisecond).Seconds())
				f.deferHost(ctx, u.Host, f.now().Add(d))
			}
		}
		if attempt > f.cfg.Retries {
			return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		wait := f.retryWait(err, attempt)
		var ra *HTTPError
		if errors.As(err, &ra) && ra.RetryAfter > 0 {
			// The host asked everyone to wait, not only this worker.
			f.deferHost(ctx, u.Host, f.now().Add(wait))
		}
		args := []any{"url", rawURL, "attempt", attempt, "wait_seconds", wait.Round(time.Millisecond).Seconds(), "error", err}
		var he *HTTPError
		if errors.As(err, &he) {
			args = append(args, "status", he.Status)
		}
		f.log.Warn("retrying", args...)
		if f.obs != nil {
			reason, _ := Classify(err)
			f.obs.Retry(reason)
		}
		if err := f.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
		}
	}
}

// attempt makes one request under the host's politeness rules.
func (f *Client) attempt(ctx context.Context, h *hostState, u *url.URL, rawURL string, hdr http.Header) (*Response, error) {
	if f.cfg.RobotsTxt {
		if err := f.checkRobots(ctx, h, u, hdr); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
		}
	}
	release, err := f.acquire(ctx, h, u.Host)
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := f.do(ctx, rawURL, hdr.Clone(), false)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	switch {
	case resp.Status == http.StatusNotModified:
		resp.Body = nil
		return resp, nil
	case resp.Status >= 200 && resp.Status < 300:
		return resp, nil
	case redirectTarget(resp) != nil:
		// GetWithin follows it, as a request of its own.
		resp.Body = nil
		return resp, nil
	}
	return nil, &HTTPError{URL: rawURL, Status: resp.Status, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), f.now())}
}

// do is one HTTP exchange through colly. Any status is a response. A
// redirect is followed only when follow is set (robots.txt, which RFC
// 9309 says to follow); a page's redirects are GetWithin's, each a
// request under the host's rules.
func (f *Client) do(ctx context.Context, rawURL string, hdr http.Header, follow bool) (*Response, error) {
	// The deadline covers the body too: transport's body reader
	// reads it as the end of the fetch timeout.
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, followKey{}, follow)
	// A clone shares the client and transport; it carries this request's
	// context, which colly takes from the collector, not the request.
	c := f.colly.Clone()
	c.Context = ctx
	var got *colly.Response
	c.OnResponse(func(r *colly.Response) { got = r })
	start := time.Now()
	err := c.Request(http.MethodGet, rawURL, nil, nil, hdr)
	if f.obs != nil {
		status := 0
		if got != nil {
			status = got.StatusCode
		}
		if u, perr := url.Parse(rawURL); perr == nil {
			f.obs.HTTPRequest(hostName(u.Host), status, time.Since(start))
		}
	}
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // its text repeats the URL
		}
		switch {
		case errors.Is(err, ErrTruncated):
		case errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("%w: %w", ErrTruncated, err)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			err = fmt.Errorf("no response within the %v fetch timeout: %w", f.cfg.Timeout, err)
		}
		return nil, err
	}
	if got == nil {
		return nil, errors.New("no response")
	}
	header := http.Header{}
	if got.Headers != nil {
		header = *got.Headers
	}
	resp := &Response{
		URL:          got.Request.URL.String(),
		Status:       got.StatusCode,
		Body:         got.Body,
		ETag:         header.Get("ETag"),
		LastModified: header.Get("Last-Modified"),
		CacheControl: header.Get("Cache-Control"),
		Header:       header,
	}
	// Colly has decoded a body whose Content-Type names a charset.
	if ct := header.Get("Content-Type"); !namesCharset(ct) && len(resp.Body) > 0 {
		resp.Body = charset.ToUTF8(resp.Body, ct)
	}
	resp.Body = charset.DeclareUTF8(resp.Body)
	return resp, nil
}

// followKey marks a request context whose redirects colly follows.
type followKey struct{}

// redirect is colly's redirect handler: a page's redirect is returned to
// GetWithin; robots.txt's are followed to allowed hosts, at most
// maxRedirects hops.
func (f *Client) redirect(req *http.Request, via []*http.Request) error {
	if follow, _ := req.Context().Value(followKey{}).(bool); !follow {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("redirect to %s: %w (%d)", req.URL, ErrTooManyRedirects, len(via))
	}
	if !f.hostAllowed(req.URL.Hostname()) {
		return fmt.Errorf("redirect to %s: %w", req.URL, ErrForbiddenHost)
	}
	return nil
}

// retryWait is the pause before attempt+1: the server's Retry-After if it
// sent one, else exponential backoff with full jitter; at most BackoffMax.
func (f *Client) retryWait(err error, attempt int) time.Duration {
	if he, ok := errors.AsType[*HTTPError](err); ok && he.RetryAfter > 0 {
		return min(he.RetryAfter, f.cfg.BackoffMax)
	}
	ceiling := f.cfg.BackoffMax
	if shift := attempt - 1; shift < 30 && f.cfg.BackoffBase<<shift < ceiling {
		ceiling = f.cfg.BackoffBase << shift
	}
	return time.Duration(f.jitter(int64(ceiling) + 1))
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// namesCharset reports whether a Content-Type header names a charset.
func namesCharset(contentType string) bool {
	_, params, _ := mime.ParseMediaType(contentType)
	_, ok := params["charset"]
	return ok
}
