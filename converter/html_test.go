package converter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// bodyMarkdown converts body as the body of the test story, with the
// zaobao image rewrite on.
func bodyMarkdown(t testing.TB, body string, lead converter.Image) string {
	t.Helper()
	opts := converter.DefaultOptions()
	opts.Rewrites = []converter.Rewrite{zaobaoRewrite}
	a := testArticle()
	a.BodyHTML = body
	a.Image = lead
	md, err := newConverter(t, opts).Markdown(a)
	if err != nil {
		t.Fatalf("Markdown: %v", err)
	}
	return md
}

type image struct{ src, alt string }

func images(doc *html.Node) []image {
	var out []image
	for _, n := range elements(doc, "img") {
		out = append(out, image{attrOf(n, "src"), attrOf(n, "alt")})
	}
	return out
}

func TestMarkdownImages(t *testing.T) {
	const dir = "https://www.zaobao.com/realtime/china/"
	tests := []struct {
		name string
		body string
		want []image
	}{
		{
			name: "lazy image with a data: placeholder",
			body: `<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==" data-src="/a.jpg">`,
			want: []image{{"https://www.zaobao.com/a.jpg", ""}},
		},
		{
			name: "lazy image relative to the story",
			body: `<img class="lazyload" data-src="images/a.jpg" alt="图">`,
			want: []image{{dir + "images/a.jpg", "图"}},
		},
		{
			name: "data-original",
			body: `<img src="/blank.gif#" data-original="//cdn.zaobao.com/a.jpg">`,
			want: []image{{"https://cdn.zaobao.com/a.jpg", ""}},
		},
		{
			name: "srcset widest candidate",
			body: `<img src="/small.jpg" srcset="/a-480.jpg 480w, /a-1024.jpg 1024w, /a-800.jpg 800w">`,
			want: []image{{"https://www.zaobao.com/a-1024.jpg", ""}},
		},
		{
			name: "data-srcset widest candidate",
			body: `<img src="data:image/gif;base64,AAAA" data-srcset="/a-480.jpg 480w,/a-1024.jpg 1024w">`,
			want: []image{{"https://www.zaobao.com/a-1024.jpg", ""}},
		},
		{
			name: "srcset density descriptors",
			body: `<img srcset="/a.jpg, /a@2x.jpg 2x">`,
			want: []image{{"https://www.zaobao.com/a@2x.jpg", ""}},
		},
		{
			name: "srcset of a CDN with commas in its URLs",
			body: `<img srcset="https://res.cloudinary.com/demo/image/upload/w_480,c_fill/a.jpg 480w, https://res.cloudinary.com/demo/image/upload/w_1024,c_fill/a.jpg 1024w">`,
			want: []image{{"https://res.cloudinary.com/demo/image/upload/w_1024,c_fill/a.jpg", ""}},
		},
		{
			name: "data: placeholder in srcset",
			body: `<img src="/real.jpg" srcset="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">`,
			want: []image{{"https://www.zaobao.com/real.jpg", ""}},
		},
		{
			name: "picture with lazy sources",
			body: `<picture><source type="image/webp" data-srcset="/p-480.webp 480w, /p-1024.webp 1024w"><img src="data:image/gif;base64,AAAA" alt="图片"></picture>`,
			want: []image{{"https://www.zaobao.com/p-1024.webp", "图片"}},
		},
		{
			name: "noscript copy of a lazy image without a usable URL",
			body: `<p><img class="lazyload" src="data:image/gif;base64,AAAA"><noscript><img src="real.jpg" alt="真图"></noscript></p>`,
			want: []image{{dir + "real.jpg", "真图"}},
		},
		{
			name: "noscript copy of a lazy image with a data-src",
			body: `<p><img class="lazyload" src="data:image/gif;base64,AAAA" data-src="/real.jpg"><noscript><img src="/real.jpg"></noscript></p>`,
			want: []image{{"https://www.zaobao.com/real.jpg", ""}},
		},
		{
			name: "image with only a placeholder disappears",
			body: `<p>前<img src="data:image/gif;base64,AAAA">后</p>`,
			want: nil,
		},
		{
			name: "image with no URL at all disappears",
			body: `<p>前<img alt="无图">中<img src="" data-src="#">后<img src="javascript:void(0)"></p>`,
			want: nil,
		},
		{
			name: "alt from title",
			body: `<div class="figure-media"><img data-src="/a.jpg" title="各国的疫苗研发进入冲刺阶段。（路透社）" alt></div>`,
			want: []image{{"https://www.zaobao.com/a.jpg", "各国的疫苗研发进入冲刺阶段。（路透社）"}},
		},
		{
			name: "rewritten zaobao s3 image",
			body: `<img src="/s3/files/images/x.jpg?VersionId=1">`,
			want: []image{{"https://static.zaobao.com/s3fs-public/images/x.jpg", ""}},
		},
		{
			name: "rewrite on the .sg host",
			body: `<img data-src="https://zaobao.com.sg/s3/files/images/2024/y.png#frag">`,
			want: []image{{"https://static.zaobao.com/s3fs-public/images/2024/y.png", ""}},
		},
		{
			name: "other hosts not rewritten",
			body: `<img src="https://example.com/s3/files/images/x.jpg?VersionId=1">`,
			want: []image{{"https://example.com/s3/files/images/x.jpg?VersionId=1", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			if got := images(markdown(t, md)); !slices.Equal(got, tt.want) {
				t.Errorf("got images %q, want %q\nmarkdown: %q", got, tt.want, md)
			}
			if strings.Contains(md, "data:") {
				t.Errorf("got a data: URL in %q", md)
			}
		})
	}
}

func TestMarkdownFigure(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // the blocks, as "img src alt" or "em caption" or "p text"
	}{
		{
			name: "figure with figcaption",
			body: `<figure class="image-placeholder"><img src="/a.jpg"><figcaption> 有95%有效性的美国辉瑞疫苗。（路透社）</figcaption></figure><p>正文。</p>`,
			want: []string{
				"img https://www.zaobao.com/a.jpg 有95%有效性的美国辉瑞疫苗。（路透社）",
				"em 有95%有效性的美国辉瑞疫苗。（路透社）",
				"p 正文。",
			},
		},
		{
			name: "figure-media followed by a figcaption",
			body: `<div class="figure-media"><img class="img-fluid lazyload" data-src="/b.jpg" title="图说" alt></div><figcaption>图说</figcaption><p>正文。</p>`,
			want: []string{"img https://www.zaobao.com/b.jpg 图说", "em 图说", "p 正文。"},
		},
		{
			name: "figure whose alt is the file name",
			body: `<figure class="image-placeholder"><img alt="hui_rui_file7do03ikbgjlx6sv7am9_Medium.jpg" src="/hui_rui_file7do03ikbgjlx6sv7am9_Medium.jpg"><figcaption>美国辉瑞疫苗。（路透社）</figcaption></figure>`,
			want: []string{"img https://www.zaobao.com/hui_rui_file7do03ikbgjlx6sv7am9_Medium.jpg 美国辉瑞疫苗。（路透社）", "em 美国辉瑞疫苗。（路透社）"},
		},
		{
			name: "figure without caption",
			body: `<figure><img src="/a.jpg" alt="说明"></figure>`,
			want: []string{"img https://www.zaobao.com/a.jpg 说明"},
		},
		{
			name: "empty figcaption before another figure",
			body: `<figure><img src="/a.jpg"><figcaption> </figcaption></figure><p>中间。</p>` +
				`<figure><img src="/b.jpg"><figcaption>第二张</figcaption></figure>`,
			want: []string{
				"img https://www.zaobao.com/a.jpg ",
				"p 中间。",
				"img https://www.zaobao.com/b.jpg 第二张",
				"em 第二张",
			},
		},
		{
			name: "caption with markup",
			body: `<figure><img src="/a.jpg"><figcaption>图：<a href="/p">摄影</a> <b>张三</b></figcaption></figure>`,
			want: []string{"img https://www.zaobao.com/a.jpg 图：摄影 张三", "em 图：摄影 张三"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			if got := blocks(markdown(t, md)); !slices.Equal(got, tt.want) {
				t.Errorf("got blocks\n%q\nwant\n%q\nmarkdown: %q", got, tt.want, md)
			}
		})
	}
}

