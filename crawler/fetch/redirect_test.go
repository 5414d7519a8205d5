package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFetcherRedirectHops: each hop of a redirect is a request of its own,
// under robots.txt and the host's delay; Response.Redirects lists them.
func TestFetcherRedirectHops(t *testing.T) {
	page := fetchPage(t)
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		},
		"/realtime/china": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/news/china", http.StatusMovedPermanently)
		},
		"/news/china": fetchServe(page),
		"/realtime/secret": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/private/secret", http.StatusFound)
		},
		"/private/secret": fetchServe(page),
	})
	cfg := fetchTestConfig()
	cfg.Delay = 2 * time.Second
	f, clock := fetchNewTest(t, cfg)

	resp, err := f.Get(t.Context(), site.URL+"/realtime/china", Conditional{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.URL != site.URL+"/news/china" || !slices.Equal(resp.Redirects, []string{site.URL + "/news/china"}) {
		t.Errorf("got URL %s, redirects %q; want the new location once", resp.URL, resp.Redirects)
	}
	// robots.txt, then the old URL 2s later, then the new one 2s after.
	if got := clock.recorded(); !slices.Equal(got, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits: got %v, want [2s 2s]: the hop keeps the host's delay", got)
	}

	_, err = f.Get(t.Context(), site.URL+"/realtime/secret", Conditional{})
	if !errors.Is(err, ErrRobots) {
		t.Errorf("redirect to a disallowed path: got %v, want ErrRobots", err)
	}
	if n := site.count("/private/secret"); n != 0 {
		t.Errorf("disallowed page requested %d times, want 0", n)
	}
}

// TestFetcherGetWithin: a redirect the caller's rule refuses is an error
// naming where it led, and its target is not requested.
func TestFetcherGetWithin(t *testing.T) {
	page := fetchPage(t)
	var target string
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/feed":  func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target, http.StatusMovedPermanently) },
		"/moved": fetchServe(page),
	})
	// The same server under another name: allowed by the Client, not by
	// the rule.
	target = strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/moved"
	f, _ := fetchNewTest(t, fetchTestConfig())
	sameHost := func(u *url.URL) bool { return u.Hostname() == "127.0.0.1" }

	_, err := f.GetWithin(t.Context(), site.URL+"/feed", Conditional{}, sameHost)
	if !errors.Is(err, ErrForbiddenHost) || !strings.Contains(err.Error(), target) {
		t.Errorf("got %v, want ErrForbiddenHost naming %s", err, target)
	}
	if n := site.count("/moved"); n != 0 {
		t.Errorf("refused target requested %d times, want 0", n)
	}
	if got, _ := Classify(err); got != "redirect" {
		t.Errorf("classified %q, want redirect", got)
	}
	// Without the rule the Client follows it.
	resp, err := f.Get(t.Context(), site.URL+"/feed", Conditional{})
	if err != nil || resp.URL != target {
		t.Errorf("Get: got %v, %v; want %s", resp, err, target)
	}
}

// TestFetcherRobotsRedirect: robots.txt's own redirects are still
// followed (RFC 9309), so its rules apply.
func TestFetcherRobotsRedirect(t *testing.T) {
	page := fetchPage(t)
	site := fetchNewSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/robots-moved.txt", http.StatusMovedPermanently)
		},
		"/robots-moved.txt": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "User-agent: *\nDisallow: /realtime/\n")
		},
		"/realtime/story": fetchServe(page),
	})
	f, _ := fetchNewTest(t, fetchTestConfig())
	if _, err := f.Get(t.Context(), site.URL+"/realtime/story", Conditional{}); !errors.Is(err, ErrRobots) {
		t.Errorf("got %v, want ErrRobots from the redirected robots.txt", err)
	}
}
