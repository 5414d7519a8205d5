package site

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestDecodePosition(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"abcGE======", 1},  // "1", padded
		{"xyzGE", 1},        // padding missing
		{"k9QGEZA====", 12}, // "12"
		{"k9QGEZA", 12},
		{"k9QGEYQ", 11},
		{"aaagezdg", 123}, // lower case
	}
	for _, tt := range tests {
		got, err := decodePosition(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("decodePosition(%q): got %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "abc", "abc!!!", "abcMZXW6==="} { // "foo" is not a number
		if got, err := decodePosition(bad); err == nil {
			t.Errorf("decodePosition(%q): got %d, want an error", bad, got)
		}
	}
}

func TestJSStringLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"{\"a\":1}")`, `{"a":1}`},
		{`'it\'s'`, `it's`},
		{`"\u003cp\u003e中\x41"`, "<p>中A"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\u{1F600}"`, "😀"},
		{`"a\/b\\c"`, `a/b\c`},
	}
	for _, tt := range tests {
		got, err := jsStringLiteral(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("jsStringLiteral(%s): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `abc`, `"unterminated`, `"\x4"`, `"\u12"`} {
		if got, err := jsStringLiteral(bad); err == nil {
			t.Errorf("jsStringLiteral(%s): got %q, want an error", bad, got)
		}
	}
}

// TestCanonicalURL checks that every URL variant of a story seen in the
// wild gives the one canonical URL the legacy archive uses.
func TestCanonicalURL(t *testing.T) {
	z := testSites(t)[0]
	const want = "https://www.zaobao.com/realtime/china/story20221101-1328512"
	for _, in := range []string{
		"https://www.zaobao.com/realtime/china/story20221101-1328512",
		"https://www.zaobao.com/realtime/china/story20221101-1328512?ref=article_next",
		"https://www.zaobao.com/realtime/china/story20221101-1328512?ref=homeicon#comments",
		"https://www.zaobao.com//realtime/china/story20221101-1328512",
		"http://www.zaobao.com/realtime/china/story20221101-1328512",
		"https://www.zaobao.com.sg/realtime/china/story20221101-1328512",
		"https://zaobao.com.sg/realtime/china/story20221101-1328512/",
		"https://WWW.ZAOBAO.COM/realtime/china/story20221101-1328512",
	} {
		u := mustURL(t, in)
		if got := z.canonicalURL(u, ""); got != want {
			t.Errorf("canonicalURL(%s): got %s, want %s", in, got, want)
		}
	}
	// og:url is taken when it names the same story, and rel=canonical
	// pointing at the home page is never taken.
	req := mustURL(t, "https://www.zaobao.com.sg/realtime/china/story20221101-1328512?ref=x")
	if got := z.canonicalURL(req, "https://www.zaobao.com/"); got != want {
		t.Errorf("home page og:url: got %s, want %s", got, want)
	}
	if got := z.canonicalURL(req, "https://www.zaobao.com/realtime/world/story20221101-9999999"); got != want {
		t.Errorf("og:url of another story: got %s, want %s", got, want)
	}
	if got := z.canonicalURL(mustURL(t, "https://www.zaobao.com.sg/x"), "https://www.zaobao.com/realtime/china/story20221101-1328512"); got != want {
		t.Errorf("og:url of the story: got %s, want %s", got, want)
	}
}

// TestExtractFailures checks that a page with nothing to extract is an
// error naming the URL and what was tried, never an empty article.
func TestExtractFailures(t *testing.T) {
	sites := testSites(t)
	const u = "https://www.zaobao.com/realtime/china/story20221101-1328512"
	pages := map[string]string{
		"empty":       "",
		"garbage":     "\x00\x01\xff\xfe binary junk \x89PNG",
		"no body":     `<html><head><title>x</title></head><body><nav>menu</nav></body></html>`,
		"only noise":  `<html><body><h1 class="article-title">标题</h1><article class="article-body"><section><div class="adv-tag"></div></section><script>x()</script><span>` + "\u200b\u200c" + `</span></article></body></html>`,
		"truncated":   `<html><body><h1 class="article-title">标题</h1><div class="author-info"><div class="mgt10">2021-11-18 17:28</div></div><article class="article-b`,
		"no date":     `<html><body><h1 class="article-title">标题</h1><article class="article-body"><p>正文</p></article></body></html>`,
		"huge attrib": `<html><body><h1 class="article-title" x="` + strings.Repeat("a", 1<<20) + `">t</h1></body></html>`,
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			a, err := Extract([]byte(page), u, sites)
			if err == nil {
				t.Fatalf("got article %+v, want an error", a)
			}
			var ee *ExtractError
			if !errors.As(err, &ee) {
				t.Fatalf("got %T %v, want *ExtractError", err, err)
			}
			if !strings.Contains(err.Error(), u) || len(ee.Tried) < 2 {
				t.Errorf("error %q does not name the URL and what was tried", err)
			}
		})
	}
	if _, err := Extract([]byte("<p>x</p>"), "/relative/path", sites); !errors.Is(err, ErrBadURL) {
		t.Errorf("relative URL: got %v, want ErrBadURL", err)
	}
}

