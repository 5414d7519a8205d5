package feed

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/internal/config"
)

// Compile checks and compiles feed configs, filling in defaults. It
// reports every problem, each with its path under prefix (feeds[2].url),
// not just the first. Site names are not checked here: the caller holds the
// compiled sites.
func Compile(prefix string, cfgs []config.Feed) ([]*Feed, []error) {
	var errs []error
	var feeds []*Feed
	names := map[string]bool{}
	urls := map[string]string{}
	for i, c := range cfgs {
		p := fmt.Sprintf("%s[%d]", prefix, i)
		c.Name = strings.TrimSpace(c.Name)
		c.URL = strings.TrimSpace(c.URL)
		if c.Type == "" {
			c.Type = TypeRSS
		}
		if c.Timezone == "" {
			c.Timezone = defaultTimezone
		}
		if c.Pages == 0 {
			c.Pages = 1
		}
		f := &Feed{cfg: c, interval: defaultInterval, pages: c.Pages}

		if c.Name == "" {
			config.BadField(&errs, p+".name", "required")
		} else if names[c.Name] {
			config.BadField(&errs, p+".name", "duplicate feed name %q", c.Name)
		}
		names[c.Name] = true

		switch c.Type {
		case TypeRSS, TypeListing, TypeJSONListing:
		default:
			config.BadField(&errs, p+".type", "unknown feed type %q (use %s, %s or %s)", c.Type, TypeRSS, TypeListing, TypeJSONListing)
		}

		if c.Pages < 1 || c.Pages > maxPages {
			config.BadField(&errs, p+".pages", "%d: want 1 to %d", c.Pages, maxPages)
		} else if c.Pages > 1 && c.Type == TypeRSS {
			config.BadField(&errs, p+".pages", "pages apply only to types %s and %s", TypeListing, TypeJSONListing)
		}
		type field struct{ path, raw string }
		var fields []field
		if c.URL != "" || len(c.URLs) == 0 {
			fields = append(fields, field{p + ".url", c.URL})
		}
		for j, raw := range c.URLs {
			fields = append(fields, field{fmt.Sprintf("%s.urls[%d]", p, j), strings.TrimSpace(raw)})
		}
		for _, fl := range fields {
			u, ok := compileURL(&errs, fl.path, fl.raw, c)
			if !ok {
				continue
			}
			written := u.String()
			if strings.Contains(fl.raw, PagePlaceholder) {
				written = fl.raw
			}
			f.urls = append(f.urls, written)
			key := strings.ToLower(u.Host) + u.RequestURI()
			if first, dup := urls[key]; dup {
				config.BadField(&errs, fl.path, "%q is already polled by %s", fl.raw, first)
			} else {
				urls[key] = fl.path
			}
		}

		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			config.BadField(&errs, p+".timezone", "unknown time zone %q (use an IANA name such as Asia/Singapore)", c.Timezone)
		}
		f.loc = loc

		if c.Interval != "" {
			d, err := time.ParseDuration(c.Interval)
			switch {
			case err != nil:
				config.BadField(&errs, p+".interval", "%q is not a duration (write 10m, 1h30m)", c.Interval)
			case d < minInterval:
				config.BadField(&errs, p+".interval", "%s is below the minimum of %s", d, minInterval)
			default:
				f.interval = d
			}
		}

		switch {
		case c.Type == TypeListing && len(c.Links) == 0:
			config.BadField(&errs, p+".links", "at least one link selector is required for a listing")
		case c.Type != TypeListing && len(c.Links) > 0:
			config.BadField(&errs, p+".links", "link selectors apply only to type %s", TypeListing)
		}
		f.links = config.Selectors(p+".links", c.Links, &errs)
		feeds = append(feeds, f)
	}
	return feeds, errs
}

// compileURL checks one of a feed's URLs, at path; a PagePlaceholder is
// read as the first page's number.
func compileURL(errs *[]error, path, raw string, c config.Feed) (*url.URL, bool) {
	if raw == "" {
		config.BadField(errs, path, "required")
		return nil, false
	}
	templated := strings.Contains(raw, PagePlaceholder)
	u, ok := httpurl.Parse(strings.ReplaceAll(raw, PagePlaceholder, "0"))
	switch {
	case !ok:
		config.BadField(errs, path, "%q is not an absolute http or https URL", raw)
		return nil, false
	case templated && c.Type == TypeRSS:
		config.BadField(errs, path, "%q: %s applies only to types %s and %s", raw, PagePlaceholder, TypeListing, TypeJSONListing)
		return nil, false
	case !templated && c.Pages > 1 && u.Query().Has("page") && !isNumber(u.Query().Get("page")):
		config.BadField(errs, path, "%q: page=%s is not a page number; later pages count on from it (or write page=%s)",
			raw, u.Query().Get("page"), PagePlaceholder)
		return nil, false
	}
	return u, true
}

func isNumber(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0
}
