package crawler

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Layouts of times that carry their zone.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	time.RFC850,
}

// Layouts of times printed without a zone: they are in the site's zone.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006-01-02",
	"2006/01/02",
	"Jan 2, 2006 3:04 PM",
	"2 Jan 2006 15:04",
}

// chineseDate matches 2021年11月18日 with an optional time, in 24-hour
// form or with 上午/下午 or AM/PM.
var chineseDate = regexp.MustCompile(`(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:(上午|下午|凌晨|早上|中午|晚上)?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?\s*([AaPp][Mm])?)?`)

// parseTime reads the many ways news pages print a time. Times without a
// zone are in loc. Bare numbers are Unix seconds, or milliseconds when
// they are too large to be seconds.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n > 1e11 && n < 1e14:
			return time.UnixMilli(n).In(loc), nil
		case n > 1e8 && n < 1e11:
			return time.Unix(n, 0).In(loc), nil
		}
		return time.Time{}, fmt.Errorf("number %d is not a Unix time", n)
	}
	if m := chineseDate.FindStringSubmatch(s); m != nil {
		return chineseTime(m, loc)
	}
	// Drop a label such as "发布 /" or "Published:" before the first digit.
	if i := strings.IndexAny(s, "0123456789"); i > 0 && !startsWithDayName(s) {
		s = s[i:]
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

func startsWithDayName(s string) bool {
	for _, d := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		if strings.HasPrefix(s, d) {
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