// TestExtractHKMinimal checks the HK layout on a small page: byline
// prefix, time without zone, noise and shuffled paragraphs.
func TestExtractHKMinimal(t *testing.T) {
	sites := testSites(t)
	page := `<html><head><meta name="keywords" content="日本,经济"></head><body>
<h1 class="article-title">
  标题：“引号”
</h1>
<div class="author-info"><div><span>作者：
王小明&nbsp;</span></div><div class="mgt10"><span>2022-07-01 08:05</span></div></div>
<article class="article-body" id="article-body">
<p data-s="xyzGM">第三段</p>
<section><div class="adv-tag adv" id="dfp-ad-imu1"></div></section>
<p data-s="abcGE======">第一段</p>
<script>googletag.cmd.push(1)</script>
<p data-s="k9QGI">第二段` + "\u200b" + `</p>
</article></body></html>`
	a, err := Extract([]byte(page), "https://www.zaobao.com.sg//realtime/china/story20220701-1287000?ref=x", sites)
	if err != nil {
		t.Fatal(err)
	}
	if a.Extractor != "zaobao/hk" {
		t.Errorf("extractor: got %q, want zaobao/hk", a.Extractor)
	}
	if a.Title != "标题：“引号”" || a.Author != "王小明" {
		t.Errorf("title, author: got %q, %q", a.Title, a.Author)
	}
	if got := a.Published.Format(time.RFC3339); got != "2022-07-01T08:05:00+08:00" {
		t.Errorf("published: got %s", got)
	}
	i1, i2, i3 := strings.Index(a.HTML(), "第一段"), strings.Index(a.HTML(), "第二段"), strings.Index(a.HTML(), "第三段")
	if i1 < 0 || i2 < i1 || i3 < i2 {
		t.Errorf("paragraphs not in reading order: %s", a.HTML())
	}
	for _, bad := range []string{"googletag", "dfp-ad", "adv-tag", "\u200b"} {
		if strings.Contains(a.HTML(), bad) {
			t.Errorf("body contains %q: %s", bad, a.HTML())
		}
	}
	if a.StoryID != "1287000" || a.URL != "https://www.zaobao.com/realtime/china/story20220701-1287000" {
		t.Errorf("identity: got %s %s", a.StoryID, a.URL)
	}
}

