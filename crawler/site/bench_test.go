package site

import (
	"bytes"
	"os"
	"testing"
	"time"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
	"github.com/newsmd/newsmd/converter"
	"golang.org/x/net/html"
)

const realPage = "testdata/pages/hk-2021-real.html"
const realURL = "https://www.zaobao.com/realtime/world/story20211118-1214802"

// benchPages are the real pages of every zaobao layout, and a page no
// site rule covers (the generic extractor), with their URLs.
var benchPages = []struct{ name, file, url string }{
	{"hk-2021-real", "testdata/pages/hk-2021-real.html", ""},
	{"hk-2022-shuffled", "testdata/pages/hk-2022-shuffled.html", ""},
	{"sg-2024-ldjson", "testdata/pages/sg-2024-ldjson.html", ""},
	{"sg-2024-hydration", "testdata/pages/sg-2024-hydration.html", ""},
	{"sg-2019-layout", "testdata/pages/sg-2019-layout.html", ""},
	{"generic-lemonde", "testdata/generic/lemonde-1.html", "https://www.lemonde.fr/politique/article/2017/06/21/la-france-insoumise-presente-ses-deputes_5148677_823448.html"},
}

// benchPage reads a bench page and its URL (a zaobao page's is in its
// .want.json).
func benchPage(b *testing.B, file, url string) ([]byte, string) {
	b.Helper()
	page, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	if url == "" {
		url = readWant(b, file[:len(file)-len(".html")]+".want.json").URL
	}
	return page, url
}

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
	for _, p := range benchPages {
		b.Run(p.name, func(b *testing.B) {
			page, url := benchPage(b, p.file, p.url)
			sites := testSites(b)
			conv := testConverter(b, sites, converter.ProfileJekyll)
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				a, err := Extract(page, url, sites)
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

// BenchmarkParseAndConvertFloor is, for each page of
// BenchmarkExtractAndRender, what the least a page-to-Markdown tool does
// costs: html.Parse of the page, then html-to-markdown's own conversion,
// with its defaults, of the body newsmd extracts from it.
func BenchmarkParseAndConvertFloor(b *testing.B) {
	for _, p := range benchPages {
		b.Run(p.name, func(b *testing.B) {
			page, url := benchPage(b, p.file, p.url)
			a, err := Extract(page, url, testSites(b))
			if err != nil {
				b.Fatal(err)
			}
			body := a.HTML()
			b.ReportAllocs()
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if _, err := html.Parse(bytes.NewReader(page)); err != nil {
					b.Fatal(err)
				}
				if _, err := htmltomarkdown.ConvertString(body); err != nil {
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

// BenchmarkSideBySide runs, in every iteration, extract + render of each
// bench page, the floor of BenchmarkParseAndConvertFloor and html.Parse of
// the page, one after the other, and reports their times and ratios:
// measured moments apart, the ratios hold on a noisy machine where
// separate benchmarks, seconds apart, drift by a third.
func BenchmarkSideBySide(b *testing.B) {
	for _, p := range benchPages {
		b.Run(p.name, func(b *testing.B) {
			page, url := benchPage(b, p.file, p.url)
			sites := testSites(b)
			conv := testConverter(b, sites, converter.ProfileJekyll)
			a, err := Extract(page, url, sites)
			if err != nil {
				b.Fatal(err)
			}
			body := a.HTML()
			var er, floor, parse time.Duration
			for b.Loop() {
				t0 := time.Now()
				a, err := Extract(page, url, sites)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := conv.Render(a); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := html.Parse(bytes.NewReader(page)); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if _, err := htmltomarkdown.ConvertString(body); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				er += t1.Sub(t0)
				parse += t2.Sub(t1)
				floor += t3.Sub(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(er.Nanoseconds())/n, "er-ns/op")
			b.ReportMetric(float64(floor.Nanoseconds())/n, "floor-ns/op")
			b.ReportMetric(float64(parse.Nanoseconds())/n, "parse-ns/op")
			b.ReportMetric(float64(er)/float64(floor), "er/floor")
			b.ReportMetric(float64(er)/float64(parse), "er/parse")
		})
	}
}
