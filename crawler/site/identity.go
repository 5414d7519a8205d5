package site

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
)

// ErrNoSiteRule: no site rule allows a URL's host and port.
var ErrNoSiteRule = fmt.Errorf("no site rule allows this host and port")

// ID is a story's identity: its canonical URL and, where the site's rules
// give one, a site key such as "zaobao:1214802".
type ID struct {
	URL     string
	SiteKey string
}

// Identify returns a story URL's identity, using the rules of its site
// when it has one (returned too): the canonical URL and the site key. A
// URL of a site's host on a port the site does not allow is
// ErrNoSiteRule.
func Identify(sites []*Site, raw string) (ID, *Site, error) {
	u, ok := httpurl.Parse(strings.TrimSpace(raw))
	if !ok {
		return ID{}, nil, fmt.Errorf("%q: %w", raw, ErrBadURL)
	}
	s := Find(sites, u)
	if s == nil {
		return ID{URL: genericCanonical(u, "")}, nil, nil
	}
	if !s.portAllowed(u) {
		return ID{}, nil, fmt.Errorf("%s: port %s: %w", raw, u.Port(), ErrNoSiteRule)
	}
	id := ID{URL: s.canonicalURL(u, "")}
	if sid := s.match(s.storyID, id.URL); sid != "" {
		id.SiteKey = s.cfg.Name + ":" + sid
	}
	return id, s, nil
}

// ErrUnnamedHost: no site entry or feed names a story URL's host.
var ErrUnnamedHost = errors.New("no site or feed names this host")

// InScope is the one rule of the stories newsmd may fetch and write: a
// site rule allows the URL's host and port (rules is that site), or it is
// on the host and port of one of origins, the URLs of the feeds that list
// it (rules is nil). Otherwise the error wraps ErrUnnamedHost,
// ErrNoSiteRule (a site's host on a port it does not allow) or ErrBadURL.
func InScope(sites []*Site, raw string, origins []string) (rules *Site, err error) {
	_, rules, err = Identify(sites, raw)
	if err != nil || rules != nil {
		return rules, err
	}
	if u, err := url.Parse(raw); err == nil {
		for _, o := range origins {
			if v, err := url.Parse(o); err == nil && SameOrigin(u, v) {
				return nil, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: %w", raw, ErrUnnamedHost)
}

// SameOrigin reports whether u is on the host and port of feed: the same
// host name, or one a subdomain of the other, and the same port. It is
// the scope of a feed's items that no site rule covers.
func SameOrigin(u, feed *url.URL) bool {
	a, b := strings.ToLower(u.Hostname()), strings.ToLower(feed.Hostname())
	if a != b && !strings.HasSuffix(a, "."+b) && !strings.HasSuffix(b, "."+a) {
		return false
	}
	return httpurl.EffectivePort(u) == httpurl.EffectivePort(feed)
}

// portAllowed reports whether the rule allows u's port: its scheme's
// default, the port of the site's canonical_host, or one a hosts entry
// names with u's host ("127.0.0.1:8080").
func (s *Site) portAllowed(u *url.URL) bool {
	p := u.Port()
	if p == "" || p == httpurl.EffectivePort(&url.URL{Scheme: u.Scheme}) {
		return true
	}
	if _, cp := httpurl.SplitPort(s.cfg.CanonicalHost); cp == p {
		return true
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, h := range s.cfg.Hosts {
		if name, hp := httpurl.SplitPort(h); hp == p && (host == name || strings.HasSuffix(host, "."+name)) {
			return true
		}
	}
	return false
}

// FromFeed makes the article of a feed item that carries the whole story
// (RSSHub does), for when its page cannot be fetched: id is the story's
// identity, s its site's rules or nil. The body is cleaned by the site's
// noise and paywall rules. It reports false when the item lacks a title,
// a time or a body, or its body cannot be parsed.
func FromFeed(s *Site, id ID, title, bodyHTML string, published time.Time) (converter.Article, bool) {
	if bodyHTML == "" || title == "" || published.IsZero() {
		return converter.Article{}, false
	}
	a := converter.Article{Title: title, URL: id.URL, Published: published, Extractor: "feed", FromFeed: true, BodyHTML: bodyHTML}
	if s != nil {
		a.Site = s.cfg.Title
		a.StoryID = s.match(s.storyID, id.URL)
		a.Section = s.match(s.section, id.URL)
		body, truncated, err := s.cleanFragment(bodyHTML)
		if err != nil {
			return converter.Article{}, false
		}
		a.Body, a.BodyHTML, a.Truncated = body, "", truncated
	}
	return a, true
}

// untracked is a canonical URL's query: "" unless keep, else raw without
// the parameters that track a click rather than name a page (utm_*, ref,
// fbclid, gclid), sorted.
func untracked(raw string, keep bool) string {
	if !keep || raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw // not a form: left as it is
	}
	for k := range q {
		if strings.HasPrefix(k, "utm_") || k == "ref" || k == "fbclid" || k == "gclid" {
			q.Del(k)
		}
	}
	return q.Encode()
}
