package site

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/newsmd/newsmd/converter"
	"go.yaml.in/yaml/v3"
)

// legacyPost is what the old archive script wrote, read without trusting
// its YAML (post 003 has unescaped quotes in its title).
type legacyPost struct {
	title string
	url   string
	when  time.Time // the marker, or the date key where the marker is NaN
	body  string
}

var (
	legacyTitle  = regexp.MustCompile(`(?m)^title: "(.*)"$`)
	legacyFrom   = regexp.MustCompile(`(?m)^from: (\S+)$`)
	legacyDate   = regexp.MustCompile(`(?m)^date: (\S+)$`)
	legacyMarker = regexp.MustCompile(`(?m)^<!--(\d+|NaN)-->$`)
)

func readLegacy(t *testing.T, path string) legacyPost {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	head, body, ok := strings.Cut(s, "\n------\n")
	if !ok {
		t.Fatalf("%s: no ------ line", path)
	}
	var p legacyPost
	m := legacyTitle.FindStringSubmatch(head)
	if m == nil {
		t.Fatalf("%s: no title", path)
	}
	// The old script escaped quotes as \" in some posts and not at all in
	// others; either way the title is the text between the outer quotes.
	p.title = strings.ReplaceAll(m[1], `\"`, `"`)
	p.url = legacyFrom.FindStringSubmatch(head)[1]
	if mk := legacyMarker.FindStringSubmatch(head); mk != nil && mk[1] != "NaN" {
		ms, _ := strconv.ParseInt(mk[1], 10, 64)
		p.when = time.UnixMilli(ms)
	} else {
		p.when, err = time.Parse(time.RFC3339, legacyDate.FindStringSubmatch(head)[1])
		if err != nil {
			t.Fatalf("%s: date: %v", path, err)
		}
	}
	p.body = body
	return p
}

// TestLegacyRoundTrip converts the body of every post of the existing
// archive and checks that nothing a reader sees is lost, apart from what
// the zaobao rules remove as noise, that every image survives with an
// absolute https URL, and that the new front matter reads back to the same
// title, URL and publication instant.
func TestLegacyRoundTrip(t *testing.T) {
	sites := testSites(t)
	zaobao := sites[0]
	conv := testConverter(t, sites, converter.ProfileJekyll)
	files, _ := filepath.Glob("testdata/legacy/*.md")
	if len(files) != 60 {
		t.Fatalf("got %d legacy posts, want 60", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			lp := readLegacy(t, f)
			cleaned, truncated, err := zaobao.CleanFragment(lp.body)
			if err != nil {
				t.Fatalf("clean: %v", err)
			}
			a := converter.Article{Title: lp.title, URL: lp.url, Site: "联合早报", Published: lp.when, BodyHTML: cleaned, Truncated: truncated}
			post, err := conv.Render(a)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			fm, rest := splitPost(t, string(post.Content))

			var got struct {
				Title string    `yaml:"title"`
				From  string    `yaml:"from"`
				Date  time.Time `yaml:"date"`
			}
			if err := yaml.Unmarshal([]byte(fm), &got); err != nil {
				t.Fatalf("front matter does not parse: %v\n%s", err, fm)
			}
			if got.Title != strings.Join(strings.Fields(lp.title), " ") {
				t.Errorf("title: got %q, want %q", got.Title, lp.title)
			}
			if got.From != lp.url {
				t.Errorf("from: got %q, want %q", got.From, lp.url)
			}
			if !got.Date.Equal(lp.when.Truncate(time.Second)) && !got.Date.Equal(lp.when) {
				t.Errorf("date: got %v, want %v", got.Date, lp.when)
			}
			if !strings.Contains(rest, "<!--"+strconv.FormatInt(lp.when.UnixMilli(), 10)+"-->") {
				t.Errorf("marker for %d missing", lp.when.UnixMilli())
			}

			body := rest[strings.Index(rest, "------\n\n")+len("------\n\n"):]
			rendered := renderHTML(t, body)
			want := visibleText(t, withoutNoise(t, zaobao, lp.body))
			if gotText := visibleText(t, rendered); gotText != want {
				t.Errorf("text differs %s", firstDiff(gotText, want))
			}

			wantImgs := legacyImages(t, zaobao, lp.body)
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(rendered))
			var gotImgs []string
			doc.Find("img").Each(func(_ int, s *goquery.Selection) {
				src, _ := s.Attr("src")
				gotImgs = append(gotImgs, src)
			})
			if len(gotImgs) != wantImgs {
				t.Errorf("images: got %d, want %d: %q", len(gotImgs), wantImgs, gotImgs)
			}
			for _, src := range gotImgs {
				if !strings.HasPrefix(src, "https://") {
					t.Errorf("image URL %q is not absolute https", src)
				}
			}
		})
	}
}

// withoutNoise removes from a legacy body what the zaobao rules call noise
// (ads, paywall prompts) with goquery, independently of cleanBody.
func withoutNoise(t *testing.T, s *Site, body string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range append(append([]string{}, s.cfg.Remove...), s.cfg.Paywall...) {
		doc.Find(sel).Remove()
	}
	h, _ := doc.Find("body").Html()
	return h
}

// legacyImages counts the pictures of a legacy body that a reader would
// see: images with a real URL in data-src or src, outside noise.
func legacyImages(t *testing.T, s *Site, body string) int {
	t.Helper()
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(withoutNoise(t, s, body)))
	n := 0
	doc.Find("img").Each(func(_ int, img *goquery.Selection) {
		for _, a := range []string{"data-src", "src"} {
			if v, _ := img.Attr(a); v != "" && !strings.HasPrefix(v, "data:") {
				n++
				return
			}
		}
	})
	return n
}
