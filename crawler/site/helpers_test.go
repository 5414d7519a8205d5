package site

import (
	"bytes"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/PuerkitoBio/goquery"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"go.yaml.in/yaml/v3"
)

// testSites compiles the site rules of the project's config.yaml, so the
// tests check the rules users actually get.
func testSites(t testing.TB) []*Site {
	t.Helper()
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Sites []config.Site `yaml:"sites"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	sites, errs := Compile("sites", cfg.Sites)
	if len(errs) > 0 {
		t.Fatalf("config.yaml sites: %v", errs)
	}
	return sites
}

// testConverter is a converter with the default options and the sites'
// image rewrites, as cmd/newsmd builds it.
func testConverter(t testing.TB, sites []*Site, profile string) *converter.Converter {
	t.Helper()
	opts := converter.DefaultOptions()
	opts.Profile = profile
	for _, s := range sites {
		opts.Rewrites = append(opts.Rewrites, s.ImageRewrites()...)
	}
	c, err := converter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// renderHTML renders Markdown as a CommonMark + GFM renderer (Hugo's
// goldmark) would.
func renderHTML(t testing.TB, md string) string {
	t.Helper()
	var b bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	if err := gm.Convert([]byte(md), &b); err != nil {
		t.Fatalf("goldmark: %v", err)
	}
	return b.String()
}

// squeeze drops all white space and invisible characters, so texts
// compare by their words alone.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || converter.Invisible(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// visibleText is the text a reader sees in an HTML fragment: scripts and
// styles dropped, and links whose text is their address (embeds written
// as links) left out.
func visibleText(t testing.TB, fragment string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(fragment))
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("script, style, noscript, template").Remove()
	doc.Find("a").Each(func(_ int, a *goquery.Selection) {
		if href, _ := a.Attr("href"); strings.TrimSpace(a.Text()) == href {
			a.Remove()
		}
	})
	return squeeze(doc.Text())
}

// splitPost splits a post into its front matter and the rest.
func splitPost(t testing.TB, post string) (frontMatter, rest string) {
	t.Helper()
	if !strings.HasPrefix(post, "---\n") {
		t.Fatalf("post does not start with ---: %.80q", post)
	}
	fm, rest, ok := strings.Cut(post[4:], "\n---\n")
	if !ok {
		t.Fatalf("post has no closing ---: %.200q", post)
	}
	return fm, rest
}

// firstDiff shows where two strings part.
func firstDiff(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	i := 0
	for i < len(ra) && i < len(rb) && ra[i] == rb[i] {
		i++
	}
	ctx := func(r []rune) string {
		lo, hi := max(0, i-20), min(len(r), i+40)
		return string(r[lo:hi])
	}
	return "at rune " + strconv.Itoa(i) + ":\n  got  …" + ctx(ra) + "…\n  want …" + ctx(rb) + "…"
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
