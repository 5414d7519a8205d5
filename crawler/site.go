// Package crawler owns everything that touches a news site: fetching
// pages and the pure extraction step that turns page bytes, the page URL
// and site rules into an article.
package crawler

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
)

// SiteConfig is one site's rules as written in config.yaml.
type SiteConfig struct {
	// Name identifies the site in logs and in Article.Extractor.
	Name string `yaml:"name"`
	// Title is the publication's name (联合早报), the post's default author.
	Title string `yaml:"title"`
	// Hosts are the host names the rules apply to. Subdomains of a listed
	// host match too. URLs on the scheme's default port (and the port of
	// CanonicalHost) are allowed; "host:port" allows another port.
	Hosts []string `yaml:"hosts"`
	// CanonicalHost replaces the host of every article URL of the site.
	CanonicalHost string `yaml:"canonical_host"`
	// CanonicalScheme is the scheme of canonical URLs: https (the
	// default) or http, for a site (or a test mirror) without TLS.
	CanonicalScheme string `yaml:"canonical_scheme"`
	// Timezone is the zone of times the site prints without one, or with
	// a zone abbreviation (CST, SGT, HKT); default Asia/Singapore.
	Timezone string `yaml:"timezone"`
	// StoryID is a regular expression on the URL path whose first group is
	// the story's stable identity.
	StoryID string `yaml:"story_id"`
	// Section is a regular expression on the URL path whose first group is
	// the section (realtime/world).
	Section string `yaml:"section"`
	// Remove lists CSS selectors of noise removed from every body.
	Remove []string `yaml:"remove"`
	// Paywall lists CSS selectors of paywall prompts: when one is in the
	// body, the article is marked truncated and the prompt removed.
	Paywall []string `yaml:"paywall"`
	// PaywallText lists phrases that mark a paywall prompt paragraph.
	PaywallText []string `yaml:"paywall_text"`
	// ImageRewrites rewrite image URLs (applied by the converter).
	ImageRewrites []RewriteConfig `yaml:"image_rewrites"`
	// Layouts are tried in order; the first that yields a body wins.
	Layouts []LayoutConfig `yaml:"layouts"`
}

// RewriteConfig is a regular expression and its replacement ($1 for groups).
type RewriteConfig struct {
	Match   string `yaml:"match"`
	Replace string `yaml:"replace"`
}

// LayoutConfig describes one page layout of a site. Every field is a list
// of sources tried in order; see Source for their syntax.
type LayoutConfig struct {
	Name string `yaml:"name"`
	// When is a CSS selector the page must match for the layout to apply.
	When string `yaml:"when"`
	// Hydration locates a JSON payload a script assigns to a variable, for
	// "json:" sources.
	Hydration *HydrationConfig `yaml:"hydration"`

	Title        []string `yaml:"title"`
	Published    []string `yaml:"published"`
	Modified     []string `yaml:"modified"`
	Author       []string `yaml:"author"`
	Keywords     []string `yaml:"keywords"`
	Section      []string `yaml:"section"`
	Image        []string `yaml:"image"`
	ImageCaption []string `yaml:"image_caption"`
	// Body sources yield HTML: the inner HTML of the first element a
	// css: source matches, or an HTML string from json: or ldjson:.
	Body []string `yaml:"body"`
	// Gallery is a CSS selector of images outside the body (carousels) that
	// belong to the story; they are shown before the body with their
	// data-caption.
	Gallery string `yaml:"gallery"`
	// Remove lists CSS selectors of noise removed from this layout's body.
	Remove []string `yaml:"remove"`
	// Unshuffle names the attribute that holds each body child's reading
	// position, as 3 junk characters and the base32 of the decimal number.
	Unshuffle string `yaml:"unshuffle"`
}

// HydrationConfig finds `window.<Variable> = JSON.parse("…")` (or a plain
// object literal) in a script, and the article at Path inside it.
type HydrationConfig struct {
	Variable string `yaml:"variable"`
	Path     string `yaml:"path"`
}

// Site is a compiled SiteConfig.
type Site struct {
	cfg      SiteConfig
	loc      *time.Location
	storyID  *regexp.Regexp
	section  *regexp.Regexp
	remove   []cascadia.Selector
	paywall  []cascadia.Selector
	layouts  []layout
	rewrites []converter.Rewrite
}

type layout struct {
	cfg       LayoutConfig
	when      cascadia.Selector
	gallery   cascadia.Selector
	remove    []cascadia.Selector
	fields    map[string][]source
	hydration *HydrationConfig
}

// Name is the site's configured name.
func (s *Site) Name() string { return s.cfg.Name }

// Title is the publication's name.
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
		h, _ = splitPort(h)
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// splitPort splits "host:port" into its host and port; a host without a
// port has port "".
func splitPort(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i+1:], "]") {
		return h[:i], h[i+1:]
	}
	return h, ""
}

// FieldError is a configuration problem at a path such as
// "sites[0].layouts[2].title[1]".
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// badField adds a FieldError at path, with the formatted message, to errs.
func badField(errs *[]error, path, format string, args ...any) {
	*errs = append(*errs, &FieldError{Path: path, Err: fmt.Errorf(format, args...)})
}

