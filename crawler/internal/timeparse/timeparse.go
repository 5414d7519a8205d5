package timeparse

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Layouts of times that carry their offset, tried once the weekday, a
// letter zone and a label before the date are removed.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -07:00",
	"2 January 2006 15:04:05 -0700",
}

// Layouts of times printed without an offset: they are in the zone the
// text names with letters, else in the site's or feed's zone.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05",
	"2 Jan 06 15:04",
	"2 January 2006 15:04:05",
	"2 January 2006 15:04",
	"Jan 2 15:04:05 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04 PM",
	"3:04:05 PM Jan 2, 2006",
	"3:04 PM Jan 2, 2006",
	"Jan 2, 2006",
	"January 2, 2006",
	"January 2, 2006 15:04",
	"January 2, 2006 3:04 PM",
	"2-Jan-06 15:04:05",
	"2 Jan 2006",
	"2.1.2006 15:04:05",
	"2.1.2006 15:04",
	"2.1.2006",
}

// chineseDate matches 2021年11月18日 with an optional time, in 24-hour
// form or with 上午/下午 or AM/PM.
var chineseDate = regexp.MustCompile(`(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:(上午|下午|凌晨|早上|中午|晚上)?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?\s*([AaPp][Mm])?)?`)

// zoneToken is a zone written as capital letters (CST, SGT, Z), or as
// GMT/UTC with an offset (GMT+8, UTC+08:00).
var zoneToken = regexp.MustCompile(`^(?:([A-Z]{1,5})|(?i:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?)$`)

// dateWords are the capital-letter tokens of a date that are not zones.
var dateWords = map[string]bool{
	"AM": true, "PM": true, "T": true,
	"MON": true, "TUE": true, "TUES": true, "WED": true, "THU": true, "THUR": true, "THURS": true,
	"FRI": true, "SAT": true, "SUN": true,
	"JAN": true, "FEB": true, "MAR": true, "APR": true, "MAY": true, "JUN": true,
	"JUL": true, "AUG": true, "SEP": true, "SEPT": true, "OCT": true, "NOV": true, "DEC": true,
	"MARCH": true, "APRIL": true, "JUNE": true, "JULY": true,
}

// Parse reads a time as pages and feeds print it: RFC 3339 and
// RFC 1123 variants, Chinese dates (2021年11月18日 下午5:28), Unix seconds
// or milliseconds, with a label before it ("发布 /", "Published:") or a
// comment after it ("+0800 (CST)").
//
// Numeric offsets (+0800, +08:00, GMT+8) and GMT, UTC, UT and Z are
// honoured. Any other zone written as letters is taken to be loc, the
// site's or feed's configured zone: abbreviations are ambiguous (CST is
// China, US Central and Cuba; IST three zones) and those of Asian news
// sites (SGT, HKT, CST) are unknown to Go, which would read them as UTC or
// as the zone of the machine it runs on. Times without a zone are in loc
// too. Bare numbers are Unix seconds, or milliseconds when they are too
// large to be seconds.
func Parse(raw string, loc *time.Location) (time.Time, error) {
	// Fields splits at every Unicode space: no-break, ideographic.
	s := strings.Join(strings.Fields(raw), " ")
	// A comment after the date ("+0800 (CST)") repeats or explains it; a
	// date inside parentheses ("发布(2021年11月18日)") is kept.
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") && strings.ContainsAny(s[:i], "0123456789") {
		s = strings.TrimSpace(s[:i])
	}
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	zone, s, err := takeZone(s, raw, loc)
	if err != nil {
		return time.Time{}, err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n > 1e11 && n < 1e14:
			return time.UnixMilli(n).In(zone), nil
		case n > 1e8 && n < 1e11:
			return time.Unix(n, 0).In(zone), nil
		}
		return time.Time{}, fmt.Errorf("number %d is not a Unix time", n)
	}
	if m := chineseDate.FindStringSubmatch(s); m != nil {
		return chineseTime(m, zone)
	}
	if m := europeanDate.FindStringSubmatch(s); m != nil && strings.HasSuffix(s, m[0]) {
		return europeanTime(m, zone)
	}
	s = withoutWeekday(s)
	// German: "19.11.2019, um 14:05 Uhr".
	if dottedDate.MatchString(s) {
		s = strings.TrimSuffix(s, " Uhr")
		s = strings.Replace(strings.Replace(s, " um ", " ", 1), ", ", " ", 1)
	}
	// Drop a label such as "发布 /" or "Published:" before the first digit,
	// but not a month that starts the date ("Mar 1, 2024").
	if i := strings.IndexAny(s, "0123456789"); i > 0 && !startsWithName(s, monthNames) {
		s = s[i:]
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return known(t, raw)
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return known(t, raw)
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", raw)
}

