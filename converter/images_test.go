package converter_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
)

// TestMarkdownStoryImages: every image of Article.Images shows once and
// every caption once: images the body shows stay where they are (and get
// a caption they lack), the lead image on top is not repeated, the others
// follow the body.
func TestMarkdownStoryImages(t *testing.T) {
	const img = "https://static.zaobao.com/s3fs-public/images/"
	lead := converter.Image{URL: img + "lead.jpg", Caption: "头图说明"}
	tests := []struct {
		name   string
		lead   converter.Image
		images []converter.Image
		body   string
		want   []string
	}{
		{
			name:   "none: the body as it was",
			lead:   lead,
			body:   `<p>正文。</p><p><img src="` + img + `a.jpg"></p>`,
			want:   []string{"img " + img + "lead.jpg 头图说明", "em 头图说明", "p 正文。", "img " + img + "a.jpg "},
			images: nil,
		},
		{
			name: "lead on top, one in the body without caption, one after the body",
			lead: lead,
			images: []converter.Image{
				{URL: img + "lead.jpg?itok=1", Caption: "头图说明"},
				{URL: img + "a.jpg?VersionId=9", Caption: "甲图说明"},
				{URL: img + "b.jpg", Caption: "乙图说明"},
			},
			body: `<p>第一段。</p><p><img src="` + img + `a.jpg"></p><p>第二段。</p>`,
			want: []string{
				"img " + img + "lead.jpg 头图说明", "em 头图说明",
				"p 第一段。", "img " + img + "a.jpg 甲图说明", "em 甲图说明", "p 第二段。",
				"img " + img + "b.jpg 乙图说明", "em 乙图说明",
			},
		},
		{
			name:   "a figure without caption gets it inside",
			images: []converter.Image{{URL: img + "a.jpg", Caption: "甲图说明"}},
			body:   `<figure><div><img src="` + img + `a.jpg"></div></figure><p>正文。</p>`,
			want:   []string{"img " + img + "a.jpg 甲图说明", "em 甲图说明", "p 正文。"},
		},
		{
			name:   "a figure with its own caption keeps it",
			images: []converter.Image{{URL: img + "a.jpg", Caption: "甲图的另一说明"}},
			body:   `<figure><img src="` + img + `a.jpg"><figcaption>甲图说明</figcaption></figure><p>正文。</p>`,
			want:   []string{"img " + img + "a.jpg 甲图说明", "em 甲图说明", "p 正文。"},
		},
		{
			name:   "a caption the body shows as text is not repeated, and shows as a caption",
			images: []converter.Image{{URL: img + "a.jpg", Caption: "甲图 说明"}, {URL: img + "b.jpg", Caption: "甲图说明"}},
			body:   `<div class="figure-media"><img src="` + img + `a.jpg"></div><div class="figure-caption">甲图说明</div><p>正文。</p>`,
			want:   []string{"img " + img + "a.jpg 甲图 说明", "em 甲图说明", "p 正文。", "img " + img + "b.jpg 甲图说明"},
		},
		{
			name:   "a caption in the image's own paragraph stays as it is",
			images: []converter.Image{{URL: img + "a.jpg", Caption: "甲图说明"}},
			body:   `<p><img src="` + img + `a.jpg">甲图说明</p><p>正文。</p>`,
			want:   []string{"p 甲图说明", "p 正文。"},
		},
		{
			name:   "the lead in the body is placed as the others",
			lead:   converter.Image{URL: img + "lead.jpg", Caption: "头图说明"},
			images: []converter.Image{{URL: img + "lead.jpg", Caption: "头图说明"}},
			body:   `<p><img src="` + img + `lead.jpg"></p><p>正文。</p>`,
			want:   []string{"img " + img + "lead.jpg 头图说明", "em 头图说明", "p 正文。"},
		},
		{
			name:   "duplicates and unusable URLs are dropped",
			images: []converter.Image{{URL: img + "b.jpg?x=1"}, {URL: img + "b.jpg?x=2", Caption: "乙图说明"}, {URL: "data:image/gif;base64,AAAA", Caption: "空"}, {URL: "/s3/files/images/c.jpg"}},
			body:   `<p>正文。</p>`,
			want:   []string{"p 正文。", "img " + img + "b.jpg?x=1 ", "img " + img + "c.jpg "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := converter.DefaultOptions()
			opts.Rewrites = []converter.Rewrite{zaobaoRewrite}
			a := testArticle()
			a.BodyHTML, a.Image, a.Images = tt.body, tt.lead, tt.images
			md, err := newConverter(t, opts).Markdown(a)
			if err != nil {
				t.Fatal(err)
			}
			if got := blocks(markdown(t, md)); !slices.Equal(got, tt.want) {
				t.Errorf("got blocks\n%q\nwant\n%q\nmarkdown: %q", got, tt.want, md)
			}
		})
	}
}

// TestArticleJSONImages: newsmd extract --json shows the images.
func TestArticleJSONImages(t *testing.T) {
	a := testArticle()
	a.Images = []converter.Image{{URL: "https://cassette.sphdigital.com.sg/image/zaobao/ab12", Caption: "图说"}}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"images":[{"url":"https://cassette.sphdigital.com.sg/image/zaobao/ab12","caption":"图说"}]`) {
		t.Errorf("got %s", b)
	}
}
