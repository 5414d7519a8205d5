package converter

import (
	"fmt"
	"regexp"
	"slices"
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
var ExtraFields = []string{"story_id", "section", "updated", "byline", "keywords", "image", "image_caption", "truncated"}

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

// Validate reports the first problem with o.
func (o Options) Validate() error {
	if o.Profile != ProfileJekyll && o.Profile != ProfileHugo {
		return fmt.Errorf("profile %q: want %q or %q", o.Profile, ProfileJekyll, ProfileHugo)
	}
	if o.Location == nil {
		return fmt.Errorf("location: not set")
	}
	if o.TitleMaxRunes < 8 || o.TitleMaxRunes > 80 {
		return fmt.Errorf("title max runes %d: want 8 to 80", o.TitleMaxRunes)
	}
	for _, e := range o.Extra {
		if !slices.Contains(ExtraFields, e) {
			return fmt.Errorf("extra field %q: want one of %v", e, ExtraFields)
		}
	}
	for i, r := range o.Rewrites {
		if r.Pattern == nil {
			return fmt.Errorf("rewrites[%d]: no pattern", i)
		}
	}
	return nil
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
