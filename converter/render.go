package converter

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/strikethrough"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
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
	var text string
	liquid := false
	switch c.opts.Profile {
	case ProfileJekyll:
		// The legacy archive's header: the instant in milliseconds, the
		// title linked to the story, and a rule under it (a setext H2).
		text = fmt.Sprintf("<!--%d-->\n[%s](%s)\n------\n\n%s", a.Published.UnixMilli(), escapeLinkText(title), linkDestination(base.String()), body)
		// Jekyll runs Liquid over post bodies: "{{ x }}" in a story would
		// vanish and "{% x %}" would break the site's build.
		liquid = strings.Contains(text, "{{") || strings.Contains(text, "{%")
	case ProfileHugo:
		// Hugo themes print the title and link the source from the front
		// matter: the legacy title line and rule would show as a second
		// heading. The marker, an HTML comment, stays: it shows nothing
		// and dates the post for ReadPost.
		text = fmt.Sprintf("<!--%d-->\n\n%s", a.Published.UnixMilli(), body)
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
