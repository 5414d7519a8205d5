package converter

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/strikethrough"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"go.yaml.in/yaml/v3"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Post is a rendered article: the file name it is stored under and its
// bytes.
type Post struct {
	Name    string
	Content []byte
}

// Converter renders articles with fixed options. It is safe for
// concurrent use.
type Converter struct {
	opts Options
	md   *converter.Converter
}

// New returns a Converter for opts.
func New(opts Options) (*Converter, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("converter options: %w", err)
	}
	md := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(),
		commonmark.NewCommonmarkPlugin(),
		table.NewTablePlugin(
			// zaobao tables have no <thead>: their first row is the header.
			table.WithHeaderPromotion(true),
			table.WithSkipEmptyRows(true),
			table.WithNewlineBehavior(table.NewlineBehaviorPreserve),
			// Padding to align CJK text does not align anyway, and costs bytes.
			table.WithCellPaddingBehavior(table.CellPaddingBehaviorMinimal),
		),
		strikethrough.NewStrikethroughPlugin(),
	))
	// html-to-markdown leaves "&" alone (its issue 178), so text that
	// reads "&copy;" would render as ©. Early: before "<" becomes "&lt;".
	md.Register.TextTransformer(func(_ converter.Context, s string) string {
		if !strings.Contains(s, "&") {
			return s
		}
		return entityLike.ReplaceAllString(s, "&amp;$1")
	}, converter.PriorityEarly)
	return &Converter{opts: opts, md: md}, nil
}

// entityLike matches what CommonMark reads as an entity or a numeric
// character reference, less its "&".
var entityLike = regexp.MustCompile(`&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)`)

// Errors Render returns for articles it cannot make a post of.
var (
	ErrNoTitle = errors.New("article has no title")
	ErrNoURL   = errors.New("article has no absolute http(s) URL")
	ErrNoDate  = errors.New("article has no publication time")
)

// Render turns a into a post. The same article and options always give
// the same bytes.
func (c *Converter) Render(a Article) (Post, error) {
	title := CleanText(a.Title)
	if title == "" {
		return Post{}, ErrNoTitle
	}
	base, err := url.Parse(a.URL)
	// The front matter writes the URL as it is: one with control or
	// invisible characters or broken UTF-8 is an extraction error.
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || CleanText(a.URL) != a.URL {
		return Post{}, fmt.Errorf("%w: %q", ErrNoURL, a.URL)
	}
	if y := a.Published.In(c.opts.Location).Year(); a.Published.IsZero() || y < 1 || y > 9999 {
		// YAML timestamps and YYYY-MM-DD file names have four-digit years.
		return Post{}, fmt.Errorf("%w: %s", ErrNoDate, a.Published)
	}
	rw := newRewriter(c.opts.Rewrites)
	body, err := c.markdown(a, rw)
	if err != nil {
		return Post{}, err
	}
	text := fmt.Sprintf("<!--%d-->\n[%s](%s)\n------\n\n%s", a.Published.UnixMilli(), escapeLinkText(title), linkDestination(base.String()), body)
	liquid := false
	switch c.opts.Profile {
	case ProfileJekyll:
		// Jekyll runs Liquid over post bodies: "{{ x }}" in a story would
		// vanish and "{% x %}" would break the site's build.
		liquid = strings.Contains(text, "{{") || strings.Contains(text, "{%")
	case ProfileHugo:
		// Hugo takes "{{<" and "{{%" for shortcodes; escaped, they show as
		// written.
		text = hugoShortcodes.Replace(text)
	}
	fm, err := c.frontMatter(a, base, title, liquid, rw)
	if err != nil {
		return Post{}, err
	}
	var b bytes.Buffer
	b.Grow(len(fm) + len(text) + 8)
	b.WriteString("---\n")
	b.Write(fm)
	b.WriteString("---\n")
	b.WriteString(text)
	return Post{Name: FileName(title, a.Published, c.opts.Location, c.opts.TitleMaxRunes), Content: b.Bytes()}, nil
}

