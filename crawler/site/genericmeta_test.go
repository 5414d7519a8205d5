package site

import (
	"os"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
)

// genericPage is a page no site rule matches: head holds what the page
// says of itself, top what comes before the article's text.
func genericPage(head, top string) string {
	return `<!DOCTYPE html><html><head>` + head + `</head><body>` + top + `<article>` +
		strings.Repeat(`<p>Der Gemeinderat hat am Dienstagabend nach langer Debatte beschlossen, die alte Brücke über den Fluss zu sanieren, statt sie abzureißen.</p>`, 6) +
		`<time datetime="2024-03-01T14:05:00+01:00"></time></article></body></html>`
}

func extractMeta(t *testing.T, pageURL, page string) converter.Article {
	t.Helper()
	a, err := Extract([]byte(page), pageURL, nil)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if a.Extractor != "generic" {
		t.Fatalf("got extractor %q, want generic", a.Extractor)
	}
	return a
}

func TestGenericTitle(t *testing.T) {
	const u = "https://www.tagblatt.ch/kultur/bruecke-ld.1161246"
	tests := []struct {
		name, head, top, want string
	}{
		{"title | site",
			`<title>Brücke wird saniert | Der Bote</title><meta property="og:site_name" content="Der Bote">`, ``,
			"Brücke wird saniert"},
		{"title - site, the site named by the host",
			`<title>Brücke wird saniert - St.Galler Tagblatt</title>`, ``,
			"Brücke wird saniert"},
		{"title – site – slogan",
			`<title>Brücke wird saniert – Tagblatt.ch – Nachrichten aus der Ostschweiz</title>`, ``,
			"Brücke wird saniert"},
		{"site: title",
			`<title>Der Bote: Brücke wird saniert</title><meta property="og:site_name" content="Der Bote">`, ``,
			"Brücke wird saniert"},
		{"a colon inside the headline stays",
			`<meta property="og:title" content="Stadtrat: Brücke wird saniert">`, ``,
			"Stadtrat: Brücke wird saniert"},
		{"the <h1> a title holds, with the page's own quotes",
			`<title>Chronik: Stadtrat sagt „Ja“ zur Brücke | Der Bote</title>`, `<h1>Stadtrat sagt „Ja“ zur Brücke</h1>`,
			"Stadtrat sagt „Ja“ zur Brücke"},
		{"a kicker run into the <h1>: the title's part",
			`<meta property="og:title" content="Verkehr: Brücke wird saniert">`, `<h1><span>Verkehr</span><span>Brücke wird saniert</span></h1>`,
			"Verkehr: Brücke wird saniert"},
		{"the site's logo <h1> is no headline",
			`<title>Brücke wird saniert | Der Bote</title><meta property="og:site_name" content="Der Bote">`, `<h1 class="site-title"><a href="/">Der Bote</a></h1>`,
			"Brücke wird saniert"},
		{"the one <h1> beats a title written for search engines",
			`<title>Brücke saniert: Kosten, Dauer, Umleitung | Der Bote</title><meta property="og:site_name" content="Der Bote">`,
			`<h1>Der Gemeinderat rettet die alte Brücke</h1>`,
			"Der Gemeinderat rettet die alte Brücke"},
		{"a section's name in the <h1> is no headline",
			`<title>Brücke wird saniert | Der Bote</title><meta property="og:site_name" content="Der Bote">`, `<h1>Medienmitteilungen</h1>`,
			"Brücke wird saniert"},
		{"a title escaped twice",
			`<meta property="og:title" content="Brücke &amp;#8211; saniert">`, ``,
			"Brücke – saniert"},
		{"a title with nothing after its separator",
			`<title>Brücke wird saniert -</title>`, ``,
			"Brücke wird saniert"},
		{"only the site's name in the titles: the <h1>",
			`<title>Der Bote</title><meta property="og:site_name" content="Der Bote">`, `<h1 class="head">Brücke wird saniert</h1>`,
			"Brücke wird saniert"},
		{"application-name holding the headline names no site",
			`<title>Der Gemeinderat rettet die alte Brücke</title><meta name="application-name" content="Der Gemeinderat rettet die alte Brücke">`,
			`<h1>Der Gemeinderat rettet die alte Brücke</h1>`,
			"Der Gemeinderat rettet die alte Brücke"},
		{"Chinese: 标题_栏目_网站",
			`<title>大桥将修缮_地方新闻_新华网</title><meta property="og:site_name" content="新华网">`, ``,
			"大桥将修缮_地方新闻"},
		{"Chinese: 标题-网站 without spaces",
			`<title>大桥将修缮-新华网</title><meta property="og:site_name" content="新华网">`, `<h1>大桥将修缮</h1>`,
			"大桥将修缮"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := extractMeta(t, u, genericPage(tt.head, tt.top))
			if a.Title != tt.want {
				t.Errorf("got title %q, want %q", a.Title, tt.want)
			}
		})
	}
}

