package converter_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
)

func singapore(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Singapore")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestFileName(t *testing.T) {
	sg := singapore(t)
	day := time.Date(2020, 7, 26, 4, 30, 51, 545_000_000, time.UTC) // 12:30 in Singapore
	tests := []struct {
		name      string
		title     string
		published time.Time
		loc       *time.Location
		maxRunes  int
		want      string
	}{
		{"legacy title with ascii quotes", `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功`, day, sg, 50,
			"2020-07-26-中国自研大型水陆两栖飞机-鲲龙-AG600海上首飞成功.md"},
		{"date in the location", "标题", time.Date(2021, 11, 17, 23, 30, 0, 0, time.UTC), sg, 50, "2021-11-18-标题.md"},
		{"date in utc", "标题", time.Date(2021, 11, 17, 23, 30, 0, 0, time.UTC), time.UTC, 50, "2021-11-17-标题.md"},
		{"date whatever the input zone", "标题", time.Date(2021, 11, 17, 18, 30, 0, 0, time.FixedZone("EST", -5*3600)), sg, 50, "2021-11-18-标题.md"},
		{"slash", "苹果天猫旗舰店下架iPhone12/12Pro", day, sg, 50, "2020-07-26-苹果天猫旗舰店下架iPhone12-12Pro.md"},
		{"slash between spaces", "中俄 / 美国", day, sg, 50, "2020-07-26-中俄-美国.md"},
		{"backslash", `C:\Windows\system32`, day, sg, 50, "2020-07-26-C-Windows-system32.md"},
		{"quotes", `他说"不"与'是'`, day, sg, 50, "2020-07-26-他说-不-与-是.md"},
		{"shell characters", "a;b|c&d$e`f`*?<>", day, sg, 50, "2020-07-26-a-b-c-d-e-f.md"},
		{"percent", "阿里巴巴在港股下挫9.3%", day, sg, 50, "2020-07-26-阿里巴巴在港股下挫9.3.md"},
		{"control characters", "a\x00b\x01c\x1bd\x7fe\u0085f", day, sg, 50, "2020-07-26-abcde f.md"},
		{"invisible characters", "两岸\u200b一家\ufeff亲\u202e", day, sg, 50, "2020-07-26-两岸一家亲.md"},
		{"invalid utf-8", "a\xffb\xc3", day, sg, 50, "2020-07-26-ab.md"},
		{"leading dots", ".hidden", day, sg, 50, "2020-07-26-hidden.md"},
		{"leading dots and spaces", " . .. ...名字", day, sg, 50, "2020-07-26-名字.md"},
		{"double dots", "a..b...c", day, sg, 50, "2020-07-26-a.b.c.md"},
		{"version number", "Python 3.12 发布", day, sg, 50, "2020-07-26-Python 3.12 发布.md"},
		{"trailing dots", "未完待续...", day, sg, 50, "2020-07-26-未完待续.md"},
		{"path traversal", "../../etc/passwd", day, sg, 50, "2020-07-26-etc-passwd.md"},
		{"leading dashes", "-rf --no-preserve-root", day, sg, 50, "2020-07-26-rf --no-preserve-root.md"},
		{"spaces and newlines", "  长江上游\n\n今年最大洪水\t过境重庆  ", day, sg, 50, "2020-07-26-长江上游 今年最大洪水 过境重庆.md"},
		{"ideographic space", "双城论坛\u3000均提", day, sg, 50, "2020-07-26-双城论坛 均提.md"},
		{"emoji", "😀 表情", day, sg, 50, "2020-07-26-😀 表情.md"},
		{"only punctuation", `?!*"/\|<>`, day, sg, 50, "2020-07-26-untitled.md"},
		{"only dots", "...", day, sg, 50, "2020-07-26-untitled.md"},
		{"only dashes and spaces", " - -- ", day, sg, 50, "2020-07-26-untitled.md"},
		{"empty", "", day, sg, 50, "2020-07-26-untitled.md"},
		{"cut to max runes", strings.Repeat("中国", 150), day, sg, 50, "2020-07-26-" + strings.Repeat("中国", 25) + ".md"},
		{"cut at eight runes", "一二三四五六七八九十", day, sg, 8, "2020-07-26-一二三四五六七八.md"},
		{"cut before a space", "abcdefg hij", day, sg, 8, "2020-07-26-abcdefg.md"},
		{"cut before a dot", "abcdefg.hij", day, sg, 8, "2020-07-26-abcdefg.md"},
		{"cut by bytes", strings.Repeat("😀", 100), day, sg, 80, "2020-07-26-" + strings.Repeat("😀", 50) + ".md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := converter.FileName(tt.title, tt.published, tt.loc, tt.maxRunes)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			checkFileName(t, got, tt.published.In(tt.loc), tt.maxRunes)
		})
	}
}

// checkFileName checks what must hold for every name FileName returns.
func checkFileName(t testing.TB, name string, published time.Time, maxRunes int) {
	t.Helper()
	if !utf8.ValidString(name) {
		t.Errorf("got invalid UTF-8 in %q", name)
	}
	if strings.ContainsAny(name, "/\\\x00") {
		t.Errorf("got a path separator or NUL in %q", name)
	}
	if strings.Contains(name, "..") {
		t.Errorf("got \"..\" in %q", name)
	}
	if len(name) > 255 {
		t.Errorf("got %d bytes in %q, want at most 255", len(name), name)
	}
	prefix := published.Format("2006-01-02") + "-"
	title, ok := strings.CutPrefix(name, prefix)
	if !ok {
		t.Fatalf("got %q, want it to start with %q", name, prefix)
	}
	title, ok = strings.CutSuffix(title, ".md")
	if !ok {
		t.Fatalf("got %q, want it to end in .md", name)
	}
	if title == "" || strings.HasPrefix(title, ".") || strings.HasPrefix(title, "-") || strings.HasPrefix(title, " ") {
		t.Errorf("got title part %q, want it non-empty and not starting with '.', '-' or ' '", title)
	}
	if strings.HasSuffix(title, " ") {
		t.Errorf("got title part %q, want no trailing space", title)
	}
	for _, r := range title {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			t.Errorf("got %U in %q", r, name)
		}
	}
	if n := utf8.RuneCountInString(title); maxRunes >= 8 && n > maxRunes {
		t.Errorf("got %d runes of title in %q, want at most %d", n, name, maxRunes)
	}
}

// TestFileNameHostileTitles checks the properties of checkFileName for
// titles made to break them.
func TestFileNameHostileTitles(t *testing.T) {
	sg := singapore(t)
	titles := []string{
		".", "..", "...", ".git", "-", "--help", " -x", "\u200b.x", "\t.x", "'.x'", "..\\..\\x", "/..", "-.-.-",
		". . .", "a/../b", "a\x00/\x00b", "\ufeff../", strings.Repeat("../", 100), strings.Repeat("长", 300) + "/x",
		strings.Repeat(".-", 200), "\xff\xfe", "\u3000.\u3000",
	}
	for _, title := range titles {
		t.Run(title, func(t *testing.T) {
			for _, maxRunes := range []int{8, 50, 80} {
				checkFileName(t, converter.FileName(title, published, sg, maxRunes), published.In(sg), maxRunes)
			}
		})
	}
}
