package site

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/pages")

// want is a page's expected article, written by hand from the page (not
// from this code's output) in testdata/pages/NAME.want.json.
type want struct {
	URL            string   `json:"url"`
	CanonicalURL   string   `json:"canonical_url"`
	StoryID        string   `json:"story_id"`
	Section        string   `json:"section"`
	Title          string   `json:"title"`
	Published      string   `json:"published"`
	Modified       string   `json:"modified"`
	Author         string   `json:"author"`
	Keywords       []string `json:"keywords"`
	Image          string   `json:"image"`
	ImageCaption   string   `json:"image_caption"`
	Truncated      bool     `json:"truncated"`
	Paragraphs     []string `json:"paragraphs"`
	MustNotContain []string `json:"must_not_contain"`
	Layout         string   `json:"layout"`
	// Images are every image of the story (Article.Images, URLs after
	// the image rewrites), when given.
	Images []converter.Image `json:"images"`
	// Captions must each be shown exactly once in the post, and
	// ImageCount is the number of images the post shows, when given.
	Captions   []string `json:"captions"`
	ImageCount *int     `json:"image_count"`
}

func readWant(t testing.TB, path string) want {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w want
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return w
}

// TestPages extracts every page of testdata/pages, one per zaobao layout,
// checks the article against the hand-written expectations and the post
// against its golden file (go test -run TestPages -update rewrites them).
func TestPages(t *testing.T) {
	sites := testSites(t)
	convs := map[string]*converter.Converter{
		converter.ProfileJekyll: testConverter(t, sites, converter.ProfileJekyll),
		converter.ProfileHugo:   testConverter(t, sites, converter.ProfileHugo),
	}
	pages, _ := filepath.Glob("testdata/pages/*.html")
	if len(pages) < 6 {
		t.Fatalf("got %d test pages, want at least 6 (one per layout)", len(pages))
	}
	for _, page := range pages {
		name := strings.TrimSuffix(filepath.Base(page), ".html")
		t.Run(name, func(t *testing.T) {
			w := readWant(t, strings.TrimSuffix(page, ".html")+".want.json")
			html, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Extract(html, w.URL, sites)
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			checkArticle(t, a, w)

			for profile, conv := range convs {
				post, err := conv.Render(a)
				if err != nil {
					t.Fatalf("render %s: %v", profile, err)
				}
				checkPost(t, string(post.Content), w)
				golden := strings.TrimSuffix(page, ".html") + "." + profile + ".golden.md"
				if *update {
					if err := os.WriteFile(golden, post.Content, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				g, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./crawler -run TestPages -update to create it)", err)
				}
				if !bytes.Equal(post.Content, g) {
					t.Errorf("%s post differs from %s %s", profile, golden, firstDiff(string(post.Content), string(g)))
				}
			}
		})
	}
}

func checkArticle(t *testing.T, a converter.Article, w want) {
	t.Helper()
	eq := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %q, want %q", field, got, want)
		}
	}
	eq("title", a.Title, w.Title)
	eq("url", a.URL, w.CanonicalURL)
	eq("story id", a.StoryID, w.StoryID)
	eq("section", a.Section, w.Section)
	eq("author", a.Author, w.Author)
	eq("image", rewritten(t, a.Image.URL), w.Image)
	eq("image caption", a.Image.Caption, w.ImageCaption)
	eq("published", a.Published.Format(time.RFC3339), w.Published)
	if w.Modified != "" || !a.Modified.IsZero() {
		got := ""
		if !a.Modified.IsZero() {
			got = a.Modified.Format(time.RFC3339)
		}
		eq("modified", got, w.Modified)
	}
	if !slices.Equal(a.Keywords, w.Keywords) {
		t.Errorf("keywords: got %q, want %q", a.Keywords, w.Keywords)
	}
	if a.Truncated != w.Truncated {
		t.Errorf("truncated: got %v, want %v", a.Truncated, w.Truncated)
	}
	if w.Layout != "" {
		eq("extractor", a.Extractor, w.Layout)
	}
	if w.Images != nil {
		var got []converter.Image
		for _, im := range a.Images {
			got = append(got, converter.Image{URL: rewritten(t, im.URL), Caption: im.Caption})
		}
		if !slices.Equal(got, w.Images) {
			t.Errorf("images:\n got  %q\n want %q", got, w.Images)
		}
	}
}

// rewritten is an image URL as the post writes it, after the sites'
// image rewrites.
func rewritten(t *testing.T, u string) string {
	for _, s := range testSites(t) {
		for _, r := range s.ImageRewrites() {
			u = r.Pattern.ReplaceAllString(u, r.Replace)
		}
	}
	return u
}

// checkPost checks what a reader of the rendered post sees: every
// paragraph, in reading order, and none of the noise.
func checkPost(t *testing.T, post string, w want) {
	t.Helper()
	_, rest := splitPost(t, post)
	text := visibleText(t, renderHTML(t, rest))
	at := 0
	for i, p := range w.Paragraphs {
		// Table rows are written as cells joined by "|".
		p = strings.ReplaceAll(squeeze(p), "|", "")
		j := strings.Index(text[at:], p)
		if j < 0 {
			if strings.Contains(text, p) {
				t.Errorf("paragraph %d out of order: %.60q", i, p)
			} else {
				t.Errorf("paragraph %d missing: %.60q", i, p)
			}
			continue
		}
		at += j + len(p)
	}
	for _, bad := range w.MustNotContain {
		if strings.Contains(post, bad) {
			t.Errorf("post contains noise %q", bad)
		}
	}
	if w.Image != "" && !strings.Contains(post, "]("+w.Image) {
		t.Errorf("lead image %s not in the post", w.Image)
	}
	for _, c := range w.Captions {
		if n := strings.Count(text, squeeze(c)); n != 1 {
			t.Errorf("caption shown %d times, want once: %.60q", n, c)
		}
	}
	if w.ImageCount != nil {
		if n := strings.Count(rest, "!["); n != *w.ImageCount {
			t.Errorf("post shows %d images, want %d", n, *w.ImageCount)
		}
	}
	for _, im := range w.Images {
		if !strings.Contains(rest, "]("+im.URL) {
			t.Errorf("image %s not in the post", im.URL)
		}
	}
}
