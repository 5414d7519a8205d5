package converter

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes keeps a file name well under the 255-byte limit of common
// file systems, leaving room for a suffix that tells two posts apart.
const maxNameBytes = 200

// FileName is the post's file name: YYYY-MM-DD-<title>.md, the date in
// loc. The title keeps its Chinese text; characters that are unsafe in a
// path, a URL or a shell are replaced, leading dots are removed, and it is
// cut to maxRunes runes (and maxNameBytes bytes) on a rune boundary.
func FileName(title string, published time.Time, loc *time.Location, maxRunes int) string {
	return published.In(loc).Format("2006-01-02") + "-" + safeTitle(title, maxRunes) + ".md"
}

func safeTitle(title string, maxRunes int) string {
	var b strings.Builder
	lastDash := true // so the name never starts with a separator
	lastSpace := false
	for _, r := range title {
		switch {
		case unicode.IsSpace(r):
			// Before the control characters: "\n" and "\t" are both.
			if !lastDash && !lastSpace {
				b.WriteByte(' ')
				lastSpace = true
			}
			continue
		case r == utf8.RuneError || Control(r) || Invisible(r) || unicode.Is(unicode.Cf, r):
			continue
		case strings.ContainsRune(`/\:*?"<>|#%&{}$!'`+"`"+`^~[]=+;,`, r):
			if !lastDash {
				if lastSpace {
					// "a / b" becomes "a-b", not "a - b".
					s := strings.TrimSuffix(b.String(), " ")
					b.Reset()
					b.WriteString(s)
				}
				b.WriteByte('-')
				lastDash = true
			}
			lastSpace = false
			continue
		case r == '.':
			// Never a leading dot and never "..".
			if lastDash || strings.HasSuffix(b.String(), ".") {
				continue
			}
		}
		b.WriteRune(r)
		lastDash = r == '-'
		lastSpace = false
	}
	s := cut(b.String(), maxRunes)
	s = strings.TrimRight(s, " -.")
	s = strings.TrimLeft(s, " -.")
	if s == "" {
		return "untitled"
	}
	return s
}

// cut shortens s to at most n runes and maxNameBytes bytes.
func cut(s string, n int) string {
	runes, size := 0, 0
	for i, r := range s {
		l := utf8.RuneLen(r)
		if runes == n || size+l > maxNameBytes {
			return s[:i]
		}
		runes++
		size += l
	}
	return s
}
