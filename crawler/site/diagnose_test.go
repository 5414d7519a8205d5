package site

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
)

// articleFields are a's fields as a Diagnosis writes their values.
func articleFields(a converter.Article) map[string]string {
	format := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	return map[string]string{
		"title":         a.Title,
		"published":     format(a.Published),
		"modified":      format(a.Modified),
		"author":        a.Author,
		"keywords":      strings.Join(a.Keywords, ", "),
		"section":       a.Section,
		"image":         a.Image.URL,
		"image_caption": a.Image.Caption,
		"images":        imageCount(a),
	}
}

func imageCount(a converter.Article) string {
	switch len(a.Images) {
	case 0:
		return ""
	case 1:
		return "1 image"
	}
	return fmt.Sprintf("%d images", len(a.Images))
}

// TestDiagnoseAgreesWithExtract: on every test page, Diagnose names the
// extractor Extract names, and the value it gives each field, from the
// source it names, is the value of Extract's article.
func TestDiagnoseAgreesWithExtract(t *testing.T) {
	sites := testSites(t)
	pages, _ := filepath.Glob("testdata/pages/*.html")
	if len(pages) < 6 {
		t.Fatalf("got %d test pages, want at least 6", len(pages))
	}
	for _, page := range pages {
		name := strings.TrimSuffix(filepath.Base(page), ".html")
		t.Run(name, func(t *testing.T) {
			w := readWant(t, strings.TrimSuffix(page, ".html")+".want.json")
			raw, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Extract(raw, w.URL, sites)
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			d := Diagnose(raw, w.URL, sites)
			if d.Err != nil {
				t.Fatalf("diagnose: %v", d.Err)
			}
			if d.Extractor != a.Extractor {
				t.Errorf("extractor: got %q, want Extract's %q", d.Extractor, a.Extractor)
			}
			want := articleFields(a)
			if len(d.Fields) != len(DiagnosedFields) {
				t.Fatalf("got %d fields, want %d", len(d.Fields), len(DiagnosedFields))
			}
			for i, f := range d.Fields {
				if f.Name != DiagnosedFields[i] {
					t.Errorf("field %d: got %s, want %s", i, f.Name, DiagnosedFields[i])
				}
				if f.Name == "body" {
					if f.Missing() || !strings.Contains(f.Value, "characters") {
						t.Errorf("body: got %q from %q, want its size", f.Value, f.Source)
					}
					continue
				}
				if f.Value != want[f.Name] {
					t.Errorf("%s: got %q from %q, want Extract's %q", f.Name, f.Value, f.Source, want[f.Name])
				}
				if f.Missing() != (want[f.Name] == "") {
					t.Errorf("%s: source %q for Extract's value %q", f.Name, f.Source, want[f.Name])
				}
			}
			yields := 0
			for _, l := range d.Layouts {
				if l.Yields {
					yields++
					if !l.Applies || d.Extractor != "zaobao/"+l.Name {
						t.Errorf("layout %s yields, applies %v, extractor %s", l.Name, l.Applies, d.Extractor)
					}
				}
			}
			if yields != 1 {
				t.Errorf("%d layouts yield the article, want 1: %+v", yields, d.Layouts)
			}
			if d.Truncated != a.Truncated {
				t.Errorf("truncated: got %v, want %v", d.Truncated, a.Truncated)
			}
		})
	}
}

// TestDiagnoseSources: the source named for a field is the one the
// layout takes it from, and a field no source gives lists the sources
// tried.
func TestDiagnoseSources(t *testing.T) {
	sites := testSites(t)
	tests := []struct {
		page      string
		extractor string
		sources   map[string]string
	}{
		{"sg-2024-hydration", "zaobao/sg-hydration", map[string]string{"title": "json:headline", "published": "json:create_time", "body": "json:body_cn", "section": "url"}},
		{"sg-2024-ldjson", "zaobao/sg-ldjson", map[string]string{"title": "ldjson:headline", "published": "ldjson:datePublished", "author": "ldjson:author.name", "body": "css:.articleBody"}},
		{"hk-2021-real", "zaobao/hk", map[string]string{"title": "css:h1.article-title", "body": "css:article.article-body"}},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			w := readWant(t, "testdata/pages/"+tt.page+".want.json")
			raw, err := os.ReadFile("testdata/pages/" + tt.page + ".html")
			if err != nil {
				t.Fatal(err)
			}
			d := Diagnose(raw, w.URL, sites)
			if d.Extractor != tt.extractor {
				t.Fatalf("extractor: got %q, want %q (%v)", d.Extractor, tt.extractor, d.Err)
			}
			for _, f := range d.Fields {
				if want, ok := tt.sources[f.Name]; ok && f.Source != want {
					t.Errorf("%s: got source %q, want %q", f.Name, f.Source, want)
				}
			}
		})
	}
}