func TestGenericAuthor(t *testing.T) {
	const u = "https://www.example.org/2024/03/01/bruecke"
	ld := func(s string) string { return `<script type="application/ld+json">` + s + `</script>` }
	tests := []struct {
		name, head, top, want string
	}{
		{"JSON-LD Person",
			ld(`{"@type":"NewsArticle","headline":"Brücke","author":{"@type":"Person","name":"Anna Muster","url":"https://www.example.org/autor/anna"}}`), ``,
			"Anna Muster"},
		{"JSON-LD list of authors",
			ld(`{"@type":"Article","headline":"Brücke","author":[{"@type":"Person","name":"Anna Muster"},{"@type":"Person","name":"Ben Beispiel"}]}`), ``,
			"Anna Muster, Ben Beispiel"},
		{"JSON-LD @graph, author by reference",
			ld(`{"@graph":[{"@type":"Person","@id":"#p1","name":"Anna Muster"},{"@type":"Article","headline":"Brücke","author":{"@id":"#p1"}}]}`), ``,
			"Anna Muster"},
		{"a blog's Person publisher is its author, not the site",
			ld(`{"@graph":[{"@type":["Person","Organization"],"@id":"#me","name":"Anna Muster"},{"@type":"BlogPosting","headline":"Brücke","author":{"@id":"#me"},"publisher":{"@id":"#me"}}]}`), ``,
			"Anna Muster"},
		{"JSON-LD author that is the site: the printed byline",
			ld(`{"@type":"NewsArticle","headline":"Brücke","author":{"@type":"Organization","name":"Der Bote"},"publisher":{"@type":"Organization","name":"Der Bote"}}`),
			`<div class="byline">Von Anna Muster</div>`,
			"Anna Muster"},
		{"meta author",
			`<meta name="author" content="Anna Muster">`, ``,
			"Anna Muster"},
		{"meta author that is a URL, then rel=author",
			`<meta property="article:author" content="https://www.facebook.com/anna">`, `<p>Text: <a rel="author" href="/autor/anna">Anna Muster</a></p>`,
			"Anna Muster"},
		{"meta author that is the host",
			`<meta name="author" content="example.org">`, `<span itemprop="author" itemscope><span itemprop="name">Anna Muster</span></span>`,
			"Anna Muster"},
		{"Username is no one",
			`<meta name="author" content="Username">`, ``,
			""},
		{"a user name gives way to the printed name",
			`<meta name="author" content="anna.muster">`, `<span class="author-name">Anna Muster</span>`,
			"Anna Muster"},
		{"byline with a label and a date",
			``, `<div class="article-byline">Veröffentlicht von Anna Muster am 01.03.2024</div>`,
			"Anna Muster"},
		{"byline with the label run into the name",
			``, `<div data-testid="prism-byline"><span>By</span><a href="/team/anna">Anna Muster</a> Friday, March 1, 2024</div>`,
			"Anna Muster"},
		{"comment authors are not the author",
			``, `<div class="comments"><span class="author">troll42</span></div>`,
			""},
		{"printed byline without markup",
			``, `<p><i>von Anna Muster und Ben Beispiel</i></p>`,
			"Anna Muster und Ben Beispiel"},
		{"printed text that only starts like a byline",
			``, `<p>Von Hamburg nach Berlin</p>`,
			""},
		{"作者：",
			``, `<div class="author">作者：王小明</div>`,
			"王小明"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := `<title>Brücke wird saniert | Der Bote</title><meta property="og:site_name" content="Der Bote">` + tt.head
			a := extractMeta(t, u, genericPage(head, tt.top))
			if a.Author != tt.want {
				t.Errorf("got author %q, want %q", a.Author, tt.want)
			}
		})
	}
}

