package site

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// articleParagraphs is the text of a plain article, long enough for
// Readability to take it as one.
func articleParagraphs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<p>Paragraph %d of the story. The council met on Tuesday and voted, after a long debate about the budget, to rebuild the old bridge over the river, which has been closed since the flood of last spring.</p>\n", i+1)
	}
	return b.String()
}

// tidied parses fragment as the body of a page, runs tidy on the body and
// returns it as HTML.
func tidied(t *testing.T, fragment string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<html><body>" + fragment + "</body></html>"))
	if err != nil {
		t.Fatal(err)
	}
	body := firstElementNamed(doc, "body")
	tidy(body)
	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func firstElementNamed(n *html.Node, name string) *html.Node {
	if n.Type == html.ElementNode && n.Data == name {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := firstElementNamed(c, name); f != nil {
			return f
		}
	}
	return nil
}

func TestTidy(t *testing.T) {
	story := articleParagraphs(4)
	tests := []struct {
		name         string
		fragment     string
		want, absent []string
	}{
		{
			name:     "a caption becomes its picture's alt text",
			fragment: `<div>` + story + `<figure><img src="/a.jpg"><figcaption>The old bridge in 1910. Photo: City archive</figcaption></figure></div>`,
			want:     []string{`<img src="/a.jpg" alt="The old bridge in 1910. Photo: City archive"/>`, "Paragraph 4"},
			absent:   []string{"<figcaption"},
		},
		{
			name:     "a caption does not overwrite an alt text",
			fragment: `<div>` + story + `<div class="wp-caption"><img src="/a.jpg" alt="Bridge"><p class="wp-caption-text">Credit: Jane Doe</p></div></div>`,
			want:     []string{`alt="Bridge"`},
			absent:   []string{"Credit: Jane Doe"},
		},
		{
			name:     "share rows, related lists and newsletter boxes go",
			fragment: `<div>` + story + `<div class="share-buttons"><span>Share this</span></div><section class="relatedPosts"><h3>More on this</h3><p>Another story entirely, with no link in it at all</p></section><div id="newsletter-signup"><p>Sign up for our daily briefing</p></div></div>`,
			want:     []string{"Paragraph 1", "Paragraph 4"},
			absent:   []string{"Share this", "More on this", "Another story", "Sign up"},
		},
		{
			name:     "page furniture elements go",
			fragment: `<div>` + story + `<nav><p>Home</p></nav><aside><p>Most read today</p></aside><footer><p>Imprint</p></footer></div>`,
			absent:   []string{"Home", "Most read", "Imprint"},
		},
		{
			name:     "a wrapper whose class names tags keeps the article it holds",
			fragment: `<article class="post tag-bridges tag-council">` + story + `</article>`,
			want:     []string{"Paragraph 1", "Paragraph 4"},
		},
		{
			name:     "read-also lines go, links inside sentences stay",
			fragment: `<div>` + story + `<p>Read also: <a href="/x">Floods cost the city millions</a></p><p>The mayor <a href="/mayor">said</a> in a statement on Wednesday that the work would begin in the autumn and take two years to complete.</p></div>`,
			want:     []string{"The mayor <a href=\"/mayor\">said</a>"},
			absent:   []string{"Read also", "Floods cost"},
		},
		{
			name:     "a spelled-out address is kept",
			fragment: `<div>` + story + `<p>Petition: <a href="https://example.org/p/1">https://example.org/p/1</a></p><p><a href="mailto:desk@example.org">desk@example.org</a></p></div>`,
			want:     []string{"https://example.org/p/1</a>", "desk@example.org</a>"},
		},
		{
			name:     "copyright lines go",
			fragment: `<div>` + story + `<p>© 2024 Example Media. All rights reserved.</p><p>Copyright 2024 Example Media</p></div>`,
			absent:   []string{"All rights reserved", "Copyright 2024"},
		},
		{
			name:     "credit lines go, a sentence that starts like one stays",
			fragment: `<div>` + story + `<p>Foto: dpa</p><p>Quelle: Landesregierung</p><p>Crédits photos : Bestimage</p><p>Source: the council's own figures show that the bridge carried 12,000 cars a day before the flood closed it.</p></div>`,
			want:     []string{"Source: the council"},
			absent:   []string{"Foto: dpa", "Landesregierung", "Bestimage"},
		},
		{
			name:     "author boxes go",
			fragment: `<div>` + story + `<div class="author-box"><p>Jane Doe writes about cities and their bridges for the paper since 2010.</p></div></div>`,
			absent:   []string{"Jane Doe writes"},
		},
		{
			name:     "a heading with nothing under it goes, one with text stays",
			fragment: `<div><h2>The vote</h2>` + story + `<h2>Related stories</h2><ul><li><a href="/a">Bridge closed after flood</a></li><li><a href="/b">Council elections</a></li></ul></div>`,
			want:     []string{"<h2>The vote</h2>"},
			absent:   []string{"Related stories", "Bridge closed", "Council elections"},
		},
		{
			name:     "classes are dropped but Readability's page",
			fragment: `<div id="readability-page-1" class="page"><div class="entry-content">` + story + `</div></div>`,
			want:     []string{`<div id="readability-page-1" class="page"><div>`},
			absent:   []string{"entry-content"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tidied(t, tt.fragment)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("kept %q in\n%s", a, got)
				}
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string]string{
		"post-relatedPosts_2":    "post related posts",
		"entry-content clearfix": "entry content clearfix",
		"ShareBar":               "share bar",
		"":                       "",
	} {
		if got := strings.Join(splitWords(in), " "); got != want {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContentCandidate(t *testing.T) {
	story := articleParagraphs(2)
	tests := []struct {
		name, page, want string // want: text the candidate starts with; "" for none
	}{
		{"articleBody first", `<article><p>Teaser</p></article><div class="entry-content"><p>Named</p>` + story + `</div><div itemprop="articleBody"><p>Marked</p></div>`, "Marked"},
		{"a named container", `<div class="sidebar"><p>Most read</p></div><div class="post-content"><p>Named</p>` + story + `</div>`, "Named"},
		{"the longest of a kind", `<div class="article-body"><p>Short</p></div><div class="article-body"><p>Long</p>` + story + `</div>`, "Long"},
		{"a lone article", `<div><p>Menu</p></div><article><p>Lone</p>` + story + `</article>`, "Lone"},
		{"two articles are a listing", `<article><p>One</p></article><article><p>Two</p></article>`, ""},
		{"scripts, forms and hidden parts are left out", `<main><script>var x = 1;</script><p hidden>Hidden</p><form><p>Search</p></form><p>Text</p></main>`, "Text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader("<html><body>" + tt.page + "</body></html>"))
			if err != nil {
				t.Fatal(err)
			}
			c := contentCandidate(doc)
			got := ""
			if c != nil {
				got = strings.TrimSpace(nodeText(c))
			}
			if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
				t.Errorf("candidate text %.60q, want it to start with %q", got, tt.want)
			}
		})
	}
}

func TestPreferCandidate(t *testing.T) {
	parse := func(s string) *html.Node {
		n, err := html.Parse(strings.NewReader("<html><body><div>" + s + "</div></body></html>"))
		if err != nil {
			t.Fatal(err)
		}
		return firstElementNamed(n, "div")
	}
	story := articleParagraphs(6)
	if !preferCandidate(parse("<p>We use cookies to improve your experience.</p>"), parse(story)) {
		t.Error("a short notice beat a long marked article")
	}
	if preferCandidate(parse(articleParagraphs(4)), parse(story)) {
		t.Error("Readability's node with most of the candidate's text lost to it")
	}
	var links strings.Builder
	for i := range 40 {
		fmt.Fprintf(&links, `<li><a href="/%d">Another headline number %d from the archive</a></li>`, i, i)
	}
	if preferCandidate(parse("<p>A short article.</p>"), parse("<ul>"+links.String()+"</ul>")) {
		t.Error("a list of links beat Readability's node")
	}
}

// TestTidyNeverEmpties: a body made only of what tidy removes is kept as
// Readability found it rather than lost.
func TestTidyNeverEmpties(t *testing.T) {
	page := `<!doctype html><html><head><title>Share this story</title>
<meta property="article:published_time" content="2024-03-01T10:00:00Z"></head><body>
<div class="share-box"><p>` + strings.Repeat("Share this story with your friends and family on every network you use. ", 8) + `</p></div>
</body></html>`
	g, err := extractGenericPage([]byte(page), mustURL(t, "https://news.example/share"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.html(), "Share this story with your friends") {
		t.Errorf("body emptied:\n%s", g.html())
	}
}

// TestGenericUntitled: a page whose every title is the site's name is
// still an article, titled by its first heading, else by its URL; a body
// too short to be an article is still refused.
func TestGenericUntitled(t *testing.T) {
	head := `<title>ICON Magazine</title><meta property="og:title" content="ICON Magazine"><meta property="og:site_name" content="ICON Magazine"><meta property="article:published_time" content="2024-03-01T10:00:00Z">`
	story := articleParagraphs(5)
	tests := []struct{ name, url, body, want string }{
		{"the first heading", "https://mag.example/story/1234", `<h1 class="head-title"></h1><article><h2>Sharon Stone im Gespräch</h2>` + story + `</article>`, "Sharon Stone im Gespräch"},
		{"the URL's words", "https://mag.example/story/interview-mit-sharon-stone/", `<h1 class="head-title"></h1><article>` + story + `</article>`, "Interview mit sharon stone"},
		{"too short", "https://mag.example/story/interview-mit-sharon-stone/", `<article><p>Mehr lesen</p></article>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Extract([]byte(`<!doctype html><html><head>`+head+`</head><body>`+tt.body+`</body></html>`), tt.url, nil)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("got article titled %q, want an error", a.Title)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Title != tt.want {
				t.Errorf("title %q, want %q", a.Title, tt.want)
			}
		})
	}
}

// TestGenericLead: the lead between the headline and the body, which
// Readability leaves out, is put back on top of the body.
func TestGenericLead(t *testing.T) {
	page := `<!doctype html><html><head><title>Bridge to be rebuilt</title><meta property="article:published_time" content="2024-03-01T10:00:00Z"></head><body>
<article><header><h1>Bridge to be rebuilt</h1><p class="lead">` + leadText + `</p><p>By Jane Doe, 1 March 2024</p></header>
<div class="story-text">` + articleParagraphs(6) + `</div></article></body></html>`
	g, err := extractGenericPage([]byte(page), mustURL(t, "https://news.example/bridge"))
	if err != nil {
		t.Fatal(err)
	}
	got := g.html()
	i, j := strings.Index(got, leadText), strings.Index(got, "Paragraph 1 of the story")
	if i < 0 || i > j {
		t.Errorf("lead missing or after the body's first paragraph:\n%s", got)
	}
	if strings.Contains(got, blockAttr) || strings.Contains(got, "Jane Doe") {
		t.Errorf("block numbers or the byline in the body:\n%s", got)
	}
}

const leadText = "The city will rebuild the old bridge by 2026, after a debate that divided the council for a year."

// TestAdoptLead: which blocks before the body adoptLead takes.
func TestAdoptLead(t *testing.T) {
	links := `<p>` + strings.Repeat(`<a href="/y">Another long headline of another story</a> `, 4) + `</p>`
	tests := []struct {
		name, before string
		want         bool
	}{
		{"after the headline", `<h1>Bridge</h1><p>` + leadText + `</p><p>By Jane Doe</p>`, true},
		{"no headline before it", `<p>` + leadText + `</p>`, false},
		{"a list of stories between", `<h1>Bridge</h1><p>` + leadText + `</p>` + links, false},
		{"in page furniture", `<h1>Bridge</h1><div class="related"><p>` + leadText + `</p></div>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader("<html><body>" + tt.before + `<div id="body"><p>The body.</p></div></body></html>`))
			if err != nil {
				t.Fatal(err)
			}
			blocks := leadBlocks(doc)
			var body *html.Node // what Readability returns: a copy of the body
			walkElements(doc, func(n *html.Node) bool {
				if attr(n, "id") == "body" {
					body = cloneNode(n)
				}
				return body == nil
			})
			adoptLead(body, blocks)
			got := nodeText(body)
			if has := strings.Contains(got, leadText); has != tt.want {
				t.Errorf("lead adopted: %v, want %v (%q)", has, tt.want, got)
			}
			if strings.Contains(got, "Jane Doe") {
				t.Errorf("a byline adopted: %q", got)
			}
		})
	}
}
