package converter_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"go.yaml.in/yaml/v3"
	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.md with the current output")

const storyURL = "https://www.zaobao.com/realtime/china/story20211118-1215830"

// published is 2021-11-18T17:28:39+08:00, given in UTC on purpose: the
// date key must come out in the options' zone whatever zone the input has.
var published = time.Date(2021, 11, 18, 9, 28, 39, 0, time.UTC)

// zaobaoRewrite is the image rewrite the zaobao site rules configure.
var zaobaoRewrite = converter.Rewrite{
	Pattern: regexp.MustCompile(`^https?://(?:www\.)?zaobao\.com(?:\.sg)?/s3/files/([^?#]*).*$`),
	Replace: `https://static.zaobao.com/s3fs-public/$1`,
}

func newConverter(t testing.TB, opts converter.Options) *converter.Converter {
	t.Helper()
	c, err := converter.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func testArticle() converter.Article {
	return converter.Article{
		Title:     "柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”",
		URL:       storyURL,
		Site:      "联合早报",
		Published: published,
		BodyHTML:  "<p>台北市长柯文哲今天在双城论坛致词。</p>",
	}
}

func render(t testing.TB, c *converter.Converter, a converter.Article) converter.Post {
	t.Helper()
	p, err := c.Render(a)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return p
}

// post is a rendered post cut into its parts.
type post struct {
	frontMatter string // the YAML between the two "---" lines
	marker      string // the <!--unix ms--> line
	link        string // the [title](url) line; "" in the hugo profile, which has none
	body        string // the Markdown after "------" (hugo: after the marker) and a blank line
}

func splitPost(t testing.TB, content []byte) post {
	t.Helper()
	rest, ok := strings.CutPrefix(string(content), "---\n")
	if !ok {
		t.Fatalf("post does not start with \"---\\n\": %q", head(content))
	}
	fm, rest, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		t.Fatalf("front matter has no closing \"---\" line: %q", head(content))
	}
	if marker, body, ok := strings.Cut(rest, "\n\n"); ok && strings.HasPrefix(marker, "<!--") && !strings.Contains(marker, "\n") {
		// The hugo profile: the marker alone, without the legacy header.
		return post{frontMatter: fm + "\n", marker: marker, body: body}
	}
	lines := strings.SplitN(rest, "\n", 4)
	if len(lines) != 4 || lines[2] != "------" || !strings.HasPrefix(lines[3], "\n") {
		t.Fatalf("after the front matter got %q, want marker, link, \"------\" and a blank line (hugo: marker and a blank line)", head([]byte(rest)))
	}
	return post{frontMatter: fm + "\n", marker: lines[0], link: lines[1], body: lines[3][1:]}
}

func head(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// frontMatter is every key Render may write, decoded with yaml v3.
type frontMatter struct {
	Layout       string    `yaml:"layout"`
	Title        string    `yaml:"title"`
	Date         time.Time `yaml:"date"`
	LastMod      time.Time `yaml:"lastmod"`
	Author       string    `yaml:"author"`
	From         string    `yaml:"from"`
	Source       string    `yaml:"source"`
	Tags         []string  `yaml:"tags"`
	Comments     bool      `yaml:"comments"`
	Categories   []string  `yaml:"categories"`
	StoryID      string    `yaml:"story_id"`
	Section      string    `yaml:"section"`
	Updated      time.Time `yaml:"updated"`
	Byline       string    `yaml:"byline"`
	Keywords     []string  `yaml:"keywords"`
	Image        string    `yaml:"image"`
	ImageCaption string    `yaml:"image_caption"`
	Truncated    bool      `yaml:"truncated"`
	// RenderWithLiquid is false when the post holds Liquid syntax.
	RenderWithLiquid *bool `yaml:"render_with_liquid"`
}

func parseFrontMatter(t testing.TB, fm string) frontMatter {
	t.Helper()
	var m frontMatter
	dec := yaml.NewDecoder(strings.NewReader(fm))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("front matter does not parse: %v\n%s", err, fm)
	}
	return m
}

// frontMatterNode returns the keys of the front matter in order, and the
// value node of each.
func frontMatterNode(t testing.TB, fm string) ([]string, map[string]*yaml.Node) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(fm), &doc); err != nil {
		t.Fatalf("front matter does not parse: %v\n%s", err, fm)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("front matter is not one mapping:\n%s", fm)
	}
	m := doc.Content[0]
	var keys []string
	values := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
		values[m.Content[i].Value] = m.Content[i+1]
	}
	return keys, values
}

