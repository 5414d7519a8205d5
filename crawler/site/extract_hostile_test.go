package site

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/newsmd/newsmd/converter"
)

// forbidden is what no article field may hold, worked out apart from
// converter.Control: control characters other than tab, line feed and
// carriage return, surrogates and noncharacters.
func forbidden(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cs, unicode.Noncharacter_Code_Point)
}

// hostile holds control characters of every kind, and hostileRefs the same
// written as HTML character references.
const (
	hostile     = "\x01\x1b[31m\x1f\x7f\u0080\u0085\u009b\ufdd0\ufffe\uffff"
	hostileRefs = "&#1;&#x1b;[0m&#x7f;&#xFDD0;&#xFFFE;&#xFFFF;"
)

// checkArticleClean fails the test when a string field of a holds a
// forbidden character.
func checkArticleClean(t *testing.T, a converter.Article) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if i := strings.IndexFunc(v.String(), forbidden); i >= 0 {
				t.Errorf("got %U in %s: %q", []rune(v.String()[i:])[0], path, v.String())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(path+"."+v.Type().Field(i).Name, v.Field(i))
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(path+"[]", v.Index(i))
			}
		}
	}
	walk("Article", reflect.ValueOf(a))
}

// TestExtractStripsControlCharacters: control characters, raw or as
// character references, reach no field of an article and no part of its
// post, whichever layout (or the generic extractor) takes it.
func TestExtractStripsControlCharacters(t *testing.T) {
	sites := testSites(t)
	conv := testConverter(t, sites, converter.ProfileJekyll)
	ldjson := func(headline string) string {
		b, err := json.Marshal(map[string]any{
			"@type": "NewsArticle", "headline": headline, "datePublished": "2024-03-01T14:07:00+08:00",
			"author": map[string]string{"name": "记" + hostile + "者"}, "keywords": []string{"足" + hostile + "球", hostile},
			"articleSection": "体" + hostile + "育", "image": map[string]string{"url": "https://www.zaobao.com.sg/a.jpg", "caption": "图" + hostile + "说"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return `<script type="application/ld+json">` + string(b) + `</script>`
	}
	body := `<p>第一段` + hostile + `正文` + hostileRefs + `。</p><p><img src="/b.jpg" alt="图` + hostileRefs + `"></p><p>第二段正文，足够长的文字。</p>`
	hydration, err := json.Marshal(map[string]any{"loaderData": map[string]any{"0-0": map[string]any{"context": map[string]any{"payload": map[string]any{"article": map[string]any{
		"headline": "标" + hostile + "题", "create_time": 1700000000, "author": []map[string]string{{"name": "记" + hostile + "者"}},
		"tags": []map[string]string{{"name": "标" + hostile + "签"}}, "images": []map[string]string{{"url": "https://www.zaobao.com.sg/a.jpg", "caption": "图" + hostile + "说"}},
		"body_cn": body,
	}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	hydrationLiteral, err := json.Marshal(string(hydration))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, page, extractor string
	}{
		{"sg-ldjson", "https://www.zaobao.com.sg/realtime/china/story20240301-1471393",
			`<html><head>` + ldjson("标"+hostile+"题") + `</head><body><div class="articleBody">` + body + `</div></body></html>`, "zaobao/sg-ldjson"},
		{"sg-hydration", "https://www.zaobao.com.sg/realtime/world/story20231115-3000001",
			`<html><body><script>window.__staticRouterHydrationData = JSON.parse(` + string(hydrationLiteral) + `);</script></body></html>`, "zaobao/sg-hydration"},
		{"hk", "https://www.zaobao.com/realtime/china/story20220701-1287000",
			`<html><head><meta name="keywords" content="日` + hostileRefs + `本,经济"></head><body><h1 class="article-title">标` + hostileRefs + `题</h1>
<div class="author-info"><span>作者：王` + hostile + `明</span><div class="mgt10">2022-07-01 08:05</div></div>
<article class="article-body">` + body + `</article></body></html>`, "zaobao/hk"},
		{"section from an escaped path", "https://www.zaobao.com/realtime/%1Bchina%C2%85/story20220701-1287000",
			`<html><body><h1 class="article-title">标题</h1><div class="author-info"><div class="mgt10">2022-07-01 08:05</div></div>
<article class="article-body">` + body + `</article></body></html>`, "zaobao/hk"},
		{"generic", "https://example.com/news/1",
			`<html><head><title>标` + hostileRefs + `题</title>` + ldjson("标"+hostile+"题") + `<meta property="og:site_name" content="站` + hostileRefs + `"></head><body><article><h1>标题</h1>` +
				strings.Repeat(`<p>这是一段足够长的正文，`+hostile+`让可读性算法认出文章。`+hostileRefs+`</p>`, 8) + `</article></body></html>`, "generic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Extract([]byte(tt.page), tt.url, sites)
			if err != nil {
				t.Fatal(err)
			}
			if a.Extractor != tt.extractor {
				t.Errorf("got extractor %q, want %q", a.Extractor, tt.extractor)
			}
			checkArticleClean(t, a)
			if !strings.Contains(a.HTML(), "正文") || !strings.Contains(a.Title, "标") || !strings.Contains(a.Title, "题") {
				t.Errorf("got title %q, body %q, want the text kept", a.Title, a.HTML())
			}
			post, err := conv.Render(a)
			if err != nil {
				t.Fatal(err)
			}
			if i := strings.IndexFunc(string(post.Content), forbidden); i >= 0 {
				t.Errorf("got %U at byte %d of the post:\n%q", []rune(string(post.Content[i:]))[0], i, post.Content)
			}
		})
	}
}

// TestSiteCleanFragmentStripsControlCharacters: a feed item's HTML, cleaned
// with the site's rules, loses its control characters too.
func TestSiteCleanFragmentStripsControlCharacters(t *testing.T) {
	z := testSites(t)[0]
	got, truncated, err := z.CleanFragment(`<p>正` + hostile + `文` + hostileRefs + `</p><p><img src="/a.jpg" alt="` + hostile + `"></p>`)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.IndexFunc(got, forbidden); i >= 0 {
		t.Errorf("got %U in %q", []rune(got[i:])[0], got)
	}
	if !strings.Contains(got, "正") || !strings.Contains(got, "文") || truncated {
		t.Errorf("got %q, truncated %v; want the text kept, not truncated", got, truncated)
	}
	// Nothing but control characters is no body at all.
	if got, _, err := z.CleanFragment("<p>\x01\x1f\x7f\u0080\u009b\ufffe&#1;&#xFFFE;</p>"); err == nil {
		t.Errorf("got body %q, want an error", got)
	}
}

func TestExtractHeadline(t *testing.T) {
	names := []string{"联合早报", "联合早报网 zaobao.com.sg"}
	tests := []struct{ in, want string }{
		{"标题", "标题"},
		{"  标题\n", "标题"},
		{"", ""},
		{" \t\n", ""},
		{"\u3000\u3000", ""},
		{"\u00a0", ""},
		{"\u200b\ufeff\u2060", ""},
		{"\u3000\u200b \u00a0", ""},
		{"| 联合早报", ""},
		{"- 联合早报", ""},
		{" | 联合早报网", ""},
		{"｜联合早报", ""},
		{"\u3000| 联合早报 ", ""},
		{"联合早报", ""},
		{"联合早报 -", ""},
		{"| 联合早报网 zaobao.com.sg", ""},
		{"联合早报 | 联合早报", ""},
		{"zaobao.com.sg - 联合早报网", ""},
		{"| ", ""},
		{"—", ""},
		// A headline that starts or ends with the site's name is one.
		{"联合早报社论：经济展望", "联合早报社论：经济展望"},
		{"读者来信 | 联合早报", "读者来信 | 联合早报"},
		{"-40°C寒潮", "-40°C寒潮"},
		{"联合早报网友热议", "联合早报网友热议"},
		{"2024", "2024"},
	}
	for _, tt := range tests {
		if got := headline(tt.in, names); got != tt.want {
			t.Errorf("headline(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
	// A page that puts its own title in application-name does not make
	// every word of that title a site name.
	own := "Fishing Masters Show in Rostock im Mai 2022 - BLINKER"
	if got := headline(own, []string{"BLINKER", own}); got != own {
		t.Errorf("headline(%q) with itself as application-name: got %q, want it kept", own, got)
	}
	if got := headline("- iPhone 16 im Test", []string{"Mac & i"}); got != "- iPhone 16 im Test" {
		t.Errorf("headline(%q): got %q, want it kept", "- iPhone 16 im Test", got)
	}
	// Without the site's name there is no telling a suffix from a headline.
	if got := headline("| Example News", nil); got != "| Example News" {
		t.Errorf("headline(%q) without site names: got %q, want it kept", "| Example News", got)
	}
	if got := headline("| Example News", []string{"Example News"}); got != "" {
		t.Errorf("headline(%q): got %q, want empty", "| Example News", got)
	}
}

// TestExtractEmptyHeadline: a headline that is blank, or only the site's
// name, is no title: the next title source of the layout gives it, else
// the next layout or the generic extractor, else Extract fails naming
// the URL; no article has an empty or site-only title.
func TestExtractEmptyHeadline(t *testing.T) {
	sites := testSites(t)
	const u = "https://www.zaobao.com.sg/realtime/china/story20240301-1471393"
	blanks := []string{" ", "\u3000", "\u00a0\u00a0", "\u200b", "\u3000\u200b\u00a0 ", "| 联合早报", "- 联合早报", " | 联合早报网", "联合早报"}
	ld := func(headline string) string {
		b, _ := json.Marshal(map[string]string{"@type": "NewsArticle", "headline": headline, "datePublished": "2024-03-01T14:07:00+08:00"})
		return `<script type="application/ld+json">` + string(b) + `</script>`
	}
	const body = `<p>正文第一段。</p><p>正文第二段。</p>`
	hk := func(h1, headline string) string {
		return `<html><head><title>` + h1 + ` | 联合早报</title>` + ld(headline) + `</head><body><h1 class="article-title">` + h1 + `</h1>
<div class="author-info"><div class="mgt10">2022-07-01 08:05</div></div><article class="article-body">` + body + `</article></body></html>`
	}
	for _, blank := range blanks {
		t.Run(blank, func(t *testing.T) {
			tests := []struct {
				name, page, want, extractor string
			}{
				{"sg-ldjson: headline, then h1",
					`<html><head>` + ld(blank) + `</head><body><h1>真标题</h1><div class="articleBody">` + body + `</div></body></html>`, "真标题", "zaobao/sg-ldjson"},
				{"sg-ldjson: headline and h1, then og:title",
					`<html><head><meta property="og:title" content="真标题">` + ld(blank) + `</head><body><h1>` + blank + `</h1><div class="articleBody">` + body + `</div></body></html>`, "真标题", "zaobao/sg-ldjson"},
				{"hk: h1, then ldjson headline", hk(blank, "真标题"), "真标题", "zaobao/hk"},
				{"sg-hydration: headline, then title",
					`<script>window.__staticRouterHydrationData = {"loaderData":{"0-0":{"context":{"payload":{"article":{"headline":"` + blank + `","title":"真标题","create_time":1700000000,"body_cn":"<p>正文</p>"}}}}}};</script>`, "真标题", "zaobao/sg-hydration"},
				{"generic: readability title, then og:title",
					`<html><head><title>` + blank + `</title><meta property="og:title" content="真标题"></head><body><article>` +
						strings.Repeat(`<p>这是一段足够长的正文，让可读性算法认出这是一篇文章。</p>`, 8) + `<time datetime="2024-03-01T14:07:00+08:00"></time></article></body></html>`, "真标题", "generic"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					pageURL := u
					if tt.extractor == "generic" {
						pageURL = "https://example.com/news/1"
					}
					a, err := Extract([]byte(tt.page), pageURL, sites)
					if err != nil {
						t.Fatal(err)
					}
					if a.Title != tt.want || a.Extractor != tt.extractor {
						t.Errorf("got title %q from %q, want %q from %q", a.Title, a.Extractor, tt.want, tt.extractor)
					}
				})
			}
			// No source has a headline: an error naming the URL.
			for name, page := range map[string]string{
				"hk":      hk(blank, blank),
				"generic": `<html><head><title>` + blank + `</title><meta property="og:title" content="` + blank + `"><meta property="og:site_name" content="联合早报"></head><body><article><h2>` + blank + `</h2>` + strings.Repeat(`<p>这是一段足够长的正文，让可读性算法认出这是一篇文章。</p>`, 8) + `<time datetime="2024-03-01T14:07:00+08:00"></time></article></body></html>`,
			} {
				t.Run("no headline anywhere/"+name, func(t *testing.T) {
					a, err := Extract([]byte(page), u, sites)
					var ee *ExtractError
					if !errors.As(err, &ee) {
						t.Fatalf("got article with title %q from %q and error %v, want an *ExtractError", a.Title, a.Extractor, err)
					}
					if !strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), "no title") {
						t.Errorf("got error %q, want it to name %s and the missing title", err, u)
					}
					if errors.Is(err, ErrMalformedPage) {
						t.Errorf("got error %v wrapping ErrMalformedPage, want not", err)
					}
				})
			}
		})
	}
}

// deepPage is an article behind n nested <div>s.
func deepPage(n int) []byte {
	return []byte(`<html><head><script type="application/ld+json">{"@type":"NewsArticle","headline":"标题","datePublished":"2024-03-01T14:07:00+08:00"}</script></head><body>` +
		strings.Repeat("<div>", n) + `<div class="articleBody"><p>正文。</p></div><article><h1>标题</h1>` +
		strings.Repeat(`<p>这是一段足够长的正文，让可读性算法认出这是一篇文章。</p>`, 8) + `</article></body></html>`)
}

// TestExtractMalformedPage: a page the HTML parser rejects (elements
// nested deeper than it allows), or too large or too deeply nested to
// work on, is an error naming the URL and wrapping ErrMalformedPage,
// which says retrying is useless; so is a body from the page's JSON that
// does not parse. A page within the limits still gives its article.
func TestExtractMalformedPage(t *testing.T) {
	sites := testSites(t)
	const u = "https://www.zaobao.com.sg/realtime/china/story20240301-1471393"
	pages := map[string][]byte{
		"600 deep":                       deepPage(600),
		"100,000 deep":                   deepPage(100_000),
		"100,001 elements":               []byte(strings.Repeat("<p>正文。</p>", 100_001)),
		"11,000 elements 490 deep":       []byte(strings.Repeat("<div>", 490) + strings.Repeat("<p>这是一段正文。</p>", 11_000)),
		"11,000 empty elements 500 deep": []byte(strings.Repeat("<div>", 500) + strings.Repeat("<i></i>", 11_000)),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			a, err := Extract(page, u, sites)
			if !errors.Is(err, ErrMalformedPage) {
				t.Fatalf("got article %q and error %v, want ErrMalformedPage", a.Title, err)
			}
			if !strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), "cannot be parsed") {
				t.Errorf("got error %q, want it to name the URL and say the page cannot be parsed", err)
			}
		})
	}
	for _, u := range []string{u, "https://example.com/news/1"} {
		for _, page := range [][]byte{deepPage(400), append(deepPage(50), strings.Repeat("<p>x</p>", 20_000)...)} {
			if a, err := Extract(page, u, sites); err != nil || a.Title != "标题" {
				t.Errorf("%.40q… at %s: got title %q and error %v, want the article", page, u, a.Title, err)
			}
		}
	}

	deepBody := strings.Repeat("<div>", 1000) + "正文"
	payload, _ := json.Marshal(map[string]any{"loaderData": map[string]any{"0-0": map[string]any{"context": map[string]any{"payload": map[string]any{"article": map[string]any{
		"headline": "标题", "create_time": 1700000000, "body_cn": deepBody,
	}}}}}})
	page := `<html><body><script>window.__staticRouterHydrationData = ` + string(payload) + `;</script></body></html>`
	_, err := Extract([]byte(page), u, sites)
	var ee *ExtractError
	if !errors.As(err, &ee) || !errors.Is(err, ErrMalformedPage) {
		t.Errorf("deep body from JSON: got %v, want an *ExtractError wrapping ErrMalformedPage", err)
	}

	// A feed item's HTML gets the same limits.
	z := testSites(t)[0]
	for _, body := range []string{deepBody, strings.Repeat("<p>x</p>", 100_001)} {
		if _, _, err := z.CleanFragment(body); !errors.Is(err, ErrMalformedPage) {
			t.Errorf("CleanFragment(%.30q…): got %v, want ErrMalformedPage", body, err)
		}
	}
}

// TestExtractHostilePageAllocs keeps the work spent on hostile pages to a
// small bound: the parser gives up at its depth limit, long before the end
// of a page nested 50,000 deep, and a page of too many elements (one
// nested 100,000 deep is one) is only tokenized.
func TestExtractHostilePageAllocs(t *testing.T) {
	sites := testSites(t)
	for _, tt := range []struct {
		name string
		page []byte
		max  float64
	}{
		{"50,000 deep", deepPage(50_000), 5_000},
		{"100,000 deep", deepPage(100_000), 1_000},
		{"1,000,000 elements", []byte(strings.Repeat("<p></p>", 1_000_000)), 1_000},
	} {
		allocs := testing.AllocsPerRun(3, func() {
			if _, err := Extract(tt.page, "https://www.zaobao.com.sg/realtime/china/story20240301-1471393", sites); !errors.Is(err, ErrMalformedPage) {
				t.Fatalf("got %v, want ErrMalformedPage", err)
			}
		})
		t.Logf("%s (%d bytes): %.0f allocations per Extract", tt.name, len(tt.page), allocs)
		if allocs > tt.max {
			t.Errorf("%s: got %.0f allocations per Extract, want at most %.0f", tt.name, allocs, tt.max)
		}
	}
}

func BenchmarkExtractHostile(b *testing.B) {
	sites := testSites(b)
	for _, tt := range []struct {
		name string
		page []byte
	}{
		{"depth=500", deepPage(500)},
		{"depth=100000", deepPage(100_000)},
		{"elements=1000000", []byte(strings.Repeat("<p></p>", 1_000_000))},
		{"elements=49000,depth=100", []byte(strings.Repeat("<div>", 100) + strings.Repeat("<p>这是一段正文。</p>", 49_000))},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tt.page)))
			for b.Loop() {
				_, _ = Extract(tt.page, "https://www.zaobao.com.sg/realtime/china/story20240301-1471393", sites)
			}
		})
	}
}
