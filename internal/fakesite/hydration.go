package fakesite

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"
)

// Image is a picture of a story, as the "hydration" layout lists it in
// the article's images[] (the page's own list of the story's images).
type Image struct {
	URL     string
	Caption string // may be ""
	// After, when > 0, also shows the image in the body, right after
	// paragraph After (counted from 1); 0 lists it only in images[] (the
	// lead, or a picture the site shows beside the text). A paywalled
	// page does not show an image placed after its cut.
	After int
	// BodyURL is the URL the body shows the image at, when it is not URL
	// (a resized copy, "?w=1024"); "" is URL.
	BodyURL string
	// Markup is how the body shows the image: "figure" (with a
	// figcaption, when the image has a caption), "figure-bare" (a figure
	// without figcaption) or "img" (a bare <img> in a <p>).
	Markup string
}

// PaywallParagraphs is how many paragraphs the page of a paywalled story
// shows.
const PaywallParagraphs = 2

// Shown are the paragraphs the story's page shows: all of them, or the
// first PaywallParagraphs of a paywalled story.
func (s Story) Shown() []string {
	if s.Paywalled && len(s.Paragraphs) > PaywallParagraphs {
		return s.Paragraphs[:PaywallParagraphs]
	}
	return s.Paragraphs
}

// InBody reports whether the story's page shows im in its body (not only
// in images[]).
func (s Story) InBody(im Image) bool { return im.After > 0 && im.After <= len(s.Shown()) }

// ImageStories makes n distinct stories in the "hydration" layout, spread
// over the sections, one every 7 minutes from start. The same n and start
// always give the same stories. Story i has 1 + i%4 images, the first its
// lead (listed in images[] only, as the site does); each other image is
// shown in the body (in a figure with its caption, in a figure without
// it, or as a bare <img>, sometimes at a resized URL) or not at all;
// some captions are empty, some images are on www.zaobao.com.sg/s3/files
// (which the zaobao image_rewrites move to static.zaobao.com), the others
// on cassette.sphdigital.com.sg. Every 10th story (i%10 == 9) is
// paywalled. Story ids start at 4000000, apart from Stories'.
func ImageStories(n int, start time.Time) []Story {
	out := make([]Story, n)
	agencies := []string{"路透社", "法新社", "彭博社"}
	for i := range out {
		st := Story{
			ID:        4000000 + i,
			Section:   Sections[i%len(Sections)],
			Published: start.Add(time.Duration(i) * 7 * time.Minute).Truncate(time.Second),
			Title:     fmt.Sprintf("第%d则图片新闻：“测试”标题 %s", i+1, Sections[i%len(Sections)]),
			Author:    "记者" + fmt.Sprint(i%5),
			Layout:    "hydration",
			Paywalled: i%10 == 9,
		}
		for p := 1; p <= 5; p++ {
			st.Paragraphs = append(st.Paragraphs, fmt.Sprintf("第%d则图片新闻的第%d段，讲述事情的一个方面，共有%d人参加。", i+1, p, (i*37+p)%1000))
		}
		for j := range 1 + i%4 {
			im := Image{URL: imageURL(st.ID, j)}
			if (i+2*j)%7 != 5 {
				im.Caption = fmt.Sprintf("第%d则图片新闻的第%d张图片：现场情况。（%s）", i+1, j+1, agencies[(i+j)%3])
			}
			if j > 0 {
				if m := (i + j) % 4; m > 0 {
					im.After = 1 + (3*i+j)%5
					im.Markup = []string{"", "figure", "figure-bare", "img"}[m]
					if j%2 == 0 {
						im.BodyURL = resized(im.URL)
					}
				}
			}
			st.Images = append(st.Images, im)
		}
		out[i] = st
	}
	return out
}

// imageURL is the URL of a story's image j: on zaobao's own host (with
// the query its pages carry) for one in four, else on SPH's image host.
func imageURL(id, j int) string {
	if (id+j)%4 == 3 {
		return fmt.Sprintf("https://www.zaobao.com.sg/s3/files/images/%d-%d.jpg?VersionId=v%d", id, j, j)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d-%d", id, j))
	return "https://cassette.sphdigital.com.sg/image/zaobao/" + hex.EncodeToString(sum[:16])
}

// resized is another URL of the same file, as the body shows a resized
// copy.
func resized(u string) string {
	if strings.Contains(u, "?") {
		return u + "&w=1024"
	}
	return u + "?w=1024"
}

// hydrationBody is body_cn: the shown paragraphs, with the images the
// body shows after theirs.
func hydrationBody(st Story) string {
	var b strings.Builder
	for p, text := range st.Shown() {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(text))
		for _, im := range st.Images {
			if im.After != p+1 {
				continue
			}
			src := html.EscapeString(cmp.Or(im.BodyURL, im.URL))
			switch {
			case im.Markup == "img":
				fmt.Fprintf(&b, `<p><img src="%s" width="1024" height="576"></p>`, src)
			case im.Markup == "figure" && im.Caption != "":
				fmt.Fprintf(&b, `<figure class="image-placeholder"><img src="%s" alt="" width="1024" height="683"><figcaption>%s</figcaption></figure>`, src, html.EscapeString(im.Caption))
			default:
				fmt.Fprintf(&b, `<figure class="image-placeholder"><img src="%s" alt="" width="1024" height="683"></figure>`, src)
			}
		}
		if p == 0 {
			b.WriteString("<p>&nbsp;</p>")
		}
	}
	return b.String()
}