// blocks describes the top-level blocks of a rendered body: a paragraph
// holding only an image as "img src alt", only emphasis as "em text",
// anything else as "tag text".
func blocks(doc *html.Node) []string {
	body := elements(doc, "body")[0]
	var out []string
	for n := body.FirstChild; n != nil; n = n.NextSibling {
		if n.Type != html.ElementNode {
			continue
		}
		only := onlyChild(n)
		switch {
		case n.DataAtom == atom.P && only != nil && only.DataAtom == atom.Img:
			out = append(out, "img "+attrOf(only, "src")+" "+attrOf(only, "alt"))
		case n.DataAtom == atom.P && only != nil && only.DataAtom == atom.Em:
			out = append(out, "em "+textContent(only))
		default:
			out = append(out, n.Data+" "+textContent(n))
		}
	}
	return out
}

func onlyChild(n *html.Node) *html.Node {
	var only *html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) == "" {
			continue
		}
		if only != nil || c.Type != html.ElementNode {
			return nil
		}
		only = c
	}
	return only
}

func TestMarkdownLeadImage(t *testing.T) {
	const leadURL = "https://www.zaobao.com.sg/sites/default/files/images/202012/lead.jpg"
	tests := []struct {
		name string
		lead converter.Image
		body string
		want []string
	}{
		{
			name: "put on top",
			lead: converter.Image{URL: leadURL + "?itok=J4n9SMVp", Caption: "各国的疫苗研发进入冲刺阶段。（路透社）"},
			body: `<p>正文。</p>`,
			want: []string{
				"img " + leadURL + "?itok=J4n9SMVp 各国的疫苗研发进入冲刺阶段。（路透社）",
				"em 各国的疫苗研发进入冲刺阶段。（路透社）",
				"p 正文。",
			},
		},
		{
			name: "without caption",
			lead: converter.Image{URL: leadURL},
			body: `<p>正文。</p>`,
			want: []string{"img " + leadURL + " ", "p 正文。"},
		},
		{
			name: "not repeated when the body shows it with another query",
			lead: converter.Image{URL: leadURL + "?itok=new", Caption: "图说"},
			body: `<div class="figure-media"><img class="lazyload" data-src="` + leadURL + `?itok=old" title="图说"></div><figcaption>图说</figcaption><p>正文。</p>`,
			want: []string{"img " + leadURL + "?itok=old 图说", "em 图说", "p 正文。"},
		},
		{
			name: "not repeated when the body shows it by a relative path",
			lead: converter.Image{URL: "https://www.zaobao.com/s3fs-public/a.png"},
			body: `<p><img src="data:image/gif;base64,AAAA" data-src="/s3fs-public/a.png?itok=1"></p><p>正文。</p>`,
			want: []string{"img https://www.zaobao.com/s3fs-public/a.png?itok=1 ", "p 正文。"},
		},
		{
			name: "not repeated when both are rewritten to the same picture",
			lead: converter.Image{URL: "https://www.zaobao.com.sg/s3/files/images/x.jpg?VersionId=2"},
			body: `<p><img src="/s3/files/images/x.jpg?VersionId=1"></p>`,
			want: []string{"img https://static.zaobao.com/s3fs-public/images/x.jpg "},
		},
		{
			name: "relative lead image",
			lead: converter.Image{URL: "/s3/files/images/lead.jpg?VersionId=1"},
			body: `<p>正文。</p>`,
			want: []string{"img https://static.zaobao.com/s3fs-public/images/lead.jpg ", "p 正文。"},
		},
		{
			name: "unusable lead image",
			lead: converter.Image{URL: "data:image/gif;base64,AAAA", Caption: "图说"},
			body: `<p>正文。</p>`,
			want: []string{"p 正文。"},
		},
		{
			name: "lead image and empty body",
			lead: converter.Image{URL: leadURL},
			body: ``,
			want: []string{"img " + leadURL + " "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, tt.lead)
			if got := blocks(markdown(t, md)); !slices.Equal(got, tt.want) {
				t.Errorf("got blocks\n%q\nwant\n%q\nmarkdown: %q", got, tt.want, md)
			}
		})
	}
}