// CompileSites checks and compiles site configs. It reports every problem,
// each with its path under prefix, not just the first.
func CompileSites(prefix string, cfgs []SiteConfig) ([]*Site, []error) {
	var errs []error
	var sites []*Site
	names := map[string]bool{}
	for i, c := range cfgs {
		p := fmt.Sprintf("%s[%d]", prefix, i)
		s := &Site{cfg: c}
		if c.Name == "" {
			badField(&errs, p+".name", "required")
		} else if names[c.Name] {
			badField(&errs, p+".name", "duplicate site name %q", c.Name)
		}
		names[c.Name] = true
		if len(c.Hosts) == 0 {
			badField(&errs, p+".hosts", "at least one host is required")
		}
		for j, h := range c.Hosts {
			name, port := splitPort(h)
			if name == "" || strings.ContainsAny(name, "/:@ ") || h != strings.ToLower(h) {
				badField(&errs, fmt.Sprintf("%s.hosts[%d]", p, j), "%q is not a lowercase host name (or host:port)", h)
			} else if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
				badField(&errs, fmt.Sprintf("%s.hosts[%d]", p, j), "%q: the port is not a number from 1 to 65535", h)
			}
		}
		if c.CanonicalHost != "" && (strings.ContainsAny(c.CanonicalHost, "/@ ") || !s.Matches(c.CanonicalHost)) {
			badField(&errs, p+".canonical_host", "%q must be one of the site's hosts", c.CanonicalHost)
		}
		if c.CanonicalScheme != "" && c.CanonicalScheme != "https" && c.CanonicalScheme != "http" {
			badField(&errs, p+".canonical_scheme", "%q: want https or http", c.CanonicalScheme)
		}
		tz := c.Timezone
		if tz == "" {
			tz = "Asia/Singapore"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			badField(&errs, p+".timezone", "unknown time zone %q (use an IANA name such as Asia/Singapore)", tz)
		}
		s.loc = loc
		s.storyID = compileRegexp(p+".story_id", c.StoryID, &errs)
		s.section = compileRegexp(p+".section", c.Section, &errs)
		s.remove = compileSelectors(p+".remove", c.Remove, &errs)
		s.paywall = compileSelectors(p+".paywall", c.Paywall, &errs)
		for j, r := range c.ImageRewrites {
			rp := fmt.Sprintf("%s.image_rewrites[%d]", p, j)
			if r.Match == "" {
				badField(&errs, rp+".match", "required")
				continue
			}
			if re := compileRegexp(rp+".match", r.Match, &errs); re != nil {
				s.rewrites = append(s.rewrites, converter.Rewrite{Pattern: re, Replace: r.Replace})
			}
		}
		if len(c.Layouts) == 0 {
			badField(&errs, p+".layouts", "at least one layout is required")
		}
		for j, lc := range c.Layouts {
			s.layouts = append(s.layouts, compileLayout(fmt.Sprintf("%s.layouts[%d]", p, j), lc, &errs))
		}
		sites = append(sites, s)
	}
	return sites, errs
}

func compileLayout(p string, c LayoutConfig, errs *[]error) layout {
	l := layout{cfg: c, fields: map[string][]source{}, hydration: c.Hydration}
	if c.Name == "" {
		badField(errs, p+".name", "required")
	}
	if c.When != "" {
		l.when = compileSelector(p+".when", c.When, errs)
	}
	if c.Gallery != "" {
		l.gallery = compileSelector(p+".gallery", c.Gallery, errs)
	}
	l.remove = compileSelectors(p+".remove", c.Remove, errs)
	if h := c.Hydration; h != nil {
		if h.Variable == "" || !regexp.MustCompile(`^[A-Za-z_$][\w$]*$`).MatchString(h.Variable) {
			badField(errs, p+".hydration.variable", "%q is not a JavaScript variable name", h.Variable)
		}
	}
	if c.Unshuffle != "" && strings.ContainsAny(c.Unshuffle, " =\"'<>") {
		badField(errs, p+".unshuffle", "%q is not an attribute name", c.Unshuffle)
	}
	for _, f := range []struct {
		name string
		srcs []string
	}{
		{"title", c.Title}, {"published", c.Published}, {"modified", c.Modified},
		{"author", c.Author}, {"keywords", c.Keywords}, {"section", c.Section},
		{"image", c.Image}, {"image_caption", c.ImageCaption}, {"body", c.Body},
	} {
		for k, raw := range f.srcs {
			sp := fmt.Sprintf("%s.%s[%d]", p, f.name, k)
			src, err := parseSource(raw)
			if err != nil {
				*errs = append(*errs, &FieldError{Path: sp, Err: err})
				continue
			}
			if src.kind == "json" && c.Hydration == nil {
				badField(errs, sp, "json: source needs the layout's hydration setting")
			}
			l.fields[f.name] = append(l.fields[f.name], src)
		}
	}
	if len(c.Body) == 0 {
		badField(errs, p+".body", "at least one body source is required")
	}
	return l
}

func compileRegexp(path, expr string, errs *[]error) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		badField(errs, path, "bad regular expression: %w", err)
		return nil
	}
	return re
}

func compileSelector(path, sel string, errs *[]error) cascadia.Selector {
	g, err := cascadia.Compile(sel)
	if err != nil {
		badField(errs, path, "bad CSS selector %q: %w", sel, err)
		return nil
	}
	return g
}

func compileSelectors(path string, sels []string, errs *[]error) []cascadia.Selector {
	var out []cascadia.Selector
	for i, s := range sels {
		if g := compileSelector(fmt.Sprintf("%s[%d]", path, i), s, errs); g != nil {
			out = append(out, g)
		}
	}
	return out
}

// FindSite returns the site whose hosts include u's host, or nil.
func FindSite(sites []*Site, u *url.URL) *Site {
	i := slices.IndexFunc(sites, func(s *Site) bool { return s.Matches(u.Hostname()) })
	if i < 0 {
		return nil
	}
	return sites[i]
}