// takeZone removes the zones written with letters from s, a time whose
// white space is folded, and returns the zone s is in: the offset of GMT+8
// or UTC+08:00, UTC for GMT, UTC, UT and Z, else loc.
func takeZone(s, raw string, loc *time.Location) (*time.Location, string, error) {
	zone := loc
	fields := strings.Fields(s)
	kept := fields[:0]
	for _, f := range fields {
		w := strings.TrimRight(f, ",.")
		m := zoneToken.FindStringSubmatch(w)
		if m == nil || dateWords[w] {
			kept = append(kept, f)
			continue
		}
		switch {
		case m[2] != "":
			h, _ := strconv.Atoi(m[3])
			mi, _ := strconv.Atoi(m[4])
			if h > 14 || mi > 59 {
				return nil, "", fmt.Errorf("bad offset in %q", raw)
			}
			off := h*3600 + mi*60
			if m[2] == "-" {
				off = -off
			}
			zone = time.FixedZone(w, off)
		case w == "GMT" || w == "UTC" || w == "UT" || w == "Z":
			zone = time.UTC
		default:
			zone = loc
		}
	}
	return zone, strings.Join(kept, " "), nil
}

// withoutWeekday removes a leading weekday, which adds nothing and may be
// wrong or spelt out: "Fri, 1 Mar 2024", "Friday, 1-Mar-24", and the
// ANSI C "Fri Mar 1 14:07:00 2024".
func withoutWeekday(s string) string {
	name := func(s string) bool { return startsWithName(s, weekdayNames) || startsWithName(s, monthNames) }
	if i := strings.IndexByte(s, ','); i > 0 && i <= len("Wednesday") && name(s) && !strings.ContainsAny(s[:i], "0123456789") {
		return strings.TrimSpace(s[i+1:])
	}
	if f := strings.Fields(s); len(f) > 4 && len(f[0]) == 3 && name(f[0]) && name(f[1]) {
		return strings.Join(f[1:], " ")
	}
	return s
}

// English names of weekdays and months, as their abbreviations start them.
var (
	weekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	monthNames   = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// startsWithName reports whether s starts with one of names.
func startsWithName(s string, names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(s, n) {
			return true
		}
	}
	return false
}

func chineseTime(m []string, loc *time.Location) (time.Time, error) {
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	y, mo, d := num(m[1]), num(m[2]), num(m[3])
	h, mi, sec := num(m[5]), num(m[6]), num(m[7])
	pm := m[4] == "下午" || m[4] == "晚上" || strings.EqualFold(m[8], "pm")
	am := m[4] == "上午" || m[4] == "凌晨" || m[4] == "早上" || strings.EqualFold(m[8], "am")
	switch {
	case pm && h < 12:
		h += 12
	case am && h == 12:
		h = 0
	case m[4] == "中午" && h < 11:
		h += 12
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("impossible date %q", m[0])
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("impossible date %q", m[0])
	}
	return t, nil
}

// dottedDate starts a German date, 19.11.2019.
var dottedDate = regexp.MustCompile(`^\d{1,2}\.\d{1,2}\.\d{4}\b`)