func TestMarkdownLinks(t *testing.T) {
	type link struct{ href, text string }
	tests := []struct {
		name     string
		body     string
		want     []link
		wantText string
	}{
		{
			name:     "relative link",
			body:     `<p>见<a href="/special/cpc-20-national-congress">中共二十大</a>专题</p>`,
			want:     []link{{"https://www.zaobao.com/special/cpc-20-national-congress", "中共二十大"}},
			wantText: "见中共二十大专题",
		},
		{
			name:     "link relative to the story",
			body:     `<p><a href="story20211118-1215831?utm=x#top">下一篇</a></p>`,
			want:     []link{{"https://www.zaobao.com/realtime/china/story20211118-1215831?utm=x#top", "下一篇"}},
			wantText: "下一篇",
		},
		{
			name:     "protocol-relative link",
			body:     `<p><a href="//twitter.com/x">推文</a></p>`,
			want:     []link{{"https://twitter.com/x", "推文"}},
			wantText: "推文",
		},
		{
			name:     "javascript link loses its link",
			body:     `<p>请<a href="javascript:void(0)" onclick="x()">点击这里</a>订阅</p>`,
			want:     nil,
			wantText: "请点击这里订阅",
		},
		{
			name:     "upper-case javascript link",
			body:     `<p><a href=" JavaScript:alert(1)">脚本</a></p>`,
			want:     nil,
			wantText: "脚本",
		},
		{
			name:     "mailto link loses its link",
			body:     `<p><a href="mailto:news@zaobao.com">来信</a></p>`,
			want:     nil,
			wantText: "来信",
		},
		{
			name:     "link with parentheses and spaces",
			body:     `<p><a href="/a (b).html">括号</a></p>`,
			want:     []link{{"https://www.zaobao.com/a%20%28b%29.html", "括号"}},
			wantText: "括号",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			doc := markdown(t, md)
			var got []link
			for _, a := range elements(doc, "a") {
				got = append(got, link{attrOf(a, "href"), textContent(a)})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got links %q, want %q\nmarkdown: %q", got, tt.want, md)
			}
			if got := strings.TrimSpace(textContent(doc)); got != tt.wantText {
				t.Errorf("got text %q, want %q", got, tt.wantText)
			}
			if strings.Contains(strings.ToLower(md), "javascript:") {
				t.Errorf("got a javascript: URL in %q", md)
			}
		})
	}
}

