package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/newsmd/newsmd/crawler/site"
)

// printReport writes the report for a person.
func printReport(w io.Writer, rep *doctorReport) {
	fmt.Fprintln(w, "newsmd doctor (read-only: nothing is written to the archive or the store)")
	healthy := 0
	for _, c := range rep.Feeds {
		fmt.Fprintln(w)
		if c.Name != "" {
			fmt.Fprintf(w, "feed %s (%s) %s\n", c.Name, c.Type, c.URL)
			if len(c.URLs) > 1 {
				for i, u := range c.URLs {
					fmt.Fprintf(w, "  url %-8d %s: %s\n", i+1, u.URL, u.describe())
				}
			}
			switch {
			case c.Error != "" && c.Status >= 300:
				fmt.Fprintf(w, "  reachable    no: HTTP %d\n", c.Status)
			case c.Error != "" && c.Status == 0:
				fmt.Fprintf(w, "  reachable    no: %s\n", c.Error)
			case c.Error != "":
				fmt.Fprintf(w, "  reachable    yes: HTTP %d, but unreadable: %s\n", c.Status, c.Error)
			default:
				fmt.Fprintf(w, "  reachable    yes: HTTP %d\n", c.Status)
				fmt.Fprintf(w, "  items        %d (%d in scope)\n", c.Items, c.InScope)
				if c.OutOfScope != "" {
					fmt.Fprintf(w, "  dropped      %d that no site rule allows, the first %s\n", c.Items-c.InScope, c.OutOfScope)
				}
			}
		}
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  note         %s\n", n)
		}
		if s := c.Story; s != nil {
			printStory(w, s)
		}
		label := "feed " + c.Name
		if c.Name == "" {
			label = "story"
		}
		if len(c.Problems) == 0 {
			healthy++
			fmt.Fprintf(w, "  verdict      OK: %s%s\n", label, notes(c))
			continue
		}
		fmt.Fprintf(w, "  verdict      BROKEN: %s, %d problem(s)\n", label, len(c.Problems))
		for _, p := range c.Problems {
			fmt.Fprintf(w, "    ✗ %s\n      fix: %s\n", p.What, p.Fix)
		}
	}
	fmt.Fprintln(w)
	if rep.OK {
		fmt.Fprintf(w, "overall: OK (%d of %d healthy)\n", healthy, len(rep.Feeds))
		return
	}
	fmt.Fprintf(w, "overall: BROKEN (%d of %d healthy)\n", healthy, len(rep.Feeds))
	for _, c := range rep.Feeds {
		for _, p := range c.Problems {
			name := c.Name
			if name == "" {
				name = c.Story.URL
			}
			fmt.Fprintf(w, "  %s: %s\n", name, p.What)
		}
	}
}

// notes are what a healthy check still tells: missing optional fields,
// a paywall.
func notes(c *feedCheck) string {
	if c.Story == nil || c.Story.Diagnosis == nil {
		return ""
	}
	var n []string
	if m := c.Story.Diagnosis.Missing(); len(m) > 0 {
		n = append(n, "missing "+strings.Join(m, ", "))
	}
	if c.Story.Diagnosis.Truncated {
		n = append(n, "story truncated by a paywall")
	}
	if len(n) == 0 {
		return ""
	}
	return " (" + strings.Join(n, "; ") + ")"
}

func printStory(w io.Writer, s *storyCheck) {
	fmt.Fprintf(w, "  story        %s\n", s.URL)
	if s.Diagnosis == nil {
		fmt.Fprintf(w, "  fetched      no: %s\n", s.Error)
		return
	}
	fmt.Fprintf(w, "  fetched      HTTP %d, %d bytes\n", s.Status, s.Bytes)
	dg := s.Diagnosis
	switch {
	case dg.Site == "":
		fmt.Fprintln(w, "  site         none: no site rules for this host")
	case len(dg.Layouts) == 0:
		fmt.Fprintf(w, "  site         %s, without layouts: read by the generic extractor\n", dg.Site)
	}
	for i, l := range dg.Layouts {
		head := "  layouts      "
		if i > 0 {
			head = "               "
		}
		var state string
		switch {
		case l.Yields:
			state = "✓ gave the article"
		case l.Applies && l.Tried:
			state = "✗ matches, but " + l.Why
		case l.Applies:
			state = "- matches (not tried: an earlier layout gave the article)"
		default:
			state = "✗ " + l.Why
		}
		fmt.Fprintf(w, "%s%-14s %s\n", head, l.Name, state)
		if len(l.Fields) > 0 {
			printFields(w, "                 ", l.Fields, dg)
		}
	}
	if dg.Extractor == "" {
		why := s.Error
		if ee, ok := errors.AsType[*site.ExtractError](dg.Err); ok && len(ee.Tried) > 0 {
			why = ee.Tried[len(ee.Tried)-1]
		}
		fmt.Fprintf(w, "  extractor    none (%s)\n", why)
		return
	}
	extractor := dg.Extractor
	if strings.HasPrefix(extractor, "generic (") {
		extractor = "none: fell to generic " + strings.TrimPrefix(extractor, "generic ")
	}
	fmt.Fprintf(w, "  extractor    %s\n", extractor)
	printFields(w, "    ", dg.Fields, dg)
	paywall := "no"
	if dg.Truncated {
		paywall = "yes: a paywall prompt was removed, the story is truncated"
	}
	fmt.Fprintf(w, "  truncated    %s\n", paywall)
}

// printFields writes fields, one a line, each with its source or what
// was tried.
func printFields(w io.Writer, indent string, fields []site.Field, dg *site.Diagnosis) {
	for _, f := range fields {
		if f.Missing() {
			tried := "no source configured"
			switch {
			case len(f.Tried) > 0:
				tried = "tried " + strings.Join(f.Tried, ", ")
			case f.Name == "image_caption" && !slices.ContainsFunc(fields, func(f site.Field) bool { return f.Name == "image" && !f.Missing() }):
				tried = "no image"
			case strings.HasPrefix(dg.Extractor, "generic"):
				tried = "the generic extractor found none"
			}
			fmt.Fprintf(w, "%s%-14s ✗ missing (%s)\n", indent, f.Name, tried)
			continue
		}
		v := f.Value
		if f.Name != "published" && f.Name != "modified" && f.Name != "body" && f.Name != "images" {
			v = quote(v, 60)
		}
		fmt.Fprintf(w, "%s%-14s ← %-26s %s\n", indent, f.Name, f.Source, v)
	}
}

// quote quotes v, cut to max runes.
func quote(v string, max int) string {
	if utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max]) + "…"
	}
	return `"` + v + `"`
}

// describe is how one address of a feed answered.
func (u urlCheck) describe() string {
	var what string
	switch {
	case u.Error != "":
		what = u.short()
	default:
		what = fmt.Sprintf("HTTP %d, %d items", u.Status, u.Items)
	}
	if u.Location != "" {
		what += " (redirected to " + u.Location + ")"
	}
	return what
}