// Markdown converts the article body, with the lead image on top when the
// body does not show it already. The result ends in one newline, or is
// empty.
func (c *Converter) Markdown(a Article) (string, error) {
	return c.markdown(a, newRewriter(c.opts.Rewrites))
}

func (c *Converter) markdown(a Article, rw *rewriter) (string, error) {
	base, _ := url.Parse(a.URL)
	root := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	if a.Body != nil {
		// normalizeBody changes the tree: work on a copy, so that the
		// same article always renders the same.
		for c := a.Body.FirstChild; c != nil; c = c.NextSibling {
			root.AppendChild(CloneTree(c))
		}
		if err := parseNoscripts(root); err != nil {
			return "", fmt.Errorf("parse body of %s: %w", a.URL, err)
		}
	} else {
		ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
		// Broken UTF-8 would pass through to the post; drop it, as the
		// title and captions drop it.
		body := strings.ToValidUTF8(a.BodyHTML, "")
		nodes, err := html.ParseFragmentWithOptions(strings.NewReader(body), ctx, html.ParseOptionEnableScripting(false))
		if err != nil {
			return "", fmt.Errorf("parse body of %s: %w", a.URL, err)
		}
		for _, n := range nodes {
			root.AppendChild(n)
		}
	}
	leadOnTop := ""
	if img := ResolveURL(base, a.Image.URL); img != "" && !showsImage(root, base, img, rw) {
		root.InsertBefore(figure(rw.rewrite(img), CleanText(a.Image.Caption)), root.FirstChild)
		leadOnTop = rw.key(img)
	}
	placeImages(root, base, a.Images, leadOnTop, rw)
	normalizeBody(root, base, rw)
	out, err := c.md.ConvertNode(root, converter.WithDomain(a.URL))
	if err != nil {
		return "", fmt.Errorf("convert body of %s: %w", a.URL, err)
	}
	// normalizeBody cleaned the text nodes; this catches a control
	// character that reached the Markdown any other way (an attribute, an
	// entity the Markdown converter decoded), whatever that converter does.
	md := strings.TrimSpace(StripHidden(string(out)))
	if md == "" {
		return "", nil
	}
	return md + "\n", nil
}

// figure is <figure><img><figcaption></figure> for the image src, without
// a figcaption when caption is "".
func figure(src, caption string) *html.Node {
	fig := &html.Node{Type: html.ElementNode, Data: "figure", DataAtom: atom.Figure}
	fig.AppendChild(&html.Node{Type: html.ElementNode, Data: "img", DataAtom: atom.Img,
		Attr: []html.Attribute{{Key: "src", Val: src}, {Key: "alt", Val: caption}}})
	if caption != "" {
		fig.AppendChild(figcaption(caption))
	}
	return fig
}

func figcaption(caption string) *html.Node {
	fc := &html.Node{Type: html.ElementNode, Data: "figcaption", DataAtom: atom.Figcaption}
	fc.AppendChild(&html.Node{Type: html.TextNode, Data: caption})
	return fc
}

// placeImages places the story's images (Article.Images) in the body
// under root, so that every image shows once and every caption once:
//
//   - an image the body shows (as ImageKey compares URLs) stays where it
//     is; it gets its caption when its figure has none and the body does
//     not show that text anywhere (where it does, in an element of its
//     own, that element becomes a figcaption);
//   - the lead image, put on top of the body (leadOnTop is its key), is
//     not shown again;
//   - every other image is shown after the body, in a figure with its
//     caption (unless the body already shows that text).
func placeImages(root *html.Node, base *url.URL, images []Image, leadOnTop string, rw *rewriter) {
	if len(images) == 0 {
		return
	}
	inBody := map[string]*html.Node{}
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			if k := rw.key(ResolveURL(base, ImageURL(n))); k != "" && inBody[k] == nil {
				inBody[k] = n
			}
		}
	})
	shown := compactText(textOf(root))
	done := map[string]bool{leadOnTop: true}
	var gallery []*html.Node
	for _, im := range images {
		u := ResolveURL(base, im.URL)
		k := rw.key(u)
		if u == "" || done[k] {
			continue
		}
		done[k] = true
		caption := CleanText(im.Caption)
		alt := caption
		img := inBody[k]
		if img != nil && alt != "" && attr(img, "alt") == "" && !hasFigcaption(root, img) {
			// Where the body shows the caption as text, the image is
			// still described.
			setAttr(img, "alt", alt)
		}
		if c := compactText(caption); c == "" || strings.Contains(shown, c) {
			if c != "" {
				markCaption(root, c)
			}
			caption = ""
		} else {
			shown += c
		}
		if img != nil {
			if caption != "" {
				addCaption(root, img, caption)
			}
			continue
		}
		fig := figure(rw.rewrite(u), caption)
		setAttr(fig.FirstChild, "alt", alt)
		gallery = append(gallery, fig)
	}
	for _, fig := range gallery {
		root.AppendChild(fig)
	}
}