func TestMarkdownEmbeds(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "iframe",
			body: `<p>视频：</p><iframe width="560" src="https://www.youtube.com/embed/abc?rel=0" allowfullscreen></iframe>`,
			want: []string{"https://www.youtube.com/embed/abc?rel=0"},
		},
		{
			name: "iframe inside a paragraph",
			body: `<p>视频：<iframe src="//player.vimeo.com/video/1"></iframe></p>`,
			want: []string{"https://player.vimeo.com/video/1"},
		},
		{
			name: "video with src",
			body: `<video controls src="/media/v.mp4" poster="/p.jpg"></video>`,
			want: []string{"https://www.zaobao.com/media/v.mp4"},
		},
		{
			name: "video with a source",
			body: `<video controls><source src="/media/w.mp4" type="video/mp4">不支持视频</video>`,
			want: []string{"https://www.zaobao.com/media/w.mp4"},
		},
		{
			name: "embed",
			body: `<embed src="https://www.zaobao.com/flash.swf">`,
			want: []string{"https://www.zaobao.com/flash.swf"},
		},
		{
			name: "iframe without a usable src disappears",
			body: `<p>前</p><iframe src="about:blank"></iframe><iframe></iframe><p>后</p>`,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			doc := markdown(t, md)
			var got []string
			for _, a := range elements(doc, "a") {
				got = append(got, attrOf(a, "href"))
				if text := textContent(a); text != attrOf(a, "href") {
					t.Errorf("got link text %q, want the URL %q", text, attrOf(a, "href"))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got links %q, want %q\nmarkdown: %q", got, tt.want, md)
			}
			for _, tag := range []string{"iframe", "video", "embed"} {
				if n := elements(doc, tag); len(n) > 0 {
					t.Errorf("got a <%s> in the rendered body: %s", tag, renderedHTML(doc))
				}
			}
		})
	}
}

