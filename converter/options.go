package converter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Profiles name the front matter dialects Render writes.
const (
	ProfileJekyll = "jekyll"
	ProfileHugo   = "hugo"
)

// SiteVar in Author, Tags or Categories is replaced by Article.Site.
const SiteVar = "{site}"

// ExtraFields are the optional front matter keys, in the order they are
// written when switched on.
var ExtraFields = []string{"story_id", "section", "updated", "byline", "keywords", "image", "image_caption", "truncated", "date_source", "lang"}

// Options controls the shape of a post. The zero value is not usable; start
// from DefaultOptions.
type Options struct {
	// Profile is ProfileJekyll (the legacy archive format) or ProfileHugo.
	Profile string
	// Location is the time zone of the date key and the file name's date.
	Location *time.Location
	// Layout is the Jekyll layout key.
	Layout string
	// Author is the author key; "" writes the article's Site, or its
	// byline when the site is unknown. SiteVar stands for the site's name
	// here and in Tags and Categories.
	Author string
	// Tags and Categories are written as given, without empty entries.
	Tags       []string
	Categories []string
	// KeywordTags appends the article's keywords to Tags.
	KeywordTags bool
	// Comments writes "comments: true" (Jekyll profile only).
	Comments bool
	// Extra lists optional front matter keys from ExtraFields.
	Extra []string
	// TitleMaxRunes cuts the title part of the file name.
	TitleMaxRunes int
	// Rewrites are applied, in order, to every absolute image URL.
	Rewrites []Rewrite
}

// Rewrite replaces the part of a URL matched by Pattern with Replace,
// which may refer to groups as $1 (regexp.Expand syntax).
type Rewrite struct {
	Pattern *regexp.Regexp
	Replace string
}

// DefaultOptions returns the options that reproduce the legacy archive.
func DefaultOptions() Options {
	return Options{
		Profile:       ProfileJekyll,
		Location:      singapore(),
		Layout:        "post",
		Author:        SiteVar,
		Tags:          []string{SiteVar},
		Categories:    []string{SiteVar},
		Comments:      true,
		TitleMaxRunes: 50,
	}
}

// An OptionError is a problem with one option, named by its key in the
// output: section of config.yaml ("title_max_runes", "extra[1]").
type OptionError struct {
	Key string
	Err error
}

func (e *OptionError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Validate reports every problem with o, each an *OptionError. It is the
// one check of these rules: cmd/newsmd reports its errors under output:.
func (o Options) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &OptionError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	if o.Profile != ProfileJekyll && o.Profile != ProfileHugo {
		bad("profile", "%q: want %s or %s", o.Profile, ProfileJekyll, ProfileHugo)
	}
	if o.Location == nil {
		bad("timezone", "not set")
	}
	if o.TitleMaxRunes < 8 || o.TitleMaxRunes > 80 {
		bad("title_max_runes", "%d: want 8 to 80", o.TitleMaxRunes)
	}
	for i, e := range o.Extra {
		if !slices.Contains(ExtraFields, e) {
			bad(fmt.Sprintf("extra[%d]", i), "%q: want one of %s", e, strings.Join(ExtraFields, ", "))
		}
	}
	for i, r := range o.Rewrites {
		if r.Pattern == nil {
			bad(fmt.Sprintf("rewrites[%d]", i), "no pattern")
		}
	}
	return errors.Join(errs...)
}

// singapore is the zone zaobao prints its times in. time/tzdata is
// embedded by the binary, so LoadLocation only fails on a broken build;
// a fixed +08:00 zone is then the same instant rule (Singapore has had no
// DST since 1982).
func singapore() *time.Location {
	loc, err := time.LoadLocation("Asia/Singapore")
	if err != nil {
		return time.FixedZone("+08", 8*3600)
	}
	return loc
}
