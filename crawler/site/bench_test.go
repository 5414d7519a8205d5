package site

import (
	"bytes"
	"os"
	"testing"

	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
)

const realPage = "testdata/pages/hk-2021-real.html"
const realURL = "https://www.zaobao.com/realtime/world/story20211118-1214802"

// BenchmarkExtract measures extraction of the real HK page (71 KB).
func BenchmarkExtract(b *testing.B) {
	page, err := os.ReadFile(realPage)
	if err != nil {
		b.Fatal(err)
	}
	sites := testSites(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := Extract(page, realURL, sites); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractAndRender measures the whole pure path, page to post.
func BenchmarkExtractAndRender(b *testing.B) {
	for _, name := range []string{"hk-2021-real", "hk-2022-shuffled", "sg-2024-ldjson", "sg-2024-hydration", "sg-2019-layout"} {
		b.Run(name, func(b *testing.B) {
			page, err := os.ReadFile("testdata/pages/" + name + ".html")
			if err != nil {
				b.Fatal(err)
			}
			w := readWant(b, "testdata/pages/"+name+".want.json").URL
			sites := testSites(b)
			conv := testConverter(b, sites, converter.ProfileJekyll)
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				a, err := Extract(page, w, sites)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := conv.Render(a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseFloor is html.Parse of the real page alone: the floor
// under BenchmarkExtract, since every rule is a selector on that tree.
func BenchmarkParseFloor(b *testing.B) {
	page, err := os.ReadFile(realPage)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if _, err := html.Parse(bytes.NewReader(page)); err != nil {
			b.Fatal(err)
		}
	}
}
