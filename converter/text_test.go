package converter

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFastPathsEveryRune checks the byte scans that spare most text a
// copy against the rune-by-rune rules, for every rune, alone and between
// CJK or ASCII neighbours: a rune added to Control or Invisible whose
// first byte hasHidden does not look at fails here.
func TestFastPathsEveryRune(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		c := string(r)
		for _, s := range []string{c, "中" + c + "文", "a" + c + "b", c + " " + c} {
			want := strings.ContainsFunc(s, hidden)
			if got := hasHidden(s); got != want {
				t.Fatalf("hasHidden(%q) = %v, want %v", s, got, want)
			}
			want = cleanText(s) == s
			if got := cleanAlready(s); got != want {
				t.Fatalf("cleanAlready(%q) = %v, but cleanText gives %q", s, got, cleanText(s))
			}
		}
	}
	for _, s := range []string{"", " ", "a  b", " a", "a ", "\xff", "a\xc2", "\xe4\xb8"} {
		if got, want := cleanAlready(s), cleanText(s) == s; got != want {
			t.Errorf("cleanAlready(%q) = %v, but cleanText gives %q", s, got, cleanText(s))
		}
		if got, want := hasHidden(s), strings.ContainsFunc(s, hidden); got != want {
			t.Errorf("hasHidden(%q) = %v, want %v", s, got, want)
		}
	}
}
