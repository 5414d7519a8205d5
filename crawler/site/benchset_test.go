package site

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"golang.org/x/net/html"
)

// extractionBenchEnv names the folder of an extraction benchmark set:
// pages/ID.html.gz and ground-truth.json ({ID: {url, …}}), as the
// trafilatura evaluation set in ../shared/bench/extraction has them. The
// set is not in this repository; without the variable the benchmark
// skips.
const extractionBenchEnv = "EXTRACTION_BENCH_DIR"

// BenchmarkGenericSet extracts every page of the set once per iteration
// with the generic extractor (no site rules) and reports the median and
// 90th percentile time per page, the mean, and the pages refused:
//
//	EXTRACTION_BENCH_DIR=../shared/bench/extraction go test ./crawler/site -run '^$' -bench GenericSet -benchtime 3x
func BenchmarkGenericSet(b *testing.B) {
	dir := os.Getenv(extractionBenchEnv)
	if dir == "" {
		b.Skipf("set %s to the folder of an extraction benchmark set (pages/ and ground-truth.json)", extractionBenchEnv)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		b.Fatal(err)
	}
	var truth map[string]struct{ URL string }
	if err := json.Unmarshal(raw, &truth); err != nil {
		b.Fatal(err)
	}
	type page struct {
		url  string
		body []byte
	}
	var pages []page
	for id, t := range truth {
		f, err := os.Open(filepath.Join(dir, "pages", id+".html.gz"))
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, page{t.URL, body})
	}
	// newsmd: the generic extractor as a run calls it, dated by the fetch
	// time when the page gives no date; readability: go-readability alone
	// on the same pages, parsed the same way, for a ratio measured side by
	// side.
	fetched := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	extractors := []struct {
		name string
		run  func(body []byte, u string) error
	}{
		{"newsmd", func(body []byte, u string) error {
			_, err := ExtractWith(body, u, nil, Hints{Fetched: fetched})
			return err
		}},
		{"readability", func(body []byte, u string) error {
			pu, err := url.Parse(u)
			if err != nil {
				return err
			}
			doc, err := html.Parse(bytes.NewReader(charset.Decoded(body)))
			if err != nil {
				return err
			}
			parser := readability.NewParser()
			_, err = parser.ParseAndMutate(doc, pu)
			return err
		}},
	}
	for _, x := range extractors {
		b.Run(x.name, func(b *testing.B) {
			var times []time.Duration
			refused := 0
			for b.Loop() {
				refused = 0
				for _, p := range pages {
					start := time.Now()
					if err := x.run(p.body, p.url); err != nil {
						refused++
					}
					times = append(times, time.Since(start))
				}
			}
			report(b, times, refused)
		})
	}
}

// report reports the median, 90th percentile and mean of times, and the
// pages refused.
func report(b *testing.B, times []time.Duration, refused int) {
	slices.Sort(times)
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(times[len(times)/2]), "median-ms/page")
	b.ReportMetric(ms(times[len(times)*9/10]), "p90-ms/page")
	b.ReportMetric(ms(sum/time.Duration(len(times))), "mean-ms/page")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(0, "ns/op")
}
