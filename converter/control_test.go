package converter_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/newsmd/newsmd/converter"
	"go.yaml.in/yaml/v3"
)

// forbidden is what no post may hold, worked out apart from the
// converter: control characters other than tab, line feed and carriage
// return, surrogates and noncharacters.
func forbidden(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cs, unicode.Noncharacter_Code_Point)
}

// hostile holds every kind of character Control must catch, but for
// those that are white space as well (spacey).
const (
	hostile = "\x01\x08\x1b\x1f\x7f\u0080\u009b\u009f\ufdd0\ufffe\uffff\U0001fffe\U0010ffff"
	spacey  = "\x0b\x0c\u0085"
)

func TestControl(t *testing.T) {
	for _, r := range hostile + spacey {
		if !converter.Control(r) {
			t.Errorf("Control(%U): got false, want true", r)
		}
	}
	for _, r := range "\t\n\r aZ中\u00a0\u00ad\u200b\u3000\ufeff\ufffd😀\U000e0001" {
		if converter.Control(r) {
			t.Errorf("Control(%U): got true, want false", r)
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if converter.Control(r) != forbidden(r) {
			t.Fatalf("Control(%U): got %v, want %v", r, converter.Control(r), forbidden(r))
		}
	}
}

func TestStripHidden(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"正文。\n\t第二行\r\n", "正文。\n\t第二行\r\n"},
		{"红\x1b[31m色\x1b[0m", "红[31m色[0m"},
		{"a\x0bb\x0cc\u0085d", "a b c d"}, // white space controls become spaces
		{"两岸\u200b一家\ufeff亲", "两岸一家亲"},
		{"x" + hostile + "y", "xy"},
	}
	for _, tt := range tests {
		if got := converter.StripHidden(tt.in); got != tt.want {
			t.Errorf("StripHidden(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMarkdownDropsControlCharacters: control characters written raw or
// as character references, in text, links, captions, code and tables,
// never reach the Markdown, and the text around them stays.
func TestMarkdownDropsControlCharacters(t *testing.T) {
	refs := "&#1;&#x1b;&#x7f;&#xFFFE;&#xfdd0;&#x10FFFF;"
	body := `<p>红` + hostile + spacey + `色` + refs + `字</p>` +
		`<p><a href="/x">链` + hostile + `接</a> <a href="/y` + "\x1b" + `">坏链接</a></p>` +
		`<p><img src="/a.jpg" alt="图` + hostile + refs + `说"></p>` +
		`<figure><img src="/b.jpg" title="` + refs + `"><figcaption>说` + hostile + `明</figcaption></figure>` +
		`<pre><code>代` + hostile + refs + `码</code></pre>` +
		`<table><tr><td>表` + hostile + `格</td><td>x</td></tr><tr><td>1</td><td>2</td></tr></table>` +
		`<p><b>粗` + hostile + spacey + `体</b></p>`
	lead := converter.Image{URL: "/lead.jpg", Caption: "头" + hostile + "图"}
	md := bodyMarkdown(t, body, lead)
	if i := strings.IndexFunc(md, forbidden); i >= 0 {
		r := []rune(md[i:])[0]
		t.Errorf("got %U in the Markdown at byte %d: %q", r, i, md)
	}
	text := textContent(markdown(t, md))
	for _, want := range []string{"红", "色", "字", "链", "接", "坏链接", "代", "码", "表", "格", "粗", "体", "说", "明", "头"} {
		if !strings.Contains(text, want) {
			t.Errorf("got text %q, want it to contain %q", text, want)
		}
	}
}

// TestRenderDropsControlCharacters: no front matter string and no part of
// the body carries a control character, in either profile with every
// extra field on.
func TestRenderDropsControlCharacters(t *testing.T) {
	a := testArticle()
	a.Title = "标" + hostile + "题\x1b[0m"
	a.Site = "联合" + hostile + "早报"
	a.Author = "记" + hostile + spacey + "者"
	a.Section = "realtime/" + hostile + "china"
	a.StoryID = "1215830" + hostile
	a.Keywords = []string{"两岸" + hostile, hostile, "关系\ufffe"}
	a.Image = converter.Image{URL: "https://www.zaobao.com/s3/files/a.jpg", Caption: "说" + hostile + "明"}
	a.BodyHTML = "<p>正" + hostile + "文&#x1b;[0m</p>"
	a.Truncated = true
	for _, profile := range []string{converter.ProfileJekyll, converter.ProfileHugo} {
		t.Run(profile, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Profile = profile
			opts.Extra = converter.ExtraFields
			opts.KeywordTags = true
			opts.Author = "{site}记者" + hostile
			opts.Tags = []string{"{site}", "t" + hostile}
			c := newConverter(t, opts)
			p := render(t, c, a)
			content := string(p.Content)
			if i := strings.IndexFunc(content, forbidden); i >= 0 {
				t.Errorf("got %U in the post at byte %d:\n%q", []rune(content[i:])[0], i, content)
			}
			if strings.ContainsFunc(p.Name, forbidden) {
				t.Errorf("got a control character in the file name %q", p.Name)
			}
			parts := splitPost(t, p.Content)
			var fm map[string]any
			if err := yaml.Unmarshal([]byte(parts.frontMatter), &fm); err != nil {
				t.Fatalf("front matter does not parse: %v\n%s", err, parts.frontMatter)
			}
			if got := fm["title"]; got != "标题[0m" {
				t.Errorf("got title %q, want %q", got, "标题[0m")
			}
			if got := fm["byline"]; got != "记 者" {
				t.Errorf("got byline %q, want %q", got, "记 者")
			}
			if !strings.Contains(parts.body, "正文[0m") {
				t.Errorf("got body %q, want the text without its control characters", parts.body)
			}
		})
	}
}
