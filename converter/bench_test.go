package converter_test

import (
	"testing"

	"github.com/newsmd/newsmd/converter"
)

// BenchmarkRender renders a real 9 KB zaobao story (legacy post 030: lead
// figure, five inline figures, a table, bold subheads).
func BenchmarkRender(b *testing.B) {
	i := legacyIndex(b, "legacy-030")
	a := legacyArticle(b, i)
	a.Image = converter.Image{URL: "https://www.zaobao.com.sg/s3/files/images/lead.jpg?VersionId=1", Caption: "各国的疫苗研发进入冲刺阶段。"}
	opts := converter.DefaultOptions()
	opts.Rewrites = []converter.Rewrite{zaobaoRewrite}
	c := newConverter(b, opts)

	b.ReportAllocs()
	b.SetBytes(int64(len(a.BodyHTML)))
	for b.Loop() {
		if _, err := c.Render(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileName(b *testing.B) {
	loc := singapore(b)
	const title = `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功 / 美部长致辞出现口误 将蔡英文说成“President Xi”`
	b.ReportAllocs()
	for b.Loop() {
		converter.FileName(title, published, loc, 50)
	}
}

func legacyIndex(t testing.TB, file string) int {
	t.Helper()
	for i, s := range legacyStories {
		if s.file == file {
			return i
		}
	}
	t.Fatalf("no legacy story %s", file)
	return -1
}
