package site

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
	"go.yaml.in/yaml/v3"
)

// FuzzExtract feeds arbitrary pages to the extractor and, when it finds an
// article, to the converter. Properties: no panic; an article has a title,
// a date and a body; its post is valid UTF-8, its front matter parses back
// to the same title and URL; the same page always gives the same bytes.
func FuzzExtract(f *testing.F) {
	pages, _ := filepath.Glob("testdata/pages/*.html")
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "https://www.zaobao.com/realtime/china/story20221101-1328512")
	}
	f.Add([]byte(`<h1 class="article-title">a</h1><div class="author-info"><div class="mgt10">2021-11-18 17:28</div></div><article class="article-body"><p data-s="abcGE">x</p></article>`), "https://www.zaobao.com.sg/news/china/story20211118-1")
	f.Add([]byte(`<script>window.__staticRouterHydrationData = JSON.parse("{\"loaderData\":{\"0-0\":{\"context\":{\"payload\":{\"article\":{\"headline\":\"t\",\"create_time\":1700000000,\"body_cn\":\"<p>b</p>\"}}}}}}");</script>`), "https://www.zaobao.com/realtime/world/story20231115-3000001")
	sites := testSites(f)
	conv := testConverter(f, sites, converter.ProfileJekyll)
	f.Fuzz(func(t *testing.T, page []byte, pageURL string) {
		a, err := Extract(page, pageURL, sites)
		if err != nil {
			return
		}
		if a.Title == "" || a.Published.IsZero() || strings.TrimSpace(a.HTML()) == "" {
			t.Fatalf("article without title, date or body: %+v", a)
		}
		for _, s := range []string{a.Title, a.URL, a.HTML(), a.Author, a.Image.Caption} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		a2, err := Extract(page, pageURL, sites)
		if err != nil || a2.HTML() != a.HTML() || a2.Title != a.Title {
			t.Fatalf("second extraction differs: %v", err)
		}
		post, err := conv.Render(a)
		if err != nil {
			return
		}
		if !utf8.Valid(post.Content) {
			t.Fatalf("post is not valid UTF-8")
		}
		post2, _ := conv.Render(a2)
		if !bytes.Equal(post.Content, post2.Content) || post.Name != post2.Name {
			t.Fatalf("rendering is not deterministic")
		}
		fm, _ := splitPost(t, string(post.Content))
		var got struct {
			Title string `yaml:"title"`
			From  string `yaml:"from"`
		}
		if err := yaml.Unmarshal([]byte(fm), &got); err != nil {
			t.Fatalf("front matter does not parse: %v\n%s", err, fm)
		}
		if got.Title != a.Title || got.From != a.URL {
			t.Fatalf("front matter: got %q %q, want %q %q", got.Title, got.From, a.Title, a.URL)
		}
		if strings.ContainsAny(post.Name, "/\\\x00") || strings.HasPrefix(post.Name, ".") {
			t.Fatalf("unsafe file name %q", post.Name)
		}
	})
}
