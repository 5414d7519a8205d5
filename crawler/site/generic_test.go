package site

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/internal/charset"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// genericPages are real pages from testdata/generic (see its README.md).
var genericPages = []struct {
	file      string
	url       string
	title     string
	byline    string
	published time.Time // zero when the page's metadata has no date Readability reads
	image     string
	first     string // text from the first body paragraph
	last      string // text from the last body paragraph
	absent    []string
}{
	{
		file:      "../pages/hk-2021-real.html", // the real zaobao page, shared with TestPages
		url:       "https://www.zaobao.com/realtime/world/story20211118-1214802",
		title:     "日本长期失业者人数上升",
		byline:    "联合早报", // the JSON-LD author is the paper, not the reporter
		published: time.Date(2021, 11, 18, 17, 28, 39, 0, time.FixedZone("UTC+8", 8*3600)),
		image:     "https://oss-alpha-static-zaobao.oss-cn-hongkong.aliyuncs.com/s3fs-public/images/202111/20211118/2021-10-07t171716z299567363rc245q99lmf42611715.jpg",
		first:     "（早报讯）日本媒体周四（11月18日）报道",
		last:      "最近给寻求工作的人提供的就业机会减少了。",
		absent:    []string{"每日新闻简报", "中美关系", "a2a_config", "dfp-ad", "<script", "作者："},
	},
	{
		file:   "lemonde-1.html",
		url:    "http://www.lemonde.fr/pixels/article/2015/05/04/que-contient-la-loi-sur-le-renseignement_4627068_4408996.html",
		title:  "Le projet de loi sur le renseignement massivement approuvé à l'Assemblée",
		byline: "Martin Untersinger (avec Damien Leloup et Morgane Tual)",
		image:  "http://s1.lemde.fr/image/2015/05/05/600x315/4628128_3_47fc_projet-de-loi-renseignement_aeba800424730d672d1bd08faf203438.jpg",
		first:  "Les députés ont, sans surprise, adopté à une large majorité (438 contre 86 et 42 abstentions)",
		last:   "Ces lanceurs d’alerte pourraient solliciter la CNCTR, voire le premier ministre",
		absent: []string{"Suivre ce journaliste sur twitter", "Taubira, une ministre dans la tempête", "Jeux vidéo", "<script"},
	},
	{
		file:   "heise.html",
		url:    "http://www.heise.de/mac-and-i/meldung/1Password-fuer-Mac-generiert-Einmal-Passwoerter-2596987.html",
		title:  "1Password für Mac generiert Einmal-Passwörter",
		byline: "Mac & i",
		first:  "1Password scannt auch QR-Codes.",
		last:   "setzt in seiner aktuellen Version mindestens OS X 10.10 voraus.",
		absent: []string{"Einloggen", "Registrieren", "Preisvergleich", "Vorige", "<script"},
	},
}

func readGenericPage(t testing.TB, file, rawURL string) ([]byte, *url.URL) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("testdata", "generic", file))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return page, u
}

func TestExtractGenericRealPages(t *testing.T) {
	for _, tc := range genericPages {
		t.Run(tc.file, func(t *testing.T) {
			page, u := readGenericPage(t, tc.file, tc.url)
			got, err := extractGenericPage(page, u)
			if err != nil {
				t.Fatalf("extractGeneric: %v", err)
			}
			if got.Title != tc.title {
				t.Errorf("title: got %q, want %q", got.Title, tc.title)
			}
			if got.Byline != tc.byline {
				t.Errorf("byline: got %q, want %q", got.Byline, tc.byline)
			}
			if !got.Published.Equal(tc.published) {
				t.Errorf("published: got %v, want %v", got.Published, tc.published)
			}
			if tc.image != "" && got.ImageURL != tc.image {
				t.Errorf("image: got %q, want %q", got.ImageURL, tc.image)
			}
			// Normalise runs of white space: the body keeps the page's line breaks.
			body := strings.Join(strings.Fields(got.html()), " ")
			for _, want := range []string{tc.first, tc.last} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			if i, j := strings.Index(body, tc.first), strings.Index(body, tc.last); i > j {
				t.Errorf("first paragraph at %d comes after last paragraph at %d", i, j)
			}
			for _, junk := range tc.absent {
				if strings.Contains(body, junk) {
					t.Errorf("body has boilerplate %q", junk)
				}
			}
		})
	}
}

