package site

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
)

// hydrationPage is a small SG hydration page whose article payload has
// the given extra fields, with an ld+json block when ld is not "".
func hydrationPage(t *testing.T, extra map[string]any, ld string) []byte {
	t.Helper()
	article := map[string]any{
		"headline":    "标题",
		"create_time": 1763443380,
		"body_cn":     "<p>第一段。</p><p>第二段。</p>",
	}
	for k, v := range extra {
		article[k] = v
	}
	payload, err := json.Marshal(map[string]any{"loaderData": map[string]any{"0-0": map[string]any{"context": map[string]any{"payload": map[string]any{"article": article}}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := "<html><head>"
	if ld != "" {
		page += `<script id="seo-article-page" type="application/ld+json">` + ld + `</script>`
	}
	return []byte(page + "</head><body><div id=root></div><script>window.__staticRouterHydrationData = " + string(payload) + ";</script></body></html>")
}

// ldjsonPage is a small SG page read by the ld+json layouts.
func ldjsonPage(ld, body string) []byte {
	return []byte(`<html><head><script type="application/ld+json">{"@type":"NewsArticle","headline":"标题","datePublished":"2026-10-02T17:30:00+08:00"` + ld + `}</script></head>` +
		`<body><article><div class="articleBody"><p>第一段。</p>` + body + `</div></article></body></html>`)
}

// TestTruncationSignals: each paywall signal of the shipped layouts marks
// the article truncated on its own, and the values that say "free" do
// not.
func TestTruncationSignals(t *testing.T) {
	sites := testSites(t)
	const u = "https://www.zaobao.com.sg/realtime/world/story20251118-7712345"
	graph := func(free string) string {
		return `{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"联合早报"},{"@type":"NewsArticle","headline":"标题","isAccessibleForFree":` + free + `}]}`
	}
	tests := []struct {
		name   string
		page   []byte
		layout string
		want   bool
	}{
		{"hydration whole", hydrationPage(t, map[string]any{"is_full_body": true, "paid_mode": "free"}, graph("true")), "sg-hydration", false},
		{"is_full_body false", hydrationPage(t, map[string]any{"is_full_body": false}, ""), "sg-hydration", true},
		{"is_full_body string false", hydrationPage(t, map[string]any{"is_full_body": "false"}, ""), "sg-hydration", true},
		{"paid_mode premium", hydrationPage(t, map[string]any{"paid_mode": "premium"}, ""), "sg-hydration", true},
		{"paid_mode 1", hydrationPage(t, map[string]any{"paid_mode": 1}, ""), "sg-hydration", true},
		{"paid_mode true", hydrationPage(t, map[string]any{"paid_mode": true}, ""), "sg-hydration", true},
		{"paid_mode free", hydrationPage(t, map[string]any{"paid_mode": "free"}, ""), "sg-hydration", false},
		{"paid_mode 0", hydrationPage(t, map[string]any{"paid_mode": 0}, ""), "sg-hydration", false},
		{"paid_mode empty", hydrationPage(t, map[string]any{"paid_mode": ""}, ""), "sg-hydration", false},
		{"hydration ld+json not free", hydrationPage(t, nil, graph("false")), "sg-hydration", true},
		{"hydration ld+json not free string", hydrationPage(t, nil, graph(`"False"`)), "sg-hydration", true},
		{"body_cn cut at placeholder", hydrationPage(t, map[string]any{"body_cn": `<p>第一段。</p><div class="cx_paywall_placeholder"></div>`}, ""), "sg-hydration", true},
		{"ld+json page whole", ldjsonPage(`,"isAccessibleForFree":true`, "<p>第二段。</p>"), "sg-ldjson", false},
		{"ld+json page not free", ldjsonPage(`,"isAccessibleForFree":false`, "<p>第二段。</p>"), "sg-ldjson", true},
		{"ld+json page cut at placeholder", ldjsonPage("", `<div class="cx_paywall_placeholder" id="sph_cdp_40"></div>`), "sg-ldjson", true},
		{"2026 page cut at placeholder", ldjsonPage("", `<div class="inline-figure bff-inline-image"><div class="figure-media"><img src="https://cassette.sphdigital.com.sg/image/zaobao/ab12"></div><div class="figure-caption">图</div></div><div class="cx_paywall_placeholder"></div>`), "sg-2026", true},
		{"2026 page whole", ldjsonPage("", `<div class="inline-figure bff-inline-image"><div class="figure-media"><img src="https://cassette.sphdigital.com.sg/image/zaobao/ab12"></div><div class="figure-caption">图</div></div>`), "sg-2026", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Extract(tt.page, u, sites)
			if err != nil {
				t.Fatal(err)
			}
			if a.Extractor != "zaobao/"+tt.layout {
				t.Fatalf("extractor: got %q, want zaobao/%s", a.Extractor, tt.layout)
			}
			if a.Truncated != tt.want {
				t.Errorf("truncated: got %v, want %v", a.Truncated, tt.want)
			}
			if strings.Contains(a.HTML(), "cx_paywall_placeholder") {
				t.Errorf("the placeholder stayed in the body: %s", a.HTML())
			}
		})
	}
}

// TestLayoutImages: an images rule of each kind finds every image once,
// with its caption: json: objects, ldjson: strings and ImageObjects, css:
// elements with the URL and caption read inside them.
func TestLayoutImages(t *testing.T) {
	compile := func(t *testing.T, l config.Layout) []*Site {
		t.Helper()
		l.Name, l.Title, l.Published, l.Body = "l", []string{"css:h1"}, []string{"css:time"}, []string{"css:main"}
		sites, errs := Compile("sites", []config.Site{{Name: "x", Hosts: []string{"example.com"},
			ImageRewrites: []config.Rewrite{{Match: `^(https://img\.example\.com/[^?]*)\?.*$`, Replace: "$1"}}, Layouts: []config.Layout{l}}})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return sites
	}
	page := `<html><head><script type="application/ld+json">{"@type":"NewsArticle","image":["https://img.example.com/a.jpg",{"@type":"ImageObject","contentUrl":"/b.jpg","caption":"B 的说明"},{"url":"https://img.example.com/c.jpg?w=10"}]}</script>
<script>window.__data = {"article":{"images":[{"src":"https://img.example.com/a.jpg?w=99","text":"A 的说明"},{"src":"https://img.example.com/d.jpg"}]}}</script></head>
<body><h1>标题</h1><time>2026-09-20 10:12</time>
<div class="banner"><img class="g" data-src="https://img.example.com/e.jpg" title="E 的说明"><img class="g" src="data:image/gif;base64,R0lGOD" data-src="/f.jpg" title=" "></div>
<main><div class="fig"><div class="media"><img src="https://img.example.com/c.jpg"></div><div class="cap">C 的说明</div></div><p>正文。</p></main></body></html>`
	tests := []struct {
		name  string
		rules []config.ImageRule
		want  []converter.Image
	}{
		{"ldjson", []config.ImageRule{{From: "ldjson:image"}}, []converter.Image{
			{URL: "https://img.example.com/a.jpg"}, {URL: "https://example.com/b.jpg", Caption: "B 的说明"}, {URL: "https://img.example.com/c.jpg?w=10"}}},
		{"json with keys", []config.ImageRule{{From: "json:images", URL: "src", Caption: "text"}}, []converter.Image{
			{URL: "https://img.example.com/a.jpg?w=99", Caption: "A 的说明"}, {URL: "https://img.example.com/d.jpg"}}},
		{"css", []config.ImageRule{{From: "css:.banner img", Caption: "@title"}, {From: "css:main .fig", URL: ".media img@src", Caption: ".cap"}}, []converter.Image{
			{URL: "https://img.example.com/e.jpg", Caption: "E 的说明"}, {URL: "https://example.com/f.jpg"}, {URL: "https://img.example.com/c.jpg", Caption: "C 的说明"}}},
		// The same picture found twice (another query) is one image,
		// taking the caption of the later find.
		{"merged", []config.ImageRule{{From: "ldjson:image"}, {From: "json:images", URL: "src", Caption: "text"}, {From: "css:main .fig", Caption: ".cap"}}, []converter.Image{
			{URL: "https://img.example.com/a.jpg", Caption: "A 的说明"}, {URL: "https://example.com/b.jpg", Caption: "B 的说明"},
			{URL: "https://img.example.com/c.jpg?w=10", Caption: "C 的说明"}, {URL: "https://img.example.com/d.jpg"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := config.Layout{Images: tt.rules, Hydration: &config.Hydration{Variable: "__data", Path: "article"}}
			a, err := Extract([]byte(page), "https://example.com/news/1", compile(t, l))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Images, tt.want) {
				t.Errorf("images:\n got  %q\n want %q", a.Images, tt.want)
			}
		})
	}
}

func TestCompileImageRules(t *testing.T) {
	_, errs := Compile("sites", []config.Site{{Name: "x", Hosts: []string{"example.com"}, Layouts: []config.Layout{{
		Name: "l", Body: []string{"css:main"},
		Images: []config.ImageRule{
			{From: "json:images"},                // no hydration
			{From: "css:img@src"},                // attribute in from
			{From: "ldjson:image | re:x"},        // filter
			{From: "meta:og:image"},              // kind
			{From: "css:figure", Caption: "p["},  // bad selector
			{From: "ldjson:image", URL: "a..b"},  // empty segment
			{From: "css:figure", URL: ".x@src"},  // fine
			{From: "ldjson:image", Caption: "c"}, // fine
		},
		Truncated: []string{"json:is_full_body"}, // no hydration
	}}}})
	var paths []string
	for _, e := range errs {
		var fe *config.FieldError
		if errors.As(e, &fe) {
			paths = append(paths, fe.Path)
		}
	}
	want := []string{
		"sites[0].layouts[0].truncated[0]",
		"sites[0].layouts[0].images[0].from", "sites[0].layouts[0].images[1].from", "sites[0].layouts[0].images[2].from",
		"sites[0].layouts[0].images[3].from", "sites[0].layouts[0].images[4].caption", "sites[0].layouts[0].images[5].url",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("errors at:\n got  %q\n want %q", paths, want)
	}
}

// TestNewsAndRealtimeOneStory: since the 2026 restructure a story is
// listed under /news/<section>/ and /realtime/<section>/; both are one
// story (one site key, which the store dedupes on). Each URL keeps its
// own path (old /news/ stories of the print edition have no /realtime/
// copy), and the section is the path's.
func TestNewsAndRealtimeOneStory(t *testing.T) {
	sites := testSites(t)
	news, _, err := Identify(sites, "https://www.zaobao.com.sg/news/china/story20260915-8123456?ref=x")
	if err != nil {
		t.Fatal(err)
	}
	realtime, _, err := Identify(sites, "https://www.zaobao.com/realtime/china/story20260915-8123456")
	if err != nil {
		t.Fatal(err)
	}
	if news.SiteKey != "zaobao:8123456" || news.SiteKey != realtime.SiteKey {
		t.Errorf("site keys: got %q and %q, want zaobao:8123456 for both", news.SiteKey, realtime.SiteKey)
	}
	if news.URL != "https://www.zaobao.com/news/china/story20260915-8123456" {
		t.Errorf("canonical URL: got %s", news.URL)
	}
	// The page fetched under /realtime/ (redirected, or not) names its
	// /news/ address in og:url: the article takes it, same story id.
	page := strings.Replace(string(ldjsonPage("", "")), "<head>", `<head><meta property="og:url" content="https://www.zaobao.com.sg/news/china/story20260915-8123456">`, 1)
	a, err := Extract([]byte(page), "https://www.zaobao.com.sg/realtime/china/story20260915-8123456", sites)
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != news.URL || a.StoryID != "8123456" || a.Section != "news/china" {
		t.Errorf("article: got %s %s %s, want %s 8123456 news/china", a.URL, a.StoryID, a.Section, news.URL)
	}
}

// TestLeadImageFromLDJSONArray: the lead image is the first of an ld+json
// image array, whether a URL string or an ImageObject.
func TestLeadImageFromLDJSONArray(t *testing.T) {
	sites := testSites(t)
	const img = "https://cassette.sphdigital.com.sg/image/zaobao/"
	for _, tt := range []struct{ image, want string }{
		{`["` + img + `a1",{"@type":"ImageObject","url":"` + img + `b2","caption":"乙"}]`, img + "a1"},
		{`[{"@type":"ImageObject","url":"` + img + `b2","caption":"乙"},"` + img + `a1"]`, img + "b2"},
		{`{"@type":"ImageObject","contentUrl":"` + img + `c3"}`, img + "c3"},
		{`"` + img + `d4"`, img + "d4"},
	} {
		for _, body := range []string{"", `<div class="inline-figure bff-inline-image"><div class="figure-media"><img src="` + img + `e5"></div><div class="figure-caption">戊</div></div>`} {
			a, err := Extract(ldjsonPage(`,"image":`+tt.image, body), "https://www.zaobao.com.sg/news/world/story20261002-8160012", sites)
			if err != nil {
				t.Fatal(err)
			}
			if a.Image.URL != tt.want {
				t.Errorf("%s, %s: lead image %q, want %q", a.Extractor, tt.image, a.Image.URL, tt.want)
			}
		}
	}
}