func TestMarkdownEmphasisCJK(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		tag      string // strong or em
		wantEmph string // the emphasised text, all runs of tag joined
		wantText string // the paragraph's text
	}{
		{"quotes inside strong", `<p>他说<strong>“两岸一家亲”</strong>是的</p>`, "strong", "两岸一家亲", "他说“两岸一家亲”是的"},
		{"brackets inside em", `<p><em>（路透社）</em>好</p>`, "em", "路透社", "（路透社）好"},
		{"lenticular brackets inside b", `<p><b>【图集】</b>休斯顿中国领馆降旗</p>`, "strong", "图集", "【图集】休斯顿中国领馆降旗"},
		{"i with ascii quotes", `<p>所谓<i>"Made in China"</i>产品</p>`, "em", "Made in China", `所谓"Made in China"产品`},
		{"link inside strong", `<p><strong><a href="/x">链接</a></strong>后</p>`, "strong", "链接", "链接后"},
		{"full stop at the end", `<p><strong>这是重点。</strong>然后继续</p>`, "strong", "这是重点", "这是重点。然后继续"},
		{"spaces at the edges", `<p>前<strong> 重点 </strong>后</p>`, "strong", "重点", "前 重点 后"},
		{"colon at the end", `<p><b>延伸阅读：</b>中美关系</p>`, "strong", "延伸阅读", "延伸阅读：中美关系"},
		{"punctuation in the middle", `<p>说<strong>“甲”和“乙”</strong>是</p>`, "strong", "甲”和“乙", "说“甲”和“乙”是"},
		{"nested strong and em", `<p>他说<strong><em>“重要”</em></strong>是</p>`, "em", "重要", "他说“重要”是"},
		{"strong ending with a link", `<p><strong>详见<a href="/x">专题</a></strong>后文</p>`, "strong", "详见专题", "详见专题后文"},
		{"strong starting with a link", `<p>前文<strong><a href="/x">专题</a>详见</strong></p>`, "strong", "专题详见", "前文专题详见"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			doc := markdown(t, md)
			var got strings.Builder
			for _, n := range elements(doc, tt.tag) {
				got.WriteString(textContent(n))
			}
			if got.String() != tt.wantEmph {
				t.Errorf("got <%s> text %q, want %q\nmarkdown: %q\nhtml: %s", tt.tag, got.String(), tt.wantEmph, md, renderedHTML(doc))
			}
			text := textContent(doc)
			if strings.Contains(text, "*") {
				t.Errorf("got a literal * in the rendered text %q\nmarkdown: %q", text, md)
			}
			if got := strings.TrimSpace(text); got != tt.wantText {
				t.Errorf("got text %q, want %q", got, tt.wantText)
			}
		})
	}
}

func TestMarkdownPunctuationOnlyEmphasis(t *testing.T) {
	md := bodyMarkdown(t, `<p>前<strong>“”</strong>后<em> </em>完</p>`, converter.Image{})
	doc := markdown(t, md)
	if n := len(elements(doc, "strong")) + len(elements(doc, "em")); n != 0 {
		t.Errorf("got %d emphasis elements, want none: %s", n, renderedHTML(doc))
	}
	if got, want := strings.TrimSpace(textContent(doc)), "前“”后 完"; got != want {
		t.Errorf("got text %q, want %q", got, want)
	}
}