// hydrationHTML is the story's page as zaobao.com.sg serves it since
// 2025: an app shell whose article is JSON in a hydration script, with an
// ld+json @graph for search engines.
func hydrationHTML(st Story) string {
	images := make([]map[string]any, 0, len(st.Images))
	for _, im := range st.Images {
		images = append(images, map[string]any{"url": im.URL, "caption": im.Caption, "width": 1200, "height": 800})
	}
	paid := "free"
	if st.Paywalled {
		paid = "premium"
	}
	// The site names the byline "author" on some stories, "authors" on
	// others.
	authorKey := "author"
	if st.ID%2 == 1 {
		authorKey = "authors"
	}
	article := map[string]any{
		"id":           st.ID,
		"type":         "article",
		"path":         st.Path(),
		"section":      map[string]any{"name": st.Section, "path": "realtime/" + st.Section},
		"headline":     st.Title,
		"create_time":  st.Published.Unix(),
		authorKey:      []map[string]any{{"name": st.Author}},
		"tags":         []map[string]any{{"name": "测试"}, {"name": st.Section}},
		"body_cn":      hydrationBody(st),
		"images":       images,
		"is_full_body": !st.Paywalled,
		"paid_mode":    paid,
		"recommended_articles": []map[string]any{
			{"headline": "推荐阅读：别的新闻", "path": "/realtime/china/story20240101-1", "images": []map[string]any{{"url": imageURL(1, 0), "caption": "别的新闻的图片"}}},
		},
	}
	data, _ := json.Marshal(map[string]any{"loaderData": map[string]any{
		"0":   map[string]any{"site": map[string]any{"name": "联合早报", "edition": "sg"}},
		"0-0": map[string]any{"context": map[string]any{"payload": map[string]any{"article": article}}},
	}})
	// JSON.parse("…"): the payload as a JavaScript string literal, which
	// a JSON string is (json.Marshal escapes < and > as \u003c, \u003e).
	literal, _ := json.Marshal(string(data))

	news := map[string]any{
		"@type":               "NewsArticle",
		"headline":            st.Title,
		"datePublished":       st.Published.In(sgt).Format(time.RFC3339),
		"author":              []map[string]any{{"@type": "Person", "name": st.Author}},
		"keywords":            []string{"测试", st.Section},
		"isAccessibleForFree": !st.Paywalled,
	}
	if len(st.Images) > 0 {
		news["image"] = []map[string]any{{"@type": "ImageObject", "url": st.Images[0].URL, "caption": st.Images[0].Caption}}
	}
	ld, _ := json.Marshal(map[string]any{"@context": "https://schema.org", "@graph": []any{
		map[string]any{"@type": "WebSite", "name": "联合早报", "url": "https://www.zaobao.com.sg/"},
		news,
	}})

	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>%s | 联合早报</title>
<meta property="og:url" content="https://www.zaobao.com.sg%s">
<link rel="canonical" href="https://www.zaobao.com.sg/">
<script>window.dataLayer=[];</script>
<script id="seo-article-page" type="application/ld+json">%s</script>
</head><body><noscript>您需要启用JavaScript才能浏览联合早报网站。</noscript>
<div id="root"><header class="bff-header"><nav><a href="/news">新闻</a></nav></header>
<main class="bff-main"><div class="bff-skeleton bff-skeleton-title"></div><div class="bff-skeleton bff-skeleton-line"></div></main>
<footer class="bff-footer"><p class="bff-copyright">新报业媒体有限公司版权所有</p></footer></div>
<script>window.__staticRouterHydrationData = JSON.parse(%s);</script>
<script type="module" async="">import "/static/bff/assets/entry.client.js";</script>
</body></html>`, html.EscapeString(st.Title), st.Path(), ld, literal)
	return b.String()
}