// markdown renders md as a site would: CommonMark with the GFM table and
// strikethrough extensions, raw HTML let through so that HTML that slipped
// into the Markdown shows up as elements.
func markdown(t testing.TB, md string) *html.Node {
	t.Helper()
	gm := goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough),
		goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
	)
	var out bytes.Buffer
	if err := gm.Convert([]byte(md), &out); err != nil {
		t.Fatalf("goldmark: %v", err)
	}
	doc, err := html.Parse(&out)
	if err != nil {
		t.Fatalf("parse goldmark output: %v", err)
	}
	return doc
}

func renderedHTML(n *html.Node) string {
	var b strings.Builder
	if err := html.Render(&b, n); err != nil {
		return err.Error()
	}
	return b.String()
}

// elements returns the elements named tag below n, in document order.
func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return out
}

func textContent(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return b.String()
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// linkOf renders the marker and title lines of a post and returns the one
// link they hold.
func linkOf(t testing.TB, p post) (text, href string) {
	t.Helper()
	doc := markdown(t, p.marker+"\n"+p.link+"\n------\n")
	links := elements(doc, "a")
	if len(links) != 1 {
		t.Fatalf("title line %q renders to %d links, want 1: %s", p.link, len(links), renderedHTML(doc))
	}
	return textContent(links[0]), attrOf(links[0], "href")
}

func TestRenderLegacyLayout(t *testing.T) {
	c := newConverter(t, converter.DefaultOptions())
	p := render(t, c, testArticle())
	want := `---
layout: post
title: "柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”"
date: 2021-11-18T17:28:39+08:00
author: 联合早报
from: ` + storyURL + `
tags: [联合早报]
comments: true
categories: [联合早报]
---
<!--1637227719000-->
[柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”](` + storyURL + `)
------

台北市长柯文哲今天在双城论坛致词。
`
	if got := string(p.Content); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if want := "2021-11-18-柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”.md"; p.Name != want {
		t.Errorf("got name %q, want %q", p.Name, want)
	}
}

// TestRenderLang: the page's language is written when the lang extra is
// listed, and only then, so that existing archives' posts stay as they
// were.
func TestRenderLang(t *testing.T) {
	a := testArticle()
	a.Language = "zh-Hant-TW"
	for _, profile := range []string{converter.ProfileJekyll, converter.ProfileHugo} {
		opts := converter.DefaultOptions()
		opts.Profile = profile
		if fm := splitPost(t, render(t, newConverter(t, opts), a).Content).frontMatter; strings.Contains(fm, "lang") {
			t.Errorf("%s default: got a lang key in\n%s", profile, fm)
		}
		opts.Extra = []string{"lang"}
		if fm := splitPost(t, render(t, newConverter(t, opts), a).Content).frontMatter; !strings.Contains(fm, "\nlang: zh-Hant-TW\n") {
			t.Errorf("%s with extra lang: got\n%s\nwant a line lang: zh-Hant-TW", profile, fm)
		}
	}
}

func TestRenderFrontMatterKeys(t *testing.T) {
	full := testArticle()
	full.StoryID = "1215830"
	full.Section = "realtime/china"
	full.Modified = published.Add(90 * time.Minute)
	full.Author = "记者 张三"
	full.Keywords = []string{"两岸关系", "上海"}
	full.Image = converter.Image{URL: "https://www.zaobao.com.sg/s3/files/images/x.jpg?VersionId=1", Caption: "柯文哲（路透社）"}
	full.Truncated = true
	full.DateSource = "url"
	full.Language = "zh-Hans-SG"

	bare := testArticle()

	jekyll := []string{"layout", "title", "date", "author", "from", "tags", "comments", "categories"}
	hugo := []string{"title", "date", "author", "tags", "categories", "source"}
	hugoModified := []string{"title", "date", "lastmod", "author", "tags", "categories", "source"}

	tests := []struct {
		name    string
		options func(*converter.Options)
		article converter.Article
		want    []string
	}{
		{"jekyll default", func(*converter.Options) {}, bare, jekyll},
		{"jekyll ignores fields it has no key for", func(*converter.Options) {}, full, jekyll},
		{"jekyll without comments", func(o *converter.Options) { o.Comments = false },
			bare, []string{"layout", "title", "date", "author", "from", "tags", "categories"}},
		{"hugo", func(o *converter.Options) { o.Profile = converter.ProfileHugo }, bare, hugo},
		{"hugo with modified time", func(o *converter.Options) { o.Profile = converter.ProfileHugo }, full, hugoModified},
		{"jekyll with every extra", func(o *converter.Options) { o.Extra = converter.ExtraFields },
			full, append(slices.Clone(jekyll), converter.ExtraFields...)},
		{"hugo with every extra", func(o *converter.Options) {
			o.Profile = converter.ProfileHugo
			o.Extra = converter.ExtraFields
		}, full, append(slices.Clone(hugoModified), converter.ExtraFields...)},
		{"extras in ExtraFields order whatever the option order", func(o *converter.Options) {
			o.Extra = []string{"truncated", "story_id"}
		}, full, append(slices.Clone(jekyll), "story_id", "truncated")},
		{"an extra listed twice is written once", func(o *converter.Options) {
			o.Extra = []string{"story_id", "section", "story_id"}
		}, full, append(slices.Clone(jekyll), "story_id", "section")},
		{"empty extras left out, truncated only when true", func(o *converter.Options) { o.Extra = converter.ExtraFields },
			bare, jekyll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Rewrites = []converter.Rewrite{zaobaoRewrite}
			tt.options(&opts)
			p := splitPost(t, render(t, newConverter(t, opts), tt.article).Content)
			keys, _ := frontMatterNode(t, p.frontMatter)
			if !slices.Equal(keys, tt.want) {
				t.Errorf("got keys %v, want %v", keys, tt.want)
			}
		})
	}
}