func TestGenericLeadImage(t *testing.T) {
	const u = "https://www.example.org/2024/03/01/bruecke"
	tests := []struct {
		name, head, top string
		want            converter.Image
	}{
		{"og:image, caption of the figure showing a smaller copy",
			`<meta property="og:image" content="/uploads/2024/03/alte-bruecke-1200x630.jpg">`,
			`<figure><img src="/uploads/2024/03/alte-bruecke-768x432.jpg"><figcaption>Die alte Brücke im Winter.</figcaption></figure>`,
			converter.Image{URL: "https://www.example.org/uploads/2024/03/alte-bruecke-1200x630.jpg", Caption: "Die alte Brücke im Winter."}},
		{"a caption beside the image, WordPress style",
			`<meta property="og:image" content="https://cdn.example.org/alte-bruecke.jpg?w=1200">`,
			`<div class="wp-caption"><img src="https://cdn.example.org/alte-bruecke.jpg?w=600"><p class="wp-caption-text">Die alte Brücke.</p></div>`,
			converter.Image{URL: "https://cdn.example.org/alte-bruecke.jpg?w=1200", Caption: "Die alte Brücke."}},
		{"JSON-LD ImageObject with its caption",
			`<script type="application/ld+json">{"@type":"NewsArticle","headline":"Brücke","image":{"@type":"ImageObject","url":"https://www.example.org/bruecke.jpg","caption":"Die Brücke, 1910"}}</script>`,
			``,
			converter.Image{URL: "https://www.example.org/bruecke.jpg", Caption: "Die Brücke, 1910"}},
		{"twitter:image",
			`<meta name="twitter:image" content="https://www.example.org/bruecke.jpg">`, ``,
			converter.Image{URL: "https://www.example.org/bruecke.jpg"}},
		{"a figure of another image gives no caption",
			`<meta property="og:image" content="https://www.example.org/bruecke.jpg">`,
			`<figure><img src="https://www.example.org/rathaus.jpg"><figcaption>Das Rathaus.</figcaption></figure>`,
			converter.Image{URL: "https://www.example.org/bruecke.jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := extractMeta(t, u, genericPage(`<title>Brücke wird saniert</title>`+tt.head, tt.top))
			if a.Image != tt.want {
				t.Errorf("got image %+v, want %+v", a.Image, tt.want)
			}
		})
	}
}

func TestGenericLanguage(t *testing.T) {
	const u = "https://www.example.org/2024/03/01/bruecke"
	tests := []struct {
		name, page, want string
	}{
		{"html lang", strings.Replace(genericPage(`<title>Brücke</title>`, ``), "<html>", `<html lang="de-ch">`, 1), "de-CH"},
		{"JSON-LD inLanguage", genericPage(`<title>Brücke</title><script type="application/ld+json">{"@type":"NewsArticle","headline":"Brücke","inLanguage":"de"}</script>`, ``), "de"},
		{"Content-Language", genericPage(`<title>Brücke</title><meta http-equiv="Content-Language" content="de-AT, en">`, ``), "de-AT"},
		{"og:locale", genericPage(`<title>Brücke</title><meta property="og:locale" content="de_DE">`, ``), "de-DE"},
		{"script and region", strings.Replace(genericPage(`<title>橋</title>`, ``), "<html>", `<html lang="zh-hant-tw">`, 1), "zh-Hant-TW"},
		{"malformed tags are skipped", strings.Replace(genericPage(`<title>Brücke</title><meta property="og:locale" content="fr_FR">`, ``), "<html>", `<html lang="{{lang}}">`, 1), "fr-FR"},
		{"none", genericPage(`<title>Brücke</title>`, ``), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := extractMeta(t, u, tt.page); a.Language != tt.want {
				t.Errorf("got language %q, want %q", a.Language, tt.want)
			}
		})
	}
}

// TestGenericTraditionalChinese: a traditional-Chinese page keeps its
// traditional characters in the title, the author, the caption and the
// body; nothing converts them to simplified ones.
func TestGenericTraditionalChinese(t *testing.T) {
	page, err := os.ReadFile("testdata/generic/rti-zh-hant.html")
	if err != nil {
		t.Fatal(err)
	}
	a := extractMeta(t, "https://www.rti.org.tw/news/view/id/2001234", string(page))
	want := converter.Article{
		Title:    "颱風過境後 臺灣東部鐵路恢復通車",
		Author:   "陳怡君",
		Language: "zh-Hant-TW",
		Image:    converter.Image{URL: "https://www.rti.org.tw/uploads/news/2024/0301/east-line-reopens-1200x630.jpg", Caption: "花蓮車站的旅客等候東部幹線列車。（中央社）"},
	}
	if a.Title != want.Title || a.Author != want.Author || a.Language != want.Language || a.Image != want.Image {
		t.Errorf("got title %q, author %q, lang %q, image %+v;\nwant %q, %q, %q, %+v",
			a.Title, a.Author, a.Language, a.Image, want.Title, want.Author, want.Language, want.Image)
	}
	body := a.HTML()
	for _, s := range []string{"臺灣鐵路管理局", "東部幹線花蓮至臺東區間", "號誌系統", "鐵路局發布的最新營運資訊", "確保行車安全"} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
	// Simplified forms of characters the page writes in traditional ones.
	for _, s := range []string{"台风", "铁路", "台湾", "记者", "陈怡君", "东部", "线"} {
		if strings.Contains(a.Title+a.Author+a.Image.Caption+body, s) {
			t.Errorf("got simplified %q in the article", s)
		}
	}
}
