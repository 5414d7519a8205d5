package config

import (
	"fmt"
	"regexp"

	"github.com/andybalholm/cascadia"
)

// The helpers of the packages that compile a section (site.Compile,
// feed.Compile): each reports a bad value as a FieldError at its path.

// Regexp compiles expr, "" giving nil.
func Regexp(path, expr string, errs *[]error) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		BadField(errs, path, "bad regular expression: %w", err)
		return nil
	}
	return re
}

// Selector compiles a CSS selector.
func Selector(path, sel string, errs *[]error) cascadia.Selector {
	g, err := cascadia.Compile(sel)
	if err != nil {
		BadField(errs, path, "bad CSS selector %q: %w", sel, err)
		return nil
	}
	return g
}

// Selectors compiles a list of CSS selectors, path being the list's.
func Selectors(path string, sels []string, errs *[]error) []cascadia.Selector {
	var out []cascadia.Selector
	for i, s := range sels {
		if g := Selector(fmt.Sprintf("%s[%d]", path, i), s, errs); g != nil {
			out = append(out, g)
		}
	}
	return out
}