func TestRenderHostileTitles(t *testing.T) {
	tests := []struct {
		name  string
		title string
		want  string // the title as written, once collapsed
	}{
		{"legacy chinese quotes", "柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”", "柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”"},
		{"ascii double quotes", `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功`, `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功`},
		{"ascii single quotes", `It's 'fine'`, `It's 'fine'`},
		{"colon space", "印媒: 印海军在南中国海部署军舰", "印媒: 印海军在南中国海部署军舰"},
		{"colon hash", "a: #not a comment", "a: #not a comment"},
		{"leading dash", "- not a list", "- not a list"},
		{"leading question mark", "? not a key", "? not a key"},
		{"open bracket", "[图集] 休斯顿", "[图集] 休斯顿"},
		{"unbalanced brackets", "a ] b [ c", "a ] b [ c"},
		{"brace", "{not: a map}", "{not: a map}"},
		{"ampersand", "& anchor", "& anchor"},
		{"html entity lookalike", "Tom &amp; Jerry &copy;", "Tom &amp; Jerry &copy;"},
		{"numeric entity lookalike", "a&#91;b", "a&#91;b"},
		{"star", "*alias and *emphasis*", "*alias and *emphasis*"},
		{"underscores", "a _b_ __c__", "a _b_ __c__"},
		{"tildes", "~~not struck~~ x", "~~not struck~~ x"},
		{"bang", "!important ![img](x)", "!important ![img](x)"},
		{"percent", "%TAG 9.3%", "%TAG 9.3%"},
		{"at", "@reserved", "@reserved"},
		{"backtick", "`code` here", "`code` here"},
		{"html tag", "<b>bold</b> <script>x</script>", "<b>bold</b> <script>x</script>"},
		{"autolink lookalike", "<https://example.com>", "<https://example.com>"},
		{"backslash", `C:\path\to`, `C:\path\to`},
		{"trailing backslash", `end\`, `end\`},
		{"pipe and hash", "a | b # c", "a | b # c"},
		{"yaml document markers", "--- ... ---", "--- ... ---"},
		{"yaml bool", "yes", "yes"},
		{"yaml null", "null", "null"},
		{"number", "2024", "2024"},
		{"newline and tab", "line one\nline\ttwo\r\nthree", "line one line two three"},
		{"surrounding space", "  \t spaced \n ", "spaced"},
		{"ideographic space", "双城论坛\u3000均提", "双城论坛 均提"},
		{"long title", strings.Repeat("长标题", 100), strings.Repeat("长标题", 100)},
		{"long title with spaces", strings.Repeat("word ", 60) + "end", strings.Repeat("word ", 60) + "end"},
		{"emoji", "😀 表情 👍🏽", "😀 表情 👍🏽"},
		{"control characters", "a\u0001b\u007fc\u0085d", "abc d"},
		{"zero-width characters", "两岸\u200b一家\u200c亲\ufeff\u200d", "两岸一家亲"},
		{"soft hyphen", "so\u00adft", "soft"},
		{"bidi override", "abc\u202edef", "abcdef"},
	}
	c := newConverter(t, converter.DefaultOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArticle()
			a.Title = tt.title
			p := splitPost(t, render(t, c, a).Content)
			fm := parseFrontMatter(t, p.frontMatter)
			if fm.Title != tt.want {
				t.Errorf("got front matter title %q, want %q", fm.Title, tt.want)
			}
			if fm.From != storyURL {
				t.Errorf("got from %q, want %q", fm.From, storyURL)
			}
			if !fm.Date.Equal(published) {
				t.Errorf("got date %v, want %v", fm.Date, published)
			}
			text, href := linkOf(t, p)
			if text != tt.want {
				t.Errorf("got link text %q, want %q (line %q)", text, tt.want, p.link)
			}
			if href != storyURL {
				t.Errorf("got link href %q, want %q", href, storyURL)
			}
		})
	}
}

func TestRenderURLs(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"story", storyURL},
		{"query and fragment", "https://www.zaobao.com/search?q=a&b=c#top"},
		{"parentheses", "https://en.wikipedia.org/wiki/Jekyll_(software)"},
		{"chinese path", "https://www.zaobao.com/keywords/台湾"},
		{"escaped path", "https://www.zaobao.com/keywords/%E5%8F%B0%E6%B9%BE"},
		{"port", "http://www.zaobao.com:8080/news"},
	}
	c := newConverter(t, converter.DefaultOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArticle()
			a.URL = tt.url
			p := splitPost(t, render(t, c, a).Content)
			if got := parseFrontMatter(t, p.frontMatter).From; got != tt.url {
				t.Errorf("got from %q, want %q", got, tt.url)
			}
			// goldmark percent-encodes the destination; compare what it
			// points to.
			_, href := linkOf(t, p)
			if got, want := unescapeURL(t, href), unescapeURL(t, tt.url); got != want {
				t.Errorf("got link href %q, want %q (line %q)", got, want, p.link)
			}
		})
	}
}

func unescapeURL(t testing.TB, u string) string {
	t.Helper()
	s, err := url.PathUnescape(u)
	if err != nil {
		t.Fatalf("unescape %q: %v", u, err)
	}
	return s
}

func TestRenderDate(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	singapore, err := time.LoadLocation("Asia/Singapore")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		published  time.Time
		location   *time.Location
		wantDate   string
		wantMarker string
	}{
		{"utc input", published, singapore, "2021-11-18T17:28:39+08:00", "<!--1637227719000-->"},
		{"new york input", published.In(newYork), singapore, "2021-11-18T17:28:39+08:00", "<!--1637227719000-->"},
		{"fixed +08 input", published.In(time.FixedZone("", 8*3600)), singapore, "2021-11-18T17:28:39+08:00", "<!--1637227719000-->"},
		{"monotonic clock reading", time.Unix(1637227719, 0).Round(0), singapore, "2021-11-18T17:28:39+08:00", "<!--1637227719000-->"},
		{"utc location", published, time.UTC, "2021-11-18T09:28:39Z", "<!--1637227719000-->"},
		{"new york location", published, newYork, "2021-11-18T04:28:39-05:00", "<!--1637227719000-->"},
		{"before 1970", time.Date(1965, 8, 9, 2, 0, 0, 0, time.UTC), singapore, "1965-08-09T09:30:00+07:30", "<!---138751200000-->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Location = tt.location
			a := testArticle()
			a.Published = tt.published
			p := splitPost(t, render(t, newConverter(t, opts), a).Content)
			_, values := frontMatterNode(t, p.frontMatter)
			if got := values["date"].Value; got != tt.wantDate {
				t.Errorf("got date %q, want %q", got, tt.wantDate)
			}
			if got := parseFrontMatter(t, p.frontMatter).Date; !got.Equal(tt.published) {
				t.Errorf("got date instant %v, want %v", got, tt.published)
			}
			if p.marker != tt.wantMarker {
				t.Errorf("got marker %q, want %q", p.marker, tt.wantMarker)
			}
		})
	}
}

// The legacy archive wrote dates to the millisecond, and the marker is in
// milliseconds: the two must name the same instant.
func TestRenderDateKeepsMilliseconds(t *testing.T) {
	a := testArticle()
	a.Published = time.Date(2020, 7, 25, 4, 30, 34, 562_000_000, time.UTC)
	p := splitPost(t, render(t, newConverter(t, converter.DefaultOptions()), a).Content)
	if want := "<!--1595651434562-->"; p.marker != want {
		t.Errorf("got marker %q, want %q", p.marker, want)
	}
	if got := parseFrontMatter(t, p.frontMatter).Date; !got.Equal(a.Published) {
		t.Errorf("got date %v, want %v (the marker's instant)", got.UTC().Format(time.RFC3339Nano), a.Published.Format(time.RFC3339Nano))
	}
}

func TestRenderHugo(t *testing.T) {
	opts := converter.DefaultOptions()
	opts.Profile = converter.ProfileHugo
	c := newConverter(t, opts)

	a := testArticle()
	a.Modified = published.Add(2 * time.Hour)
	p := splitPost(t, render(t, c, a).Content)
	fm := parseFrontMatter(t, p.frontMatter)
	_, values := frontMatterNode(t, p.frontMatter)

	if fm.Title != a.Title {
		t.Errorf("got title %q, want %q", fm.Title, a.Title)
	}
	if got, want := values["date"].Value, "2021-11-18T17:28:39+08:00"; got != want {
		t.Errorf("got date %q, want %q", got, want)
	}
	if got, want := values["lastmod"].Value, "2021-11-18T19:28:39+08:00"; got != want {
		t.Errorf("got lastmod %q, want %q", got, want)
	}
	if !fm.LastMod.Equal(a.Modified) {
		t.Errorf("got lastmod instant %v, want %v", fm.LastMod, a.Modified)
	}
	if fm.Author != "联合早报" {
		t.Errorf("got author %q, want %q", fm.Author, "联合早报")
	}
	if want := []string{"联合早报"}; !slices.Equal(fm.Tags, want) || !slices.Equal(fm.Categories, want) {
		t.Errorf("got tags %v and categories %v, want %v for both", fm.Tags, fm.Categories, want)
	}
	if fm.Source != storyURL {
		t.Errorf("got source %q, want %q", fm.Source, storyURL)
	}
	if !strings.HasPrefix(p.marker, "<!--") {
		t.Errorf("got marker line %q, want the <!--ms--> marker in the hugo profile too", p.marker)
	}
	// No legacy header: a Hugo theme shows the title and the source from
	// the front matter, and "[title](url)" over "------" would be a second
	// heading.
	if p.link != "" || strings.Contains(p.body, "------") || strings.Contains(p.body, "]("+storyURL+")") {
		t.Errorf("got the legacy header in a hugo post: link line %q, body\n%s", p.link, p.body)
	}
	if !strings.HasPrefix(p.body, "台北市长柯文哲今天在双城论坛致词。") {
		t.Errorf("got body %q, want the story's text right after the marker", head([]byte(p.body)))
	}
}

func TestRenderExtraFields(t *testing.T) {
	a := testArticle()
	a.StoryID = "1215830"
	a.Section = "realtime/china"
	a.Modified = published.Add(90 * time.Minute)
	a.Author = "  记者\n张三 "
	a.Keywords = []string{"两岸关系", "yes", "null", "123", "a: b"}
	a.Image = converter.Image{URL: "https://www.zaobao.com.sg/s3/files/images/x.jpg?VersionId=1", Caption: " 柯文哲\n（路透社） "}
	a.Truncated = true

	relative := a
	relative.Image.URL = "/s3/files/images/x.jpg?VersionId=1"

	tests := []struct {
		name    string
		article converter.Article
	}{
		{"absolute lead image", a},
		{"lead image relative to the story", relative},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Extra = converter.ExtraFields
			opts.Rewrites = []converter.Rewrite{zaobaoRewrite}
			p := splitPost(t, render(t, newConverter(t, opts), tt.article).Content)
			fm := parseFrontMatter(t, p.frontMatter)
			_, values := frontMatterNode(t, p.frontMatter)

			for _, key := range []string{"story_id", "section", "byline", "image", "image_caption"} {
				if v, ok := values[key]; !ok || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
					t.Errorf("got %s node %+v, want a string", key, v)
				}
			}
			if fm.StoryID != "1215830" {
				t.Errorf("got story_id %q, want %q", fm.StoryID, "1215830")
			}
			if fm.Section != "realtime/china" {
				t.Errorf("got section %q, want %q", fm.Section, "realtime/china")
			}
			if got, want := values["updated"].Value, "2021-11-18T18:58:39+08:00"; got != want {
				t.Errorf("got updated %q, want %q", got, want)
			}
			if fm.Byline != "记者 张三" {
				t.Errorf("got byline %q, want %q", fm.Byline, "记者 张三")
			}
			if !slices.Equal(fm.Keywords, tt.article.Keywords) {
				t.Errorf("got keywords %q, want %q", fm.Keywords, tt.article.Keywords)
			}
			for i, k := range values["keywords"].Content {
				if k.ShortTag() != "!!str" {
					t.Errorf("got keywords[%d] tagged %s, want !!str", i, k.ShortTag())
				}
			}
			if want := "https://static.zaobao.com/s3fs-public/images/x.jpg"; fm.Image != want {
				t.Errorf("got image %q, want %q", fm.Image, want)
			}
			if want := "柯文哲 （路透社）"; fm.ImageCaption != want {
				t.Errorf("got image_caption %q, want %q", fm.ImageCaption, want)
			}
			if !fm.Truncated {
				t.Errorf("got truncated false, want true")
			}
		})
	}
}

func TestRenderSiteVar(t *testing.T) {
	tests := []struct {
		name           string
		options        func(*converter.Options)
		site, byline   string
		keywords       []string
		wantAuthor     string
		wantTags       []string
		wantCategories []string
	}{
		{
			name: "default", options: func(*converter.Options) {},
			site: "联合早报", byline: "张三",
			wantAuthor: "联合早报", wantTags: []string{"联合早报"}, wantCategories: []string{"联合早报"},
		},
		{
			name: "inside other text and lists",
			options: func(o *converter.Options) {
				o.Author = "{site}记者"
				o.Tags = []string{"{site}", "news", "{site}"}
				o.Categories = []string{"news", "{site}"}
			},
			site:       "联合早报",
			wantAuthor: "联合早报记者", wantTags: []string{"联合早报", "news"}, wantCategories: []string{"news", "联合早报"},
		},
		{
			name:    "empty author falls back to the site",
			options: func(o *converter.Options) { o.Author = "" },
			site:    "联合早报", byline: "张三",
			wantAuthor: "联合早报", wantTags: []string{"联合早报"}, wantCategories: []string{"联合早报"},
		},
		{
			name:       "empty author and unknown site falls back to the byline",
			options:    func(o *converter.Options) { o.Author = "" },
			byline:     "张三",
			wantAuthor: "张三", wantTags: nil, wantCategories: nil,
		},
		{
			name:       "keyword tags appended without duplicates",
			options:    func(o *converter.Options) { o.KeywordTags = true },
			site:       "联合早报",
			keywords:   []string{"台湾", "联合早报", " 台湾 ", ""},
			wantAuthor: "联合早报", wantTags: []string{"联合早报", "台湾"}, wantCategories: []string{"联合早报"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, profile := range []string{converter.ProfileJekyll, converter.ProfileHugo} {
				opts := converter.DefaultOptions()
				opts.Profile = profile
				tt.options(&opts)
				a := testArticle()
				a.Site, a.Author, a.Keywords = tt.site, tt.byline, tt.keywords
				p := splitPost(t, render(t, newConverter(t, opts), a).Content)
				fm := parseFrontMatter(t, p.frontMatter)
				if fm.Author != tt.wantAuthor {
					t.Errorf("%s: got author %q, want %q", profile, fm.Author, tt.wantAuthor)
				}
				if !slices.Equal(fm.Tags, tt.wantTags) {
					t.Errorf("%s: got tags %q, want %q", profile, fm.Tags, tt.wantTags)
				}
				if !slices.Equal(fm.Categories, tt.wantCategories) {
					t.Errorf("%s: got categories %q, want %q", profile, fm.Categories, tt.wantCategories)
				}
				if strings.Contains(string(p.frontMatter), converter.SiteVar) {
					t.Errorf("%s: got %q left in front matter:\n%s", profile, converter.SiteVar, p.frontMatter)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*converter.Article)
		want   error
	}{
		{"no title", func(a *converter.Article) { a.Title = "" }, converter.ErrNoTitle},
		{"blank title", func(a *converter.Article) { a.Title = " \n\t\u3000" }, converter.ErrNoTitle},
		{"invisible title", func(a *converter.Article) { a.Title = "\u200b\ufeff\u0001" }, converter.ErrNoTitle},
		{"no url", func(a *converter.Article) { a.URL = "" }, converter.ErrNoURL},
		{"relative url", func(a *converter.Article) { a.URL = "/realtime/china/story20211118-1215830" }, converter.ErrNoURL},
		{"protocol-relative url", func(a *converter.Article) { a.URL = "//www.zaobao.com/realtime" }, converter.ErrNoURL},
		{"ftp url", func(a *converter.Article) { a.URL = "ftp://www.zaobao.com/story" }, converter.ErrNoURL},
		{"javascript url", func(a *converter.Article) { a.URL = "javascript:alert(1)" }, converter.ErrNoURL},
		{"mailto url", func(a *converter.Article) { a.URL = "mailto:news@zaobao.com" }, converter.ErrNoURL},
		{"url without host", func(a *converter.Article) { a.URL = "https:///story" }, converter.ErrNoURL},
		{"unparsable url", func(a *converter.Article) { a.URL = "https://www.zaobao.com/%zz" }, converter.ErrNoURL},
		{"url with a trailing space", func(a *converter.Article) { a.URL = storyURL + " " }, converter.ErrNoURL},
		{"url with a trailing newline", func(a *converter.Article) { a.URL = storyURL + "\n" }, converter.ErrNoURL},
		{"url with a zero-width space", func(a *converter.Article) { a.URL = storyURL + "\u200b" }, converter.ErrNoURL},
		{"url with broken utf-8", func(a *converter.Article) { a.URL = storyURL + "\x8b" }, converter.ErrNoURL},
		{"zero published", func(a *converter.Article) { a.Published = time.Time{} }, converter.ErrNoDate},
		{"zero published in a zone", func(a *converter.Article) { a.Published = time.Time{}.In(time.FixedZone("", 3600)) }, converter.ErrNoDate},
	}
	c := newConverter(t, converter.DefaultOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArticle()
			tt.change(&a)
			p, err := c.Render(a)
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
			if p.Name != "" || p.Content != nil {
				t.Errorf("got post %q with the error, want none", p.Name)
			}
		})
	}
}

// A date the front matter cannot hold as a YAML timestamp, or that gives a
// file name that is not YYYY-MM-DD-, is no publication time either.
func TestRenderRejectsDatesOutsideFourDigitYears(t *testing.T) {
	tests := []struct {
		name      string
		published time.Time
	}{
		{"year 10000", time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"year -1", time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"far future from a bad unix parse", time.UnixMilli(1637227719000 * 1000)},
	}
	c := newConverter(t, converter.DefaultOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArticle()
			a.Published = tt.published
			p, err := c.Render(a)
			if !errors.Is(err, converter.ErrNoDate) {
				t.Errorf("got error %v and name %q, want %v", err, p.Name, converter.ErrNoDate)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name   string
		change func(*converter.Options)
	}{
		{"zero options", func(o *converter.Options) { *o = converter.Options{} }},
		{"unknown profile", func(o *converter.Options) { o.Profile = "hexo" }},
		{"no location", func(o *converter.Options) { o.Location = nil }},
		{"title max runes too small", func(o *converter.Options) { o.TitleMaxRunes = 7 }},
		{"title max runes too large", func(o *converter.Options) { o.TitleMaxRunes = 81 }},
		{"unknown extra", func(o *converter.Options) { o.Extra = []string{"story_id", "weather"} }},
		{"rewrite without pattern", func(o *converter.Options) { o.Rewrites = []converter.Rewrite{zaobaoRewrite, {Replace: "x"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			tt.change(&opts)
			if c, err := converter.New(opts); err == nil {
				t.Errorf("got converter %v and no error, want an error", c)
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	a := testArticle()
	a.Title = `Tom & "Jerry": [图集]`
	a.StoryID = "1215830"
	a.Modified = published.Add(time.Hour)
	a.Keywords = []string{"b", "a", "c"}
	a.Image = converter.Image{URL: "/s3/files/images/lead.jpg", Caption: "图说"}
	a.BodyHTML = mustReadFile(t, "testdata/legacy-030.html")

	opts := converter.DefaultOptions()
	opts.Extra = converter.ExtraFields
	opts.KeywordTags = true
	opts.Rewrites = []converter.Rewrite{zaobaoRewrite}

	first := render(t, newConverter(t, opts), a)
	c := newConverter(t, opts)
	for i, p := range []converter.Post{render(t, c, a), render(t, c, a)} {
		if p.Name != first.Name || !bytes.Equal(p.Content, first.Content) {
			t.Errorf("render %d: got a different post from the same article:\n%s\nwant\n%s", i, p.Content, first.Content)
		}
	}

	// Converter is documented as safe for concurrent use; the race
	// detector checks the claim.
	var wg sync.WaitGroup
	posts := make([]converter.Post, 8)
	for i := range posts {
		wg.Go(func() {
			p, err := c.Render(a)
			if err != nil {
				t.Errorf("concurrent Render: %v", err)
			}
			posts[i] = p
		})
	}
	wg.Wait()
	for i, p := range posts {
		if !bytes.Equal(p.Content, first.Content) {
			t.Errorf("concurrent render %d: got a different post from the same article", i)
		}
	}
}

func TestRenderPostName(t *testing.T) {
	opts := converter.DefaultOptions()
	opts.TitleMaxRunes = 10
	a := testArticle()
	a.Title = "  美部长致辞出现口误\n将蔡英文说成“President Xi” "
	a.Published = time.Date(2020, 8, 9, 16, 30, 0, 0, time.UTC)
	p := render(t, newConverter(t, opts), a)
	if want := "2020-08-10-美部长致辞出现口误.md"; p.Name != want {
		t.Errorf("got name %q, want %q", p.Name, want)
	}
}

func mustReadFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// legacyStories are real zaobao stories of the legacy archive; their
// bodies are testdata/legacy-*.html.
var legacyStories = []struct {
	file      string
	title     string
	url       string
	published string
}{
	{"legacy-003", `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功`, "https://www.zaobao.com/realtime/china/story20200726-1072090", "2020-07-26T19:58:00+08:00"},
	{"legacy-008", "美部长致辞出现口误 将蔡英文说成“President Xi”", "https://www.zaobao.com/realtime/china/story20200810-1075842", "2020-08-10T13:02:00+08:00"},
	{"legacy-018", "阿里巴巴在港股下挫9.3%", "https://www.zaobao.com/realtime/china/story20201104-1098252", "2020-11-04T10:03:00+08:00"},
	{"legacy-030", "大比拼！全球疫苗比较优势知多少？", "https://www.zaobao.com/realtime/china/story20201217-1109589", "2020-12-17T19:54:00+08:00"},
	{"legacy-041", "中共二十大会期七天", "https://www.zaobao.com/realtime/china/story20221015-1323182", "2022-10-15T16:34:00+08:00"},
	{"legacy-054", "下午察：“农管”来了？", "https://www.zaobao.com/realtime/china/story20230420-1385385", "2023-04-20T23:35:47+08:00"},
}

func legacyArticle(t testing.TB, i int) converter.Article {
	t.Helper()
	s := legacyStories[i]
	pub, err := time.Parse(time.RFC3339, s.published)
	if err != nil {
		t.Fatal(err)
	}
	return converter.Article{
		Title:     s.title,
		URL:       s.url,
		Site:      "联合早报",
		Published: pub,
		BodyHTML:  mustReadFile(t, filepath.Join("testdata", s.file+".html")),
	}
}

// TestRenderGolden compares the posts of real stories with the reviewed
// output in testdata/*.golden.md; go test -run TestRenderGolden -update
// rewrites them.
func TestRenderGolden(t *testing.T) {
	c := newConverter(t, converter.DefaultOptions())
	for i, s := range legacyStories {
		t.Run(s.file, func(t *testing.T) {
			p := render(t, c, legacyArticle(t, i))
			golden := filepath.Join("testdata", s.file+".golden.md")
			if *update {
				if err := os.WriteFile(golden, p.Content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := mustReadFile(t, golden)
			if got := string(p.Content); got != want {
				t.Errorf("post differs from %s (run with -update after review):\n%s", golden, lineDiff(got, want))
			}
			if !utf8.Valid(p.Content) {
				t.Errorf("got invalid UTF-8 in the post")
			}
			if bytes.Contains(p.Content, []byte("data:image")) {
				t.Errorf("got a data: URL in the post")
			}
			// A "**" left in the rendered text is emphasis that did not
			// render.
			if text := textContent(markdown(t, splitPost(t, p.Content).body)); strings.Contains(text, "**") {
				t.Errorf("got a literal ** in the rendered body")
			}
		})
	}
}

// lineDiff shows the first line where got and want differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d: got  %q\nline %d: want %q", i+1, gl, i+1, wl)
		}
	}
	return "(same lines)"
}

func TestRenderTemplateSyntax(t *testing.T) {
	tests := []struct {
		name       string
		profile    string
		title      string
		body       string
		wantLiquid bool     // "render_with_liquid: false" written last
		wantText   []string // in the rendered post
	}{
		{"jekyll plain", converter.ProfileJekyll, "标题", "<p>正文 {not liquid}</p>", false, []string{"正文 {not liquid}"}},
		{"jekyll liquid output in body", converter.ProfileJekyll, "标题", "<p>模板 {{ site.title }} 原样</p>", true, []string{"模板 {{ site.title }} 原样"}},
		{"jekyll liquid tag in body", converter.ProfileJekyll, "标题", "<p>{% include x.html %}</p>", true, []string{"{% include x.html %}"}},
		{"jekyll liquid in title", converter.ProfileJekyll, "{{ page.title }}", "<p>正文</p>", true, []string{"{{ page.title }}"}},
		{"hugo shortcodes in body", converter.ProfileHugo, "标题", "<p>{{< youtube abc >}} 与 {{% note %}}</p>", false, []string{"{{< youtube abc >}} 与 {{% note %}}"}},
		// The title is in the front matter alone (no legacy header), where
		// Hugo reads no shortcodes: it is checked there, as written.
		{"hugo shortcode in title", converter.ProfileHugo, "{{% note %}} 标题", "<p>正文</p>", false, []string{"正文"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Profile = tt.profile
			opts.Extra = []string{"truncated"}
			a := testArticle()
			a.Title, a.BodyHTML = tt.title, tt.body
			content := render(t, newConverter(t, opts), a).Content
			p := splitPost(t, content)
			keys, values := frontMatterNode(t, p.frontMatter)
			gotLiquid := keys[len(keys)-1] == "render_with_liquid" && values["render_with_liquid"].Value == "false"
			if gotLiquid != tt.wantLiquid {
				t.Errorf("got keys %v, want render_with_liquid: false last: %v", keys, tt.wantLiquid)
			}
			if tt.profile == converter.ProfileHugo {
				if _, ok := values["render_with_liquid"]; ok {
					t.Errorf("got render_with_liquid in a hugo post")
				}
				// Hugo reads these as shortcodes wherever they are.
				after := string(content[len("---\n")+len(p.frontMatter)+len("---\n"):])
				if strings.Contains(after, "{{<") || strings.Contains(after, "{{%") {
					t.Errorf("got a shortcode opener in %q", after)
				}
				if got := parseFrontMatter(t, p.frontMatter).Title; got != tt.title {
					t.Errorf("got front matter title %q, want %q", got, tt.title)
				}
			}
			text := textContent(markdown(t, p.marker+"\n"+p.link+"\n------\n\n"+p.body))
			for _, want := range tt.wantText {
				if !strings.Contains(text, want) {
					t.Errorf("got text %q, want it to contain %q", text, want)
				}
			}
		})
	}
}