func TestExtractGenericNoContent(t *testing.T) {
	binary := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")
	for i := range 2000 {
		binary = append(binary, byte(i*7919>>3))
	}
	tests := []struct {
		name string
		page string
	}{
		{"empty", ""},
		{"white space", " \n\t\r\n  "},
		{"empty document", "<!DOCTYPE html><html><head><title>Nothing here</title></head><body></body></html>"},
		{"scripts and styles only", "<html><body><script>document.write('<p>' + 'x'.repeat(900) + '</p>')</script><style>p{color:red}</style><noscript></noscript></body></html>"},
		{"white space and zero-width characters only", "<html><body><article><p>\u00a0 \u200b\u200c\ufeff</p><div> </div></article></body></html>"},
		{"links only", `<html><body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav><footer><a href="/about">About us</a></footer></body></html>`},
		{"binary garbage", string(binary)},
		{"NUL bytes", strings.Repeat("\x00", 4096)},
	}
	u, err := url.Parse("https://example.com/news/1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extractGenericPage([]byte(tc.page), u)
			if !errors.Is(err, errNoContent) {
				t.Fatalf("got error %v and result %+v, want errNoContent", err, got)
			}
			if !strings.Contains(err.Error(), u.String()) {
				t.Errorf("error %q does not name the page %s", err, u)
			}
		})
	}
}

func TestExtractGenericNilURL(t *testing.T) {
	_, err := extractGenericPage([]byte("<p>text</p>"), nil)
	if err == nil {
		t.Fatal("got no error for a nil page URL")
	}
}

func TestExtractGenericLeadImage(t *testing.T) {
	base, err := url.Parse("https://example.com/news/2021/story.html")
	if err != nil {
		t.Fatal(err)
	}
	body := "<article><p>" + strings.Repeat("A sentence of the story, long enough to count. ", 20) + "</p></article>"
	tests := []struct {
		ogImage string
		want    string
	}{
		{"https://cdn.example.net/a.jpg", "https://cdn.example.net/a.jpg"},
		{"/img/lead.jpg", "https://example.com/img/lead.jpg"},
		{"lead.jpg", "https://example.com/news/2021/lead.jpg"},
		{"//cdn.example.net/b.jpg", "https://cdn.example.net/b.jpg"},
		{"data:image/gif;base64,R0lGODlhAQABAAAAACw=", ""},
		{"javascript:alert(1)", ""},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ogImage, func(t *testing.T) {
			page := `<html><head><meta property="og:image" content="` + tc.ogImage + `"></head><body>` + body + `</body></html>`
			got, err := extractGenericPage([]byte(page), base)
			if err != nil {
				t.Fatalf("extractGeneric: %v", err)
			}
			if got.ImageURL != tc.want {
				t.Errorf("image: got %q, want %q", got.ImageURL, tc.want)
			}
		})
	}
}

