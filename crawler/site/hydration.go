package site

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/newsmd/newsmd/internal/config"
	"golang.org/x/net/html"
)

// findHydration finds `<variable> = JSON.parse("…")` or `<variable> = {…}`
// in scripts and returns the value at path.
func findHydration(scripts []*html.Node, h *config.Hydration) (map[string]any, error) {
	var payload any
	var lastErr error
	for _, n := range scripts {
		code := nodeText(n)
		i := strings.Index(code, h.Variable)
		if i < 0 {
			continue
		}
		rest := strings.TrimLeft(code[i+len(h.Variable):], " \t\r\n")
		rest, ok := strings.CutPrefix(rest, "=")
		if !ok {
			continue
		}
		rest = strings.TrimLeft(rest, " \t\r\n")
		var raw string
		if r, ok := strings.CutPrefix(rest, "JSON.parse("); ok {
			lit, err := jsStringLiteral(strings.TrimLeft(r, " \t\r\n"))
			if err != nil {
				lastErr = fmt.Errorf("hydration %s: %w", h.Variable, err)
				continue
			}
			raw = lit
		} else {
			raw = rest
		}
		if err := decodeFirst(raw, &payload); err != nil {
			payload = nil
			lastErr = fmt.Errorf("hydration %s: decode JSON: %w", h.Variable, err)
			continue
		}
		break
	}
	if payload == nil {
		if lastErr == nil {
			lastErr = fmt.Errorf("hydration %s: no script assigns it", h.Variable)
		}
		return nil, lastErr
	}
	if h.Path == "" {
		m, ok := payload.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("hydration %s: payload is not an object", h.Variable)
		}
		return m, nil
	}
	cur := payload
	for _, seg := range strings.Split(h.Path, ".") {
		next := step(cur, seg)
		if len(next) == 0 {
			return nil, fmt.Errorf("hydration %s: no %q in path %s", h.Variable, seg, h.Path)
		}
		cur = next[0]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("hydration %s: %s is not an object", h.Variable, h.Path)
	}
	return m, nil
}

// jsStringLiteral decodes the JavaScript string literal at the start of s
// (single or double quoted), with JavaScript's escapes.
func jsStringLiteral(s string) (string, error) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", fmt.Errorf("want a string literal")
	}
	quote := s[0]
	var b strings.Builder
	// Runs without escapes are copied whole.
	start := 1
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c != quote && c != '\\' {
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[start:i])
		if c == quote {
			return b.String(), nil
		}
		if i+1 >= len(s) {
			break
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("short \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape: %w", err)
			}
			b.WriteRune(rune(v))
			i += 2
		case 'u':
			r, n, err := unicodeEscape(s[i+1:])
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
		case '\n':
			// line continuation
		default:
			b.WriteByte(e)
		}
		start = i + 1
	}
	return "", fmt.Errorf("unterminated string literal")
}

// unicodeEscape decodes the part after "\u": XXXX (with a following
// low surrogate when XXXX is a high one) or {X…}. It returns the rune
// and the number of bytes consumed.
func unicodeEscape(s string) (rune, int, error) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 0, 0, fmt.Errorf("bad \\u{} escape")
		}
		v, err := strconv.ParseUint(s[1:end], 16, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("bad \\u{} escape: %w", err)
		}
		return rune(v), end + 1, nil
	}
	if len(s) < 4 {
		return 0, 0, fmt.Errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(s[:4], 16, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("bad \\u escape: %w", err)
	}
	r := rune(v)
	if r >= 0xD800 && r < 0xDC00 && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, err := strconv.ParseUint(s[6:10], 16, 16); err == nil && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000, 10, nil
		}
	}
	return r, 4, nil
}