// known rejects the year 1 (0001-01-01T00:00:00Z is how some pages and
// Go programs print an unknown time) and years before 1900.
func known(t time.Time, raw string) (time.Time, error) {
	if t.Year() < 1900 {
		return time.Time{}, fmt.Errorf("time %q stands for an unknown date", raw)
	}
	return t, nil
}

// europeanDate matches a day, a German, French, Spanish, Italian or
// Portuguese month name and a year, with an optional time after:
// "19. November 2019", "19 novembre 2019", "19 de noviembre de 2019 14:05".
var europeanDate = regexp.MustCompile(`(?i)(\d{1,2})\.?\s*(?:de\s+)?(\p{L}{3,12})\.?,?\s+(?:de\s+)?(\d{4})(?:,?\s*(?:um|à|a\s+las|alle|às|-|,)?\s*(\d{1,2})[:h.](\d{2})(?::(\d{2}))?(?:\s*Uhr)?)?`)

// monthWords maps month names, and their usual abbreviations, in English,
// German, French, Spanish, Italian and Portuguese, lowercased, to months.
var monthWords = func() map[string]time.Month {
	m := map[string]time.Month{}
	for i, names := range [12]string{
		"january jan januar jänner janvier enero gennaio janeiro",
		"february feb februar février fevrier febrero febbraio fevereiro",
		"march mar märz maerz mars marzo março",
		"april apr avril abril aprile",
		"may mai mayo maggio maio",
		"june jun juni juin junio giugno junho",
		"july jul juli juillet julio luglio julho",
		"august aug août aout agosto",
		"september sep sept septembre septiembre setiembre settembre setembro",
		"october oct oktober okt octobre octubre ottobre outubro",
		"november nov novembre noviembre novembro",
		"december dec dezember dez décembre decembre diciembre dicembre dezembro",
	} {
		for _, n := range strings.Fields(names) {
			m[n] = time.Month(i + 1)
		}
	}
	return m
}()

func europeanTime(m []string, loc *time.Location) (time.Time, error) {
	mo, ok := monthWords[strings.ToLower(m[2])]
	if !ok {
		return time.Time{}, fmt.Errorf("unknown month %q", m[2])
	}
	num := func(s string) int {
		n, _ := strconv.Atoi(s)
		return n
	}
	d, y, h, mi, sec := num(m[1]), num(m[3]), num(m[4]), num(m[5]), num(m[6])
	if d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("impossible date %q", m[0])
	}
	t := time.Date(y, mo, d, h, mi, sec, 0, loc)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("impossible date %q", m[0])
	}
	return known(t, m[0])
}

// findPatterns match the dates Find looks for in running text, most
// specific first.
var findPatterns = []*regexp.Regexp{
	chineseDate,
	regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)\b)?`),
	regexp.MustCompile(`\d{1,2}:\d{2}(?::\d{2})?\s*[AP]M\s+(?:[A-Z]{2,5}\s+)?[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}`),
	regexp.MustCompile(`\b[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}(?:,? \d{1,2}:\d{2}(?:\s*[AP]M)?)?`),
	europeanDate,
	regexp.MustCompile(`\b\d{4}[-/]\d{2}[-/]\d{2}\b`),
	regexp.MustCompile(`\b\d{1,2}\.\d{1,2}\.\d{4}(?:,?\s*(?:um\s+)?\d{1,2}[:.]\d{2}(?:\s*Uhr)?)?`),
}

// Find returns the first date printed in text, running prose or a page's
// header ("Von Anna Muster | 19. November 2019, 14:05 Uhr"), as Parse
// reads it. ok is false when text holds none.
func Find(text string, loc *time.Location) (t time.Time, ok bool) {
	best := -1
	for _, re := range findPatterns {
		for _, ix := range re.FindAllStringIndex(text, 4) {
			if best >= 0 && ix[0] >= best {
				break
			}
			if v, err := Parse(text[ix[0]:ix[1]], loc); err == nil {
				best, t = ix[0], v
				break
			}
		}
	}
	return t, best >= 0
}