func TestExtractGenericEncoding(t *testing.T) {
	u, err := url.Parse("https://example.com/news/5")
	if err != nil {
		t.Fatal(err)
	}
	english := strings.Repeat("The minister said on Tuesday that the government would not change its plans for the budget. ", 8)
	chinese := strings.Repeat("日本内政部表示，从7月至9月间没有工作12个月以上的月均人数为66万人，比去年同期增加了18万人。", 6)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(
		`<html><head><meta charset="gbk"><title>日本长期失业者人数上升</title></head><body><article><p>` + chinese + `</p></article></body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		page  string
		title string
		text  string
	}{
		// A statistical guess of the encoding reads this as windows-1252.
		{"UTF-8 with one curly quote", `<html><head><meta charset="utf-8"><title>Budget</title></head><body><article><p>` + english + `It’s over in Zürich.</p></article></body></html>`, "Budget", "It’s over in Zürich."},
		{"GBK", gbk, "日本长期失业者人数上升", chinese},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extractGenericPage([]byte(tc.page), u)
			if err != nil {
				t.Fatalf("extractGeneric: %v", err)
			}
			if got.Title != tc.title {
				t.Errorf("title: got %q, want %q", got.Title, tc.title)
			}
			if !strings.Contains(got.html(), tc.text) {
				t.Errorf("body lacks %q:\n%s", tc.text, got.html())
			}
		})
	}
}

// The date parser under Readability panics on some values; the page must
// come back as an error, not crash the crawler.
// TestExtractGenericBadDate: a date that panics Readability's date parser
// counts as unknown; the article is kept and the date looked for elsewhere.
func TestExtractGenericBadDate(t *testing.T) {
	u, err := url.Parse("https://example.com/news/3")
	if err != nil {
		t.Fatal(err)
	}
	page := `<html><head><title>Story</title><meta property="article:published_time" content="0000-00-00 0000000000,0000000000"></head>` +
		`<body><article><p>` + strings.Repeat("A sentence of the story, long enough to count. ", 20) + `</p></article></body></html>`
	got, err := extractGenericPage([]byte(page), u)
	if err != nil {
		t.Fatalf("got error %v, want the article with no date", err)
	}
	if !got.Published.IsZero() || !strings.Contains(got.html(), "A sentence of the story") {
		t.Errorf("got published %v, body %.80q", got.Published, got.html())
	}
	// Extract then finds no date anywhere and says so.
	if _, err := Extract([]byte(page), u.String(), nil); err == nil || !strings.Contains(err.Error(), "no publication time") {
		t.Errorf("Extract: got %v, want a no-publication-time error", err)
	}
}

func FuzzExtractGeneric(f *testing.F) {
	for _, tc := range genericPages {
		page, _ := readGenericPage(f, tc.file, tc.url)
		f.Add(page)
	}
	f.Add([]byte(""))
	f.Add([]byte(`<html><head><meta property="og:image" content="//x/y.jpg"><script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"h","datePublished":"2021-11-18T17:28:39+08:00","dateModified":"","author":[{"name":"a"}]}</script></head><body><article><p>text <a href="javascript:x">link</a></p><img data-src="a.jpg" src="data:image/gif;base64,R0lGOD"></article></body></html>`))
	u, err := url.Parse("https://example.com/news/4")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		got, err := extractGenericPage(page, u)
		if err != nil {
			return
		}
		if strings.TrimSpace(got.html()) == "" {
			t.Fatal("got an empty body and no error")
		}
		if got.ImageURL != "" && !strings.HasPrefix(got.ImageURL, "http") {
			t.Errorf("image URL %q is not absolute http(s)", got.ImageURL)
		}
	})
}

func BenchmarkExtractGeneric(b *testing.B) {
	for _, tc := range genericPages {
		b.Run(strings.TrimSuffix(tc.file, ".html"), func(b *testing.B) {
			page, u := readGenericPage(b, tc.file, tc.url)
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := extractGenericPage(page, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// extractGenericPage parses page as Extract does and runs the generic
// extractor on it.
func extractGenericPage(page []byte, u *url.URL) (genericResult, error) {
	t, err := parseHTML(charset.Decoded(page))
	if err != nil {
		return genericResult{}, err
	}
	return extractGeneric(page, t.doc.Nodes[0], u)
}

// html is the body the generic extractor found, as HTML.
func (g genericResult) html() string { return converter.Article{Body: g.Body}.HTML() }