// TestExtractGBK checks that a page in a legacy Chinese encoding decodes.
func TestExtractGBK(t *testing.T) {
	page := `<html><head><meta charset="gbk"></head><body><h1 class="article-title">中文标题</h1>
<div class="author-info"><div class="mgt10">2021-11-18 17:28</div></div>
<article class="article-body"><p>简体中文正文。</p></article></body></html>`
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Extract([]byte(gbk), "https://www.zaobao.com/realtime/china/story20211118-1", testSites(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "中文标题" || !strings.Contains(a.HTML(), "简体中文正文。") {
		t.Errorf("got %q / %q, want the GBK text decoded", a.Title, a.HTML())
	}
}

// TestExtractLDJSONControlChars: a NewsArticle block with raw control
// characters, which encoding/json rejects, still gives its metadata.
func TestExtractLDJSONControlChars(t *testing.T) {
	page := "<html><head><script type=\"application/ld+json\">{\"@type\":\"Organization\",\"name\":\"x\"}</script>" +
		"<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"标题\tA\x01B\nC\",\"datePublished\":\"2024-03-01T14:07:00+08:00\",\"keywords\":[\"足球\",\"裁判\"]}</script></head>" +
		"<body><div class=\"articleBody\"><p>正文</p><div class=\"bff-recommend-article\"><a href=\"/x\">推荐</a></div></div></body></html>"
	a, err := Extract([]byte(page), "https://www.zaobao.com.sg/realtime/china/story20240301-1471393", testSites(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "标题 A B C" || a.Published.Format(time.RFC3339) != "2024-03-01T14:07:00+08:00" || fmt.Sprint(a.Keywords) != "[足球 裁判]" {
		t.Errorf("got title %q, published %v, keywords %q", a.Title, a.Published, a.Keywords)
	}
	if strings.Contains(a.HTML(), "推荐") {
		t.Errorf("recommendation widget in body: %s", a.HTML())
	}
}

func TestCompileSitesReportsEveryError(t *testing.T) {
	_, errs := Compile("sites", []config.Site{{
		Name:     "x",
		Hosts:    []string{"Example.com", "ok.com"},
		Timezone: "Mars/Olympus",
		StoryID:  "(",
		Layouts: []config.Layout{{
			Name:  "a",
			When:  "div[",
			Title: []string{"css:h1", "xpath://h1", "json:title"},
		}},
	}, {Name: "x"}})
	var paths []string
	for _, e := range errs {
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("got %T, want *config.FieldError", e)
		}
		paths = append(paths, fe.Path)
	}
	for _, p := range []string{
		"sites[0].hosts[0]", "sites[0].timezone", "sites[0].story_id", "sites[0].layouts[0].when",
		"sites[0].layouts[0].title[1]", "sites[0].layouts[0].title[2]", "sites[0].layouts[0].body",
		"sites[1].name", "sites[1].hosts",
	} {
		found := false
		for _, got := range paths {
			found = found || got == p
		}
		if !found {
			t.Errorf("no error for %s; got %q", p, paths)
		}
	}
}

// TestExtractFallsBackToGeneric: pages of sites without rules, and zaobao
// pages no layout matches, go through the generic extractor, and the
// article says which.
func TestExtractFallsBackToGeneric(t *testing.T) {
	sites := testSites(t)
	page, err := os.ReadFile("testdata/generic/lemonde-1.html")
	if err != nil {
		t.Fatal(err)
	}
	const lemonde = "http://www.lemonde.fr/pixels/article/2015/05/04/que-contient-la-loi-sur-le-renseignement_4627068_4408996.html"
	a, err := Extract(page, lemonde, sites)
	if err != nil {
		t.Fatal(err)
	}
	if a.Extractor != "generic" || a.Title != "Le projet de loi sur le renseignement massivement approuvé à l'Assemblée" {
		t.Errorf("got extractor %q title %q", a.Extractor, a.Title)
	}
	if a.Published.IsZero() || !strings.Contains(a.HTML(), "438 contre 86") {
		t.Errorf("got published %v, body %.200q", a.Published, a.HTML())
	}

	// The same page under a zaobao URL: the rules exist but none matches.
	const z = "https://www.zaobao.com.sg/realtime/world/story20150504-1000001?ref=x"
	a, err = Extract(page, z, sites)
	if err != nil {
		t.Fatal(err)
	}
	if a.Extractor != "generic (no zaobao layout matched)" {
		t.Errorf("extractor: got %q", a.Extractor)
	}
	if a.URL != "https://www.zaobao.com/realtime/world/story20150504-1000001" || a.StoryID != "1000001" || a.Site != "联合早报" {
		t.Errorf("identity: got %q %q %q", a.URL, a.StoryID, a.Site)
	}
}
