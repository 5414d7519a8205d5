package converter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Invisible reports whether r is a character that only ever appears in
// article text as a tracking watermark or a layout hint (zero-width
// spaces and joiners, BOMs, soft hyphens).
func Invisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return true
	}
	return false
}

// Control reports whether r is a control character that must never reach
// a post: C0 controls other than tab, line feed and carriage return, DEL,
// C1 controls, surrogate code points and Unicode noncharacters (U+FFFE,
// U+FFFF, U+FDD0–U+FDEF and the last two of every plane). No story needs
// them; they come from pasted text or a hostile page, and ESC would drive
// the terminal of whoever reads the post with cat. It is the one
// definition of such characters, for fields (CleanText), file names and
// bodies (StripHidden).
func Control(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0xd800 && r <= 0xdfff:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	}
	return false
}

// StripHidden removes Control and Invisible characters from s, the body
// text of a story, keeping its white space and line breaks; a control
// character that is white space (form feed, vertical tab, NEL) becomes a
// space, as CleanText folds it into one.
func StripHidden(s string) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case !hidden(r):
			return r
		case unicode.IsSpace(r):
			return ' '
		}
		return -1
	}, s)
}

func hidden(r rune) bool { return Control(r) || Invisible(r) }

// CleanText makes s a one-line field (a title, a caption): it trims s,
// drops control, format and invisible characters and broken UTF-8, and
// folds every run of white space into one space.
func CleanText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case Control(r) || Invisible(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