func TestMarkdownTableAndStrikethrough(t *testing.T) {
	body := `<p><strong>领跑疫苗对比图表</strong></p><table border="1"><tbody>` +
		`<tr><td>疫苗</td><td>有效性</td><td>价格</td></tr>` +
		`<tr><td>美国辉瑞</td><td>95%</td><td>20美元 </td></tr>` +
		`<tr><td>英国阿斯利康</td><td>62-90%</td><td>3 | 4美元</td></tr>` +
		`</tbody></table><p>原价<del>30美元</del>现价<s>25</s></p>`
	md := bodyMarkdown(t, body, converter.Image{})
	doc := markdown(t, md)

	tables := elements(doc, "table")
	if len(tables) != 1 {
		t.Fatalf("got %d tables, want 1\nmarkdown: %q", len(tables), md)
	}
	var cells [][]string
	for _, tr := range elements(tables[0], "tr") {
		var row []string
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				row = append(row, strings.TrimSpace(textContent(c)))
			}
		}
		cells = append(cells, row)
	}
	want := [][]string{{"疫苗", "有效性", "价格"}, {"美国辉瑞", "95%", "20美元"}, {"英国阿斯利康", "62-90%", "3 | 4美元"}}
	if !slices.EqualFunc(cells, want, slices.Equal) {
		t.Errorf("got cells %q, want %q\nmarkdown: %q", cells, want, md)
	}

	var struck []string
	for _, d := range elements(doc, "del") {
		struck = append(struck, textContent(d))
	}
	if want := []string{"30美元", "25"}; !slices.Equal(struck, want) {
		t.Errorf("got struck text %q, want %q\nmarkdown: %q", struck, want, md)
	}
}

func TestMarkdownDropsInvisibleCharacters(t *testing.T) {
	const zw = "\u200b\u200c\ufeff\u200d\u2060"
	body := `<p>两岸` + zw + `一家亲</p>` +
		`<p><a href="/x">链` + zw + `接</a></p>` +
		`<p><img src="/a.jpg" alt="图` + zw + `说"></p>` +
		`<figure><img src="/b.jpg"><figcaption>说` + zw + `明</figcaption></figure>` +
		`<p>实体&#8203;引用&#xFEFF;</p>`
	lead := converter.Image{URL: "/lead.jpg", Caption: "头" + zw + "图"}
	md := bodyMarkdown(t, body, lead)
	for _, r := range zw {
		if strings.ContainsRune(md, r) {
			t.Errorf("got %U in %q", r, md)
		}
	}
	text := textContent(markdown(t, md))
	for _, want := range []string{"两岸一家亲", "链接", "说明", "实体引用", "头图"} {
		if !strings.Contains(text, want) {
			t.Errorf("got text %q, want it to contain %q", text, want)
		}
	}
}

func TestMarkdownKeepsLiteralText(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // the one paragraph's text
	}{
		{"ordered list marker", `<p>1. not a list</p>`, "1. not a list"},
		{"ordered list with parenthesis", `<p>2) not a list</p>`, "2) not a list"},
		{"heading", `<p># not a heading</p>`, "# not a heading"},
		{"stars", `<p>*stars*</p>`, "*stars*"},
		{"double stars", `<p>**not bold**</p>`, "**not bold**"},
		{"underscores", `<p>_under_ and a_b_c</p>`, "_under_ and a_b_c"},
		{"bullet dash", `<p>- not a bullet</p>`, "- not a bullet"},
		{"bullet plus", `<p>+ not a bullet</p>`, "+ not a bullet"},
		{"block quote", `<p>&gt; not a quote</p>`, "> not a quote"},
		{"thematic break", `<p>***</p>`, "***"},
		{"code span", "<p>`not code`</p>", "`not code`"},
		{"link syntax", `<p>[not](a link)</p>`, "[not](a link)"},
		{"image syntax", `<p>![not](an image)</p>`, "![not](an image)"},
		{"tildes", `<p>~~not struck~~</p>`, "~~not struck~~"},
		{"html in text", `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, "<script>alert(1)</script>"},
		{"autolink in text", `<p>&lt;https://example.com&gt;</p>`, "<https://example.com>"},
		{"entity in text", `<p>&amp;copy; &amp;#91;</p>`, "&copy; &#91;"},
		{"backslash", `<p>C:\path\*</p>`, `C:\path\*`},
		{"chinese with ascii marks", `<p>1. 第一点：*注意*</p>`, "1. 第一点：*注意*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := bodyMarkdown(t, tt.body, converter.Image{})
			doc := markdown(t, md)
			body := elements(doc, "body")[0]
			var kids []*html.Node
			for c := body.FirstChild; c != nil; c = c.NextSibling {
				if c.Type != html.TextNode || strings.TrimSpace(c.Data) != "" {
					kids = append(kids, c)
				}
			}
			if len(kids) != 1 || kids[0].DataAtom != atom.P || onlyChild(kids[0]) != nil && onlyChild(kids[0]).Type == html.ElementNode {
				t.Fatalf("got %s, want one paragraph of plain text\nmarkdown: %q", renderedHTML(body), md)
			}
			for c := kids[0].FirstChild; c != nil; c = c.NextSibling {
				if c.Type != html.TextNode {
					t.Errorf("got <%s> in the paragraph, want text only\nmarkdown: %q", c.Data, md)
				}
			}
			if got := textContent(kids[0]); got != tt.want {
				t.Errorf("got text %q, want %q\nmarkdown: %q", got, tt.want, md)
			}
		})
	}
}

