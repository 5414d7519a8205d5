package site

import (
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
)

// errNoTitle is the error of an attempt that found no headline.
var errNoTitle = errors.New("no title")

// firstHeadline returns the first headline that srcs give on p.
func (p *page) firstHeadline(srcs []source, siteNames []string) string {
	for _, src := range srcs {
		for _, v := range p.values(src, false, false) {
			if h := headline(v, siteNames); h != "" {
				return h
			}
		}
	}
	return ""
}

// siteNames are the site's title when it has rules, and the names the
// page gives its site (og:site_name, application-name).
func (p *page) siteNames(s *Site) []string {
	var names []string
	if s != nil {
		names = append(names, s.cfg.Title)
	}
	for _, key := range []string{"og:site_name", "application-name"} {
		names = append(names, p.metas()[key]...)
	}
	return names
}

// titleSeparators part a headline from the site's name in a <title> or an
// og:title: "标题 | 联合早报", "标题 - 联合早报".
const titleSeparators = "|｜-–—:：·•_/»«"

func isTitleSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(titleSeparators, r)
}

// headline cleans a title candidate with converter.CleanText and returns
// "" when it holds no headline. That is what a page whose headline is
// empty shows in its <title> or og:title: nothing visible (white space of
// any kind, zero-width characters), or only separators and the site's
// name ("| 联合早报", "- 联合早报", "联合早报 | 联合早报"), or a separator
// with nothing before it, then the site's name with a suffix ("| 联合早报网"
// for the site 联合早报). A headline that starts or ends with the site's
// name is kept whole ("联合早报社论：…", "读者来信 | 联合早报").
func headline(title string, siteNames []string) string {
	t := converter.CleanText(title)
	var names, known []string
	for _, n := range siteNames {
		n = strings.TrimFunc(converter.CleanText(n), isTitleSeparator)
		// A "name" with a separator inside is the page's own title put
		// where the site's name belongs (application-name), not a name.
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return strings.ContainsRune(titleSeparators, r) }) {
			continue
		}
		names = append(names, n)
		known = append(known, strings.FieldsFunc(n, isTitleSeparator)...)
	}
	isKnown := func(w string) bool {
		return slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(w, k) })
	}
	if !slices.ContainsFunc(strings.FieldsFunc(t, isTitleSeparator), func(w string) bool { return !isKnown(w) }) {
		return ""
	}
	if r, size := utf8.DecodeRuneInString(t); strings.ContainsRune(titleSeparators, r) && strings.HasPrefix(t[size:], " ") {
		rest := strings.TrimLeftFunc(t[size:], isTitleSeparator)
		if slices.ContainsFunc(names, func(n string) bool { return len(rest) >= len(n) && strings.EqualFold(rest[:len(n)], n) }) {
			return ""
		}
	}
	return t
}

func firstMeta(p *page, name string) string {
	for _, v := range p.values(source{kind: "meta", attr: name}, false, false) {
		if v != "" {
			return v
		}
	}
	return ""
}
