package site

import (
	"strings"
	"testing"
	"time"
)

// datedPage is a generic page with a long body; head goes into <head>,
// top before the headline, under after it.
func datedPage(head, top, under string) string {
	return `<html><head><title>The story</title>` + head + `</head><body>` + top + `<h1>The story</h1>` + under +
		`<article><p>` + strings.Repeat("A sentence of the story, long enough to count as its text. ", 30) + `</p><p>` +
		strings.Repeat("Another paragraph of the same story follows it here. ", 20) + `</p></article></body></html>`
}

// TestGenericDateSources: each place a page gives its date, in the
// order they are trusted, and Article.DateSource naming it.
func TestGenericDateSources(t *testing.T) {
	fetched := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	hints := Hints{Fetched: fetched}
	const plain = "https://example.com/news/the-story"
	tests := []struct {
		name, url, page string
		hints           Hints
		want            string // RFC 3339
		source          string
	}{
		{"ld+json of a non-article type inside @graph", plain,
			datedPage(`<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"x"},{"@type":"WebPage","datePublished":"2019-11-19T13:16:00+01:00"}]}</script>`, "", ""),
			hints, "2019-11-19T13:16:00+01:00", "ldjson"},
		{"invalid ld+json: trailing commas, raw newline in a string", plain,
			datedPage("<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":\"a\nb\",\"datePublished\":\"2019-11-19 02:24:00 UTC\",}</script>", "", ""),
			hints, "2019-11-19T02:24:00Z", "ldjson"},
		{"ld+json 0001-01-01 is unknown", plain,
			datedPage(`<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"0001-01-01T00:00:00Z"}</script><meta property="article:published_time" content="2019-11-18 17:19:53 GMT">`, "", ""),
			hints, "2019-11-18T17:19:53Z", "meta"},
		{"microdata on a meta", plain,
			datedPage(`<meta itemprop="datePublished" content="2019-11-19T13:16+0000">`, "", ""),
			hints, "2019-11-19T13:16:00Z", "microdata"},
		{"microdata on a time", plain,
			datedPage("", "", `<time itemprop="datePublished" datetime="2019-11-20">Nov 20</time>`),
			hints, "2019-11-20T00:00:00+08:00", "microdata"},
		{"microdata on a span's text", plain,
			datedPage("", "", `<span itemprop="datePublished">19. November 2019</span>`),
			hints, "2019-11-19T00:00:00+08:00", "microdata"},
		{"Open Graph", plain,
			datedPage(`<meta property="og:published_time" content="2019-11-19T08:00:00Z">`, "", ""),
			hints, "2019-11-19T08:00:00Z", "meta"},
		{"Dublin Core dc.date", plain,
			datedPage(`<meta name="DC.date" content="2019-11-19">`, "", ""),
			hints, "2019-11-19T00:00:00+08:00", "meta"},
		{"dcterms.created", plain,
			datedPage(`<meta name="dcterms.created" content="2019-11-19T09:00:00+01:00">`, "", ""),
			hints, "2019-11-19T09:00:00+01:00", "meta"},
		{"time datetime", plain,
			datedPage("", "", `<p>Posted <time datetime="2019-11-19T13:16:00+01:00">yesterday</time></p>`),
			hints, "2019-11-19T13:16:00+01:00", "time"},
		{"URL /yyyy/mm/dd/", "https://example.com/2024/03/01/the-story", datedPage("", "", ""),
			hints, "2024-03-01T00:00:00+08:00", "url"},
		{"URL /yyyy-mm-dd/", "https://example.com/news/2024-03-01/the-story", datedPage("", "", ""),
			hints, "2024-03-01T00:00:00+08:00", "url"},
		{"URL yyyymmdd in a segment", "https://example.com/news/story20240301-12345", datedPage("", "", ""),
			hints, "2024-03-01T00:00:00+08:00", "url"},
		{"URL with an impossible date", "https://example.com/news/20241399-the-story", datedPage("", "", ""),
			hints, fetched.Format(time.RFC3339), "fetched"},
		{"Chinese date under the title", plain, datedPage("", "", `<p>新华社 2024年3月1日 下午2:05</p>`),
			hints, "2024-03-01T14:05:00+08:00", "text"},
		{"UTC date under the title", plain, datedPage("", "", `<p>2019-11-19 02:24:00 UTC</p>`),
			hints, "2019-11-19T02:24:00Z", "text"},
		{"GMT date under the title", plain, datedPage("", "", `<p>Updated 2019-11-18 17:19:53 GMT</p>`),
			hints, "2019-11-18T17:19:53Z", "text"},
		{"offset without colon under the title", plain, datedPage("", "", `<p>2019-11-19T13:16+0000</p>`),
			hints, "2019-11-19T13:16:00Z", "text"},
		{"IST time before the date", plain, datedPage("", "", `<p>Updated: 01:38:07 PM IST Nov 20, 2019</p>`),
			hints, "2019-11-20T13:38:07+08:00", "text"},
		{"German", plain, datedPage("", "", `<p>Von Anna Muster | 19. November 2019, 14:05 Uhr</p>`),
			hints, "2019-11-19T14:05:00+08:00", "text"},
		{"French", plain, datedPage("", "", `<p>Publié le 19 novembre 2019</p>`),
			hints, "2019-11-19T00:00:00+08:00", "text"},
		{"Spanish", plain, datedPage("", "", `<p>19 de noviembre de 2019</p>`),
			hints, "2019-11-19T00:00:00+08:00", "text"},
		{"the headline is the <h1> the <title> holds, not the site's", plain,
			strings.Replace(datedPage("", `<h1 class="aural">Example Agency</h1><p>`+strings.Repeat("Menu item ", 200)+`</p>`, ""), "<h1>The story</h1>", `<h1><span class="date">27.01.2022</span> The story</h1>`, 1),
			hints, "2022-01-27T00:00:00+08:00", "text"},
		{"dateline above the title", plain, datedPage("", `<p class="kicker">19 novembre 2019</p>`, ""),
			hints, "2019-11-19T00:00:00+08:00", "text"},
		{"a date after the fetch time is a misreading", plain, datedPage(`<meta name="date" content="2031-01-01">`, "", ""),
			hints, fetched.Format(time.RFC3339), "fetched"},
		{"feed item", plain, datedPage("", "", ""),
			Hints{FeedDate: time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC), LastModified: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Fetched: fetched},
			"2024-03-01T06:00:00Z", "feed"},
		{"Last-Modified", plain, datedPage("", "", ""),
			Hints{LastModified: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Fetched: fetched},
			"2024-02-01T00:00:00Z", "last-modified"},
		{"fetch time", plain, datedPage("", "", ""), hints, fetched.Format(time.RFC3339), "fetched"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ExtractWith([]byte(tc.page), tc.url, nil, tc.hints)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Published.Format(time.RFC3339); got != tc.want || a.DateSource != tc.source {
				t.Errorf("got %s from %q, want %s from %q", got, a.DateSource, tc.want, tc.source)
			}
			if !strings.Contains(a.HTML(), "A sentence of the story") {
				t.Errorf("body lost: %.100q", a.HTML())
			}
		})
	}
}

// TestGenericNoDateNoHints: without hints, a page with no date of its own
// still fails (Extract is pure and has no clock); with no article text it
// fails whatever the hints.
func TestGenericNoDateNoHints(t *testing.T) {
	const u = "https://example.com/news/the-story"
	if _, err := Extract([]byte(datedPage("", "", "")), u, nil); err == nil || !strings.Contains(err.Error(), "no publication time") {
		t.Errorf("got %v, want a no-publication-time error", err)
	}
	empty := `<html><head><title>x</title><meta name="date" content="2024-03-01"></head><body><nav><p>Home News Sport</p></nav></body></html>`
	if a, err := ExtractWith([]byte(empty), u, nil, Hints{Fetched: time.Now()}); err == nil {
		t.Errorf("got article %+v, want an error: no article text", a)
	}
}

func TestWithoutTrailingCommas(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":[1,2,],"b":"x,}",}`: `{"a":[1,2],"b":"x,}"}`,
		`{"a":"\",]"  ,  }`:       `{"a":"\",]"    }`,
		`[1, 2]`:                  `[1, 2]`,
	} {
		if got := withoutTrailingCommas(in); got != want {
			t.Errorf("withoutTrailingCommas(%s) = %s, want %s", in, got, want)
		}
	}
}
