package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// HostGate shares each host's politeness budget among all the workers
// (processes, machines) that fetch from it, so that it is not multiplied
// by their number. Acquire blocks until a request to host may start:
// fewer than concurrency requests in flight across all workers, at least
// gap after the previous start, and not before a time any worker learnt
// from the host (Retry-After, host backoff). The returned release ends
// the request. Defer records such a time for everyone.
type HostGate interface {
	Acquire(ctx context.Context, host string, concurrency int, gap time.Duration) (release func(), err error)
	Defer(ctx context.Context, host string, until time.Time) error
}

// ErrHostGate is wrapped by the errors of a request whose HostGate failed
// (its store did not answer): the host was never asked, so the failure is
// not the host's. It is returned at once, without retries, and counts
// toward no backoff of the host.
var ErrHostGate = errors.New("shared host budget unavailable")

// ShareHosts makes f take its per-host budget from gate, shared with the
// other workers, instead of keeping it to itself.
func (f *Client) ShareHosts(gate HostGate) { f.gate = gate }

// Observer is told what the Client does on the network, for metrics.
// HTTPRequest is one HTTP exchange with host (a host name, no port): its
// status code, 0 when no response came, and its time from sending to the
// end of the body. PolitenessWait is the time a request waited for its
// host's budget before it was sent. Retry is a request made again after a
// failure that Classify names reason. The methods are called from many
// goroutines and must be quick.
type Observer interface {
	HTTPRequest(host string, status int, d time.Duration)
	PolitenessWait(host string, d time.Duration)
	Retry(reason string)
}

// Observe makes f report to o. Call it before the first request.
func (f *Client) Observe(o Observer) { f.obs = o }

// hostState is the politeness and health state of one host (host:port).
type hostState struct {
	slots  chan struct{} // one token per request in flight
	robots chan struct{} // held while robots.txt is fetched

	mu        sync.Mutex
	nextStart time.Time // earliest start of the next request
	failures  int       // consecutive
	level     int       // backoffs since the last success
	until     time.Time // backed off until then

	rules     *robotstxt.RobotsData
	rulesTill time.Time
}

// acquire takes one of the host's slots and waits for the host's
// next start time. The returned func gives the slot back.
func (f *Client) acquire(ctx context.Context, h *hostState, host string) (func(), error) {
	start := f.now()
	release, err := f.wait(ctx, h, host)
	if err == nil && f.obs != nil {
		f.obs.PolitenessWait(hostName(host), f.now().Sub(start))
	}
	return release, err
}

// wait is acquire without the observer.
func (f *Client) wait(ctx context.Context, h *hostState, host string) (func(), error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-h.slots }
	gap := f.cfg.Delay
	if f.cfg.RandomDelay > 0 {
		gap += time.Duration(f.jitter(int64(f.cfg.RandomDelay)))
	}
	if f.gate != nil {
		// The shared budget spaces the starts of all workers; ours only
		// bounds what this process has in flight.
		shared, err := f.gate.Acquire(ctx, host, f.cfg.Concurrency, gap)
		if err != nil {
			release()
			return nil, fmt.Errorf("host budget for %s: %w: %w", host, ErrHostGate, err)
		}
		return func() { shared(); release() }, nil
	}
	h.mu.Lock()
	now := f.now()
	start := now
	if h.nextStart.After(now) {
		start = h.nextStart
	}
	h.nextStart = start.Add(gap)
	h.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		if err := f.sleep(ctx, wait); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// hostName is host:port without the port, the host label of metrics.
func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(hostport)
}

func (f *Client) hostAllowed(host string) bool {
	if len(f.allowed) == 0 {
		return true
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, h := range f.allowed {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

func (f *Client) hostOf(hostport string) *hostState {
	hostport = strings.ToLower(hostport)
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hosts[hostport]
	if h == nil {
		h = &hostState{slots: make(chan struct{}, f.cfg.Concurrency), robots: make(chan struct{}, 1)}
		f.hosts[hostport] = h
	}
	return h
}

// checkRobots returns ErrRobots when the host's robots.txt disallows u.
// The file is fetched once a day per host, in the caller's slot. A 4xx or
// an unusable file allows everything; a 429, 5xx or network error is a
// temporary error, so the page is retried later rather than skipped.
func (f *Client) checkRobots(ctx context.Context, h *hostState, u *url.URL, hdr http.Header) error {
	select {
	case h.robots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.robots }()
	if h.rules == nil || !f.now().Before(h.rulesTill) {
		robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
		rh := http.Header{}
		rh.Set("User-Agent", hdr.Get("User-Agent"))
		// robots.txt is a request like any other: it takes a slot and
		// keeps the host's delay before the page that follows.
		release, err := f.acquire(ctx, h, u.Host)
		if err != nil {
			return err
		}
		resp, err := f.do(ctx, robotsURL, rh, true)
		release()
		var rules *robotstxt.RobotsData
		switch {
		case err != nil && retryable(err):
			return fmt.Errorf("robots.txt: %w", err)
		case err == nil && (resp.Status == http.StatusTooManyRequests || resp.Status >= 500):
			return fmt.Errorf("robots.txt: %w", &HTTPError{URL: robotsURL, Status: resp.Status, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), f.now())})
		case err == nil && resp.Status >= 200 && resp.Status < 300:
			rules, err = robotstxt.FromBytes(resp.Body)
		}
		if rules == nil || err != nil {
			// 4xx, redirects elsewhere, a file too large or unparsable.
			rules, _ = robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
		}
		h.rules, h.rulesTill = rules, f.now().Add(robotsTTL)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !h.rules.TestAgent(path, f.cfg.UserAgent) {
		return ErrRobots
	}
	return nil
}

// backedOff reports whether requests to h must wait, and until when.
func (h *hostState) backedOff(now time.Time) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until, now.Before(h.until)
}

func (h *hostState) succeeded() {
	h.mu.Lock()
	h.failures, h.level, h.until = 0, 0, time.Time{}
	h.mu.Unlock()
}

// failed counts a URL that failed, temporarily (Get counts each once).
// After hostFailures in a row the host is backed off, for longer each
// time it fails again afterwards, up to limit; the pause is returned when
// one starts.
func (h *hostState) failed(now time.Time, limit time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	if h.failures < hostFailures || now.Before(h.until) {
		return 0
	}
	d := limit
	if h.level < 30 && hostBackoffMin<<h.level < limit {
		d = hostBackoffMin << h.level
	}
	h.level++
	h.until = now.Add(d)
	return d
}

// deferHost tells the other workers to leave host alone until then.
func (f *Client) deferHost(ctx context.Context, host string, until time.Time) {
	if f.gate == nil {
		return
	}
	if err := f.gate.Defer(ctx, host, until); err != nil {
		f.log.Warn("could not share a host's wait", "host", host, "error", err)
	}
}