// TestDiagnoseBrokenRules: a site whose pages changed under its rules.
// Each layout says why it gave nothing (the when selector no longer
// matches; it matches but finds no title, or no time and no body), and the generic extractor's
// article is named as Extract names it.
func TestDiagnoseBrokenRules(t *testing.T) {
	w := readWant(t, "testdata/pages/sg-2024-ldjson.want.json")
	raw, err := os.ReadFile("testdata/pages/sg-2024-ldjson.html")
	if err != nil {
		t.Fatal(err)
	}
	sites, errs := Compile("sites", []config.Site{{
		Name: "zaobao", Title: "联合早报", Hosts: []string{"zaobao.com.sg"},
		Layouts: []config.Layout{
			{Name: "moved", When: ".article-content-v2", Title: []string{"css:h1"}, Published: []string{"ldjson:datePublished"}, Body: []string{"css:.articleBody"}},
			{Name: "renamed", When: ".articleBody", Title: []string{"css:h1.headline-v2", "json:x"}, Published: []string{"ldjson:datePublished"}, Body: []string{"css:.articleBody"},
				Hydration: &config.Hydration{Variable: "__staticRouterHydrationData"}},
			{Name: "titled", When: ".articleBody", Title: []string{"css:h1.headline-v2"}, Published: []string{"ldjson:datePublished"}, Body: []string{"css:.articleBody"}},
			{Name: "undated", When: ".articleBody", Title: []string{"css:h1"}, Published: []string{"css:time.v2", "ldjson:dateCreated"}, Body: []string{"css:.article-body-v2"}},
		},
	}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a, err := Extract(raw, w.URL, sites)
	if err != nil {
		t.Fatal(err)
	}
	d := Diagnose(raw, w.URL, sites)
	if d.Extractor != a.Extractor || d.Extractor != "generic (no zaobao layout matched)" {
		t.Errorf("extractor: got %q, Extract %q", d.Extractor, a.Extractor)
	}
	want := []LayoutCheck{
		{Name: "moved", Tried: true, Why: `page does not match ".article-content-v2"`},
		{Name: "renamed", Tried: true, Why: "no script assigns __staticRouterHydrationData"},
		{Name: "titled", Applies: true, Tried: true, Why: "no title", Lacks: []string{"title"}},
		{Name: "undated", Applies: true, Tried: true, Why: "no publication time", Lacks: []string{"published", "body"}},
	}
	if len(d.Layouts) != len(want) {
		t.Fatalf("got %d layouts, want %d", len(d.Layouts), len(want))
	}
	for i, l := range d.Layouts {
		if l.Applies != (len(l.Fields) == len(DiagnosedFields)) {
			t.Errorf("layout %s: applies %v, %d fields", l.Name, l.Applies, len(l.Fields))
		}
		if l.Name == "undated" && (l.Fields[0].Source != "css:h1" || l.Fields[0].Value != a.Title) {
			t.Errorf("undated: title %+v, want css:h1 %q", l.Fields[0], a.Title)
		}
		l.Fields = nil
		if !reflect.DeepEqual(l, want[i]) {
			t.Errorf("layout %d: got %+v, want %+v", i, l, want[i])
		}
	}
	for _, f := range d.Fields {
		want := "generic"
		if f.Name == "published" {
			// The generic extractor says where it found the date.
			want = "generic: " + a.DateSource
		}
		if !f.Missing() && f.Source != want {
			t.Errorf("%s: got source %q, want %q", f.Name, f.Source, want)
		}
	}
	if d.Fields[0].Value != a.Title {
		t.Errorf("title: got %q, want %q", d.Fields[0].Value, a.Title)
	}
}

// TestDiagnoseNoArticle: a page nothing can read gives Extract's error,
// and no fields.
func TestDiagnoseNoArticle(t *testing.T) {
	sites := testSites(t)
	d := Diagnose([]byte("<html><body></body></html>"), "https://www.zaobao.com/realtime/china/story20240301-1", sites)
	if d.Err == nil || d.Extractor != "" || len(d.Fields) != 0 {
		t.Fatalf("got extractor %q, %d fields, error %v; want no article", d.Extractor, len(d.Fields), d.Err)
	}
	_, err := Extract([]byte("<html><body></body></html>"), "https://www.zaobao.com/realtime/china/story20240301-1", sites)
	if err == nil || d.Err.Error() != err.Error() {
		t.Errorf("error: got %v, want Extract's %v", d.Err, err)
	}
	if d := Diagnose(nil, "ftp://x", sites); d.Err == nil {
		t.Error("bad URL: got no error")
	}
}