// markCaption makes the element of the body under root that holds
// nothing but the caption c (compactText) a figcaption, so that it shows
// as the other captions do (.figure-caption on SG 2026 pages is a div).
// Elements holding an image, and figcaptions, are left alone.
func markCaption(root *html.Node, c string) {
	var found *html.Node
	walk(root, func(n *html.Node) {
		if found == nil && n != root && n.Type == html.ElementNode && compactText(textOf(n)) == c {
			found = n
		}
	})
	if found == nil {
		return
	}
	// The innermost element with that text: not the figure around it.
	for descended := true; descended; {
		descended = false
		for ch := found.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && compactText(textOf(ch)) == c {
				found, descended = ch, true
				break
			}
		}
	}
	if found.DataAtom == atom.Figcaption || findElement(found, atom.Img) != nil || found.DataAtom == atom.Img {
		return
	}
	found.Data, found.DataAtom, found.Attr = "figcaption", atom.Figcaption, nil
}

// figureOf is the figure under root that holds img, or nil.
func figureOf(root, img *html.Node) *html.Node {
	for n := img.Parent; n != nil && n != root; n = n.Parent {
		if n.Type == html.ElementNode && n.DataAtom == atom.Figure {
			return n
		}
	}
	return nil
}

// hasFigcaption reports whether img, in the body under root, is in a
// figure with a caption.
func hasFigcaption(root, img *html.Node) bool {
	fig := figureOf(root, img)
	if fig == nil {
		return false
	}
	fc := findElement(fig, atom.Figcaption)
	return fc != nil && CleanText(textOf(fc)) != ""
}

// addCaption gives img, in the body under root, the caption: in its
// figure when it has one without a caption, else right after the block
// of the body that holds it.
func addCaption(root, img *html.Node, caption string) {
	if fig := figureOf(root, img); fig != nil {
		if !hasFigcaption(root, img) {
			fig.AppendChild(figcaption(caption))
		}
		return
	}
	block := img
	for block.Parent != nil && block.Parent != root {
		block = block.Parent
	}
	if block.Parent == nil {
		return
	}
	root.InsertBefore(figcaption(caption), block.NextSibling)
}

