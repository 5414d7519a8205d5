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
	if !hasHidden(s) {
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

// hasHidden is strings.ContainsFunc(s, hidden), quicker: it decodes only
// the runes whose first byte can start a hidden one (C1 controls and the
// soft hyphen start with 0xC2, the zero-width ones with 0xE2,
// noncharacters and the BOM with 0xEF or 0xF0–0xF4), so CJK text is
// scanned byte by byte.
func hasHidden(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return true
			}
		case c == 0x7f:
			return true
		case c == 0xc2 || c == 0xe2 || c == 0xef || c >= 0xf0:
			if r, _ := utf8.DecodeRuneInString(s[i:]); hidden(r) {
				return true
			}
		}
	}
	return false
}

// CleanText makes s a one-line field (a title, a caption): it trims s,
// drops control, format and invisible characters and broken UTF-8, and
// folds every run of white space into one space.
func CleanText(s string) string {
	if cleanAlready(s) {
		return s
	}
	return cleanText(s)
}

// cleanText is CleanText, rune by rune.
func cleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case dropped(r):
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

// dropped reports whether CleanText drops r, which is not white space:
// broken UTF-8 (and U+FFFD, which it decodes to), control, invisible and
// format characters.
func dropped(r rune) bool {
	return r == utf8.RuneError || Control(r) || Invisible(r) || unicode.Is(unicode.Cf, r)
}

// cleanAlready reports whether CleanText(s) is s, which most fields are:
// nothing dropped, and no white space but single spaces inside. It spares
// them a copy.
func cleanAlready(s string) bool {
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c == ' ' && prevSpace || c != ' ' && !asciiKept[c] {
				return false
			}
			prevSpace = c == ' '
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || dropped(r) {
			return false
		}
		prevSpace = false
		i += size
	}
	return true
}

// asciiKept says which ASCII characters CleanText keeps as they are: the
// same rule, worked out once.
var asciiKept = func() (kept [utf8.RuneSelf]bool) {
	for c := range kept {
		kept[c] = !unicode.IsSpace(rune(c)) && !dropped(rune(c))
	}
	return kept
}()