func TestMarkdownEmptyBody(t *testing.T) {
	for _, body := range []string{"", "   ", "<div>\n</div>", `<section id="imu"><div id="dfp-ad-imu1"> </div></section>`, `<img src="data:image/gif;base64,AAAA">`} {
		if md := bodyMarkdown(t, body, converter.Image{}); md != "" {
			t.Errorf("body %q: got %q, want empty Markdown", body, md)
		}
	}
	if md := bodyMarkdown(t, "<p>正文。</p>", converter.Image{}); md != "正文。\n" {
		t.Errorf("got %q, want %q (one final newline)", md, "正文。\n")
	}
}

func TestImageURL(t *testing.T) {
	tests := []struct {
		name string
		html string
		want string
	}{
		{"src", `<img src="/a.jpg">`, "/a.jpg"},
		{"data-src before src", `<img src="/thumb.jpg" data-src="/full.jpg">`, "/full.jpg"},
		{"data-lazy-src", `<img data-lazy-src="/a.jpg">`, "/a.jpg"},
		{"data-url", `<img data-url=" /a.jpg ">`, "/a.jpg"},
		{"data: data-src skipped", `<img data-src="data:image/png;base64,AA" src="/a.jpg">`, "/a.jpg"},
		{"widest of srcset", `<img srcset="/s.jpg 480w, /l.jpg 1024w">`, "/l.jpg"},
		{"srcset before src", `<img src="/s.jpg" srcset="/l.jpg 2x">`, "/l.jpg"},
		{"data: placeholder in srcset", `<img src="/real.jpg" srcset="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">`, "/real.jpg"},
		{"commas inside srcset URLs", `<img srcset="https://res.cloudinary.com/demo/image/upload/w_480,c_fill/a.jpg 480w, https://res.cloudinary.com/demo/image/upload/w_1024,c_fill/a.jpg 1024w">`, "https://res.cloudinary.com/demo/image/upload/w_1024,c_fill/a.jpg"},
		{"bad descriptor counts as 1x", `<img srcset="/a.jpg w, /b.jpg 2x">`, "/b.jpg"},
		{"picture source", `<picture><source srcset="/p.webp 800w"><img src="/p.jpg"></picture>`, "/p.webp"},
		{"only a placeholder", `<img src="data:image/gif;base64,AA">`, ""},
		{"fragment", `<img src="#">`, ""},
		{"nothing", `<img>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(tt.html))
			if err != nil {
				t.Fatal(err)
			}
			imgs := elements(doc, "img")
			if len(imgs) != 1 {
				t.Fatalf("got %d images in %q, want 1", len(imgs), tt.html)
			}
			if got := converter.ImageURL(imgs[0]); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
