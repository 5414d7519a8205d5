package site

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/internal/config"
)

// Site is a compiled config.Site.
type Site struct {
	cfg      config.Site
	loc      *time.Location
	storyID  *regexp.Regexp
	section  *regexp.Regexp
	remove   []cascadia.Selector
	paywall  []cascadia.Selector
	layouts  []layout
	rewrites []converter.Rewrite
}

type layout struct {
	cfg       config.Layout
	when      cascadia.Selector
	gallery   cascadia.Selector
	remove    []cascadia.Selector
	fields    map[string][]source
	hydration *config.Hydration
	images    []imageRule
	truncated []source
}

// Name is the site's configured name.
func (s *Site) Name() string { return s.cfg.Name }

// Title is the publication's name: the configured title, else the name.
func (s *Site) Title() string { return s.cfg.Title }

// Location is the site's time zone.
func (s *Site) Location() *time.Location { return s.loc }

// ImageRewrites are the site's image URL rewrites.
func (s *Site) ImageRewrites() []converter.Rewrite { return s.rewrites }

// Matches reports whether host is one of the site's hosts or a subdomain
// of one.
func (s *Site) Matches(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	for _, h := range s.cfg.Hosts {
		h, _ = httpurl.SplitPort(h)
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// Compile checks and compiles site configs. It reports every problem,
// each with its path under prefix, not just the first.
func Compile(prefix string, cfgs []config.Site) ([]*Site, []error) {
	var errs []error
	var sites []*Site
	names := map[string]bool{}
	hostOwner := map[string]string{} // host entry → the site that names it
	for i, c := range cfgs {
		p := fmt.Sprintf("%s[%d]", prefix, i)
		s := &Site{cfg: c}
		if c.Name == "" {
			config.BadField(&errs, p+".name", "required")
		} else if names[c.Name] {
			config.BadField(&errs, p+".name", "duplicate site name %q", c.Name)
		}
		names[c.Name] = true
		if len(c.Hosts) == 0 {
			config.BadField(&errs, p+".hosts", "at least one host is required: the host names of the site's pages, such as [rfi.fr] (subdomains match too)")
		}
		for j, h := range c.Hosts {
			hp := fmt.Sprintf("%s.hosts[%d]", p, j)
			name, port := httpurl.SplitPort(h)
			switch {
			case strings.Contains(h, "://") || strings.Contains(h, "/"):
				config.BadField(&errs, hp, "%q: write the host name alone, without scheme or path (rfi.fr, not https://www.rfi.fr/cn/)", h)
			case name == "" || strings.ContainsAny(name, ":@ ") || h != strings.ToLower(h):
				config.BadField(&errs, hp, "%q is not a lowercase host name (or host:port)", h)
			default:
				if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
					config.BadField(&errs, hp, "%q: the port is not a number from 1 to 65535", h)
				} else if other, ok := hostOwner[h]; ok && other != c.Name {
					// Find takes the first site that allows a host and
					// port: the later entry would never be used for it.
					config.BadField(&errs, hp, "%q is already a host of site %q: a host belongs to one site", h, other)
				} else {
					hostOwner[h] = c.Name
				}
			}
		}
		if c.Title == "" {
			// The post's {site} (author, tags): the name, until the
			// user gives the publication's own.
			s.cfg.Title = c.Name
		}
		if c.CanonicalHost != "" && (strings.ContainsAny(c.CanonicalHost, "/@ ") || !s.Matches(c.CanonicalHost)) {
			config.BadField(&errs, p+".canonical_host", "%q must be one of the site's hosts", c.CanonicalHost)
		}
		if c.CanonicalScheme != "" && c.CanonicalScheme != "https" && c.CanonicalScheme != "http" {
			config.BadField(&errs, p+".canonical_scheme", "%q: want https or http", c.CanonicalScheme)
		}
		tz := c.Timezone
		if tz == "" {
			tz = "Asia/Singapore"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			config.BadField(&errs, p+".timezone", "unknown time zone %q (use an IANA name such as Asia/Singapore)", tz)
		}
		s.loc = loc
		s.storyID = config.Regexp(p+".story_id", c.StoryID, &errs)
		s.section = config.Regexp(p+".section", c.Section, &errs)
		s.remove = config.Selectors(p+".remove", c.Remove, &errs)
		s.paywall = config.Selectors(p+".paywall", c.Paywall, &errs)
		for j, r := range c.ImageRewrites {
			rp := fmt.Sprintf("%s.image_rewrites[%d]", p, j)
			if r.Match == "" {
				config.BadField(&errs, rp+".match", "required")
				continue
			}
			if re := config.Regexp(rp+".match", r.Match, &errs); re != nil {
				s.rewrites = append(s.rewrites, converter.Rewrite{Pattern: re, Replace: r.Replace})
			}
		}
		// A site without layouts is read by the generic extractor: naming
		// its hosts is enough to fetch its stories.
		for j, lc := range c.Layouts {
			s.layouts = append(s.layouts, compileLayout(fmt.Sprintf("%s.layouts[%d]", p, j), lc, &errs))
		}
		sites = append(sites, s)
	}
	return sites, errs
}

func compileLayout(p string, c config.Layout, errs *[]error) layout {
	l := layout{cfg: c, fields: map[string][]source{}, hydration: c.Hydration}
	if c.Name == "" {
		config.BadField(errs, p+".name", "required")
	}
	if c.When != "" {
		l.when = config.Selector(p+".when", c.When, errs)
	}
	if c.Gallery != "" {
		l.gallery = config.Selector(p+".gallery", c.Gallery, errs)
	}
	l.remove = config.Selectors(p+".remove", c.Remove, errs)
	if h := c.Hydration; h != nil {
		if h.Variable == "" || !regexp.MustCompile(`^[A-Za-z_$][\w$]*$`).MatchString(h.Variable) {
			config.BadField(errs, p+".hydration.variable", "%q is not a JavaScript variable name", h.Variable)
		}
	}
	if c.Unshuffle != "" && strings.ContainsAny(c.Unshuffle, " =\"'<>") {
		config.BadField(errs, p+".unshuffle", "%q is not an attribute name", c.Unshuffle)
	}
	for _, f := range []struct {
		name string
		srcs []string
	}{
		{"title", c.Title}, {"published", c.Published}, {"modified", c.Modified},
		{"author", c.Author}, {"keywords", c.Keywords}, {"section", c.Section},
		{"image", c.Image}, {"image_caption", c.ImageCaption}, {"body", c.Body},
		{"truncated", c.Truncated},
	} {
		for k, raw := range f.srcs {
			sp := fmt.Sprintf("%s.%s[%d]", p, f.name, k)
			src, err := parseSource(raw)
			if err != nil {
				*errs = append(*errs, &config.FieldError{Path: sp, Err: err})
				continue
			}
			if src.kind == "json" && c.Hydration == nil {
				config.BadField(errs, sp, "json: source needs the layout's hydration setting")
			}
			l.fields[f.name] = append(l.fields[f.name], src)
		}
	}
	l.truncated = l.fields["truncated"]
	for k, ic := range c.Images {
		ip := fmt.Sprintf("%s.images[%d]", p, k)
		r, ok := compileImageRule(ip, ic, errs)
		if !ok {
			continue
		}
		if r.from.kind == "json" && c.Hydration == nil {
			config.BadField(errs, ip+".from", "json: source needs the layout's hydration setting")
			continue
		}
		l.images = append(l.images, r)
	}
	if len(c.Body) == 0 {
		config.BadField(errs, p+".body", "at least one body source is required")
	}
	return l
}

// Find returns the site whose hosts include u's host, or nil: the first
// that also allows u's port ("127.0.0.1:8080" in one site and
// "127.0.0.1:9090" in another are two sites), else the first whose hosts
// include it.
func Find(sites []*Site, u *url.URL) *Site {
	i := slices.IndexFunc(sites, func(s *Site) bool { return s.Matches(u.Hostname()) })
	if i < 0 {
		return nil
	}
	if j := slices.IndexFunc(sites[i:], func(s *Site) bool { return s.Matches(u.Hostname()) && s.portAllowed(u) }); j >= 0 {
		return sites[i+j]
	}
	return sites[i]
}