// compactText is s without white space, so texts compare by their words.
func compactText(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// showsImage reports whether the body already has the image u, an
// absolute URL, as ImageKey compares them.
func showsImage(root *html.Node, base *url.URL, u string, rw *rewriter) bool {
	want := rw.key(u)
	found := false
	walk(root, func(n *html.Node) {
		if !found && n.Type == html.ElementNode && n.DataAtom == atom.Img {
			found = rw.key(ResolveURL(base, ImageURL(n))) == want
		}
	})
	return found
}

// dateLayout is RFC 3339 to the millisecond, the precision of the marker;
// whole seconds are written without a fraction.
const dateLayout = "2006-01-02T15:04:05.999Z07:00"

// frontMatter writes the YAML mapping with the yaml v3 encoder, keys in
// the profile's order.
// noLiquid adds "render_with_liquid: false" for bodies that Liquid would
// garble.
func (c *Converter) frontMatter(a Article, base *url.URL, title string, noLiquid bool, rw *rewriter) ([]byte, error) {
	o := c.opts
	date := a.Published.In(o.Location).Format(dateLayout)
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	site := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			out = appendUnique(out, strings.ReplaceAll(v, SiteVar, a.Site))
		}
		return out
	}
	author := strings.ReplaceAll(o.Author, SiteVar, a.Site)
	if author == "" {
		author = cmp.Or(strings.TrimSpace(a.Site), strings.TrimSpace(a.Author))
	}
	tags := site(o.Tags)
	categories := site(o.Categories)
	if o.KeywordTags {
		tags = appendUnique(tags, a.Keywords...)
	}
	switch o.Profile {
	case ProfileHugo:
		add("title", quoted(title))
		add("date", plain(date, "!!timestamp"))
		if !a.Modified.IsZero() {
			add("lastmod", plain(a.Modified.In(o.Location).Format(dateLayout), "!!timestamp"))
		}
		if author != "" {
			add("author", str(author))
		}
		add("tags", flowList(tags))
		add("categories", flowList(categories))
		add("source", str(a.URL))
		if a.FromFeed {
			add("body_source", str("feed"))
		}
	default:
		add("layout", str(o.Layout))
		add("title", quoted(title))
		add("date", plain(date, "!!timestamp"))
		add("author", str(author))
		add("from", str(a.URL))
		if a.FromFeed {
			add("source", str("feed"))
		}
		add("tags", flowList(tags))
		if o.Comments {
			add("comments", plain("true", "!!bool"))
		}
		add("categories", flowList(categories))
	}
	for _, e := range ExtraFields {
		if !slices.Contains(o.Extra, e) {
			continue
		}
		switch e {
		case "story_id":
			if a.StoryID != "" {
				add(e, str(a.StoryID))
			}
		case "section":
			if a.Section != "" {
				add(e, str(a.Section))
			}
		case "updated":
			if !a.Modified.IsZero() {
				add(e, plain(a.Modified.In(o.Location).Format(dateLayout), "!!timestamp"))
			}
		case "byline":
			if a.Author != "" {
				add(e, str(CleanText(a.Author)))
			}
		case "keywords":
			if len(a.Keywords) > 0 {
				add(e, flowList(a.Keywords))
			}
		case "image":
			if u := normalizeImageURL(base, a.Image.URL, rw); u != "" {
				add(e, str(u))
			}
		case "image_caption":
			if cap := CleanText(a.Image.Caption); cap != "" {
				add(e, str(cap))
			}
		case "truncated":
			add(e, plain(strconv.FormatBool(a.Truncated), "!!bool"))
		}
	}
	if noLiquid {
		add("render_with_liquid", plain("false", "!!bool"))
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode front matter of %s: %w", a.URL, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode front matter of %s: %w", a.URL, err)
	}
	return b.Bytes(), nil
}

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: CleanText(v)}
}

// quoted is a string written in double quotes, as the legacy archive
// writes titles.
func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.DoubleQuotedStyle}
}

func plain(v, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}

func flowList(vs []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, v := range vs {
		if v = CleanText(v); v != "" {
			n.Content = append(n.Content, str(v))
		}
	}
	return n
}

func appendUnique(list []string, vs ...string) []string {
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		seen[v] = true
	}
	for _, v := range vs {
		if v = CleanText(v); v != "" && !seen[v] {
			seen[v] = true
			list = append(list, v)
		}
	}
	return list
}

// escapeLinkText escapes what would end or break the [title] of a link,
// for CommonMark and for kramdown (Jekyll), which takes a backslash before
// "&" or "~" literally: those are written as character references.
func escapeLinkText(s string) string {
	if strings.Contains(s, "&") {
		s = entityLike.ReplaceAllString(s, "&amp;$1")
	}
	return linkText.Replace(s)
}

var (
	linkText       = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, "`", "\\`", `*`, `\*`, `_`, `\_`, `<`, `\<`, `~`, "&#126;")
	hugoShortcodes = strings.NewReplacer("{{<", `{{\<`, "{{%", `{{\%`)
	urlInBrackets  = strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20")
)

// linkDestination writes u so that spaces or parentheses cannot end it.
func linkDestination(u string) string {
	if strings.ContainsAny(u, " ()<>") {
		return "<" + urlInBrackets.Replace(u) + ">"
	}
	return u
}
