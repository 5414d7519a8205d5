package converter_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/newsmd/newsmd/converter"
)

// wantTitle is the title Render must write, worked out apart from the
// converter: white space folded to one space and trimmed, control and
// format characters, noncharacters and broken UTF-8 dropped.
func wantTitle(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Noncharacter_Code_Point):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzRender(f *testing.F) {
	for i, s := range legacyStories {
		if s.file == "legacy-030" {
			continue // large; the benchmark's input
		}
		a := legacyArticle(f, i)
		f.Add(a.Title, a.URL, a.BodyHTML, a.Published.Unix())
	}
	f.Add(`He said: "hi" [x] *y* & &amp; ~~z~~ \`, "https://www.zaobao.com/a?b=c#d", `<p><strong>“两岸”</strong>是<img data-src="/a.jpg" src="data:,"></p>`, int64(1637227719))
	f.Add("标\x1b[31m题\ufffe\u0085", "https://www.zaobao.com/a", "<p>正\x01文&#x1b;[0m&#xFFFF;</p><img src=\"/a.jpg\" alt=\"\x07\">", int64(1637227719))
	f.Add("- a: #b\n\t{c}", "http://example.com/(x) y", `<figure><img srcset="/a.jpg 1x, /b.jpg 2x"><figcaption>c</figcaption></figure><iframe src="/v"></iframe>`, int64(-1))

	c := newConverter(f, converter.DefaultOptions())
	hugoOpts := converter.DefaultOptions()
	hugoOpts.Profile = converter.ProfileHugo
	hugoOpts.Extra = converter.ExtraFields
	hugoOpts.KeywordTags = true
	hugoOpts.Rewrites = []converter.Rewrite{zaobaoRewrite}
	hugo := newConverter(f, hugoOpts)
	sg := singapore(f)

	f.Fuzz(func(t *testing.T, title, u, body string, unixSec int64) {
		a := converter.Article{
			Title:     title,
			URL:       u,
			Site:      "联合早报",
			Published: time.Unix(unixSec, 0),
			BodyHTML:  body,
		}
		p, err := c.Render(a)
		if err != nil {
			if !errors.Is(err, converter.ErrNoTitle) && !errors.Is(err, converter.ErrNoURL) && !errors.Is(err, converter.ErrNoDate) {
				t.Fatalf("got error %v, want one of the Err* sentinels", err)
			}
			if errors.Is(err, converter.ErrNoTitle) && wantTitle(title) != "" {
				t.Fatalf("got %v for title %q", err, title)
			}
			return
		}
		if !utf8.Valid(p.Content) {
			t.Fatalf("got invalid UTF-8 in the post:\n%q", p.Content)
		}
		if i := bytes.IndexFunc(p.Content, forbidden); i >= 0 {
			t.Fatalf("got a control character at byte %d of the post:\n%q", i, p.Content)
		}
		if !bytes.HasPrefix(p.Content, []byte("---\n")) {
			t.Fatalf("got a post starting %q, want \"---\\n\"", head(p.Content))
		}
		parts := splitPost(t, p.Content)
		fm := parseFrontMatter(t, parts.frontMatter)
		want := wantTitle(title)
		if fm.Title != want {
			t.Errorf("got title %q, want %q", fm.Title, want)
		}
		if fm.Title == "" || strings.ContainsFunc(fm.Title, unicode.IsControl) {
			t.Errorf("got title %q, want it non-empty and free of control characters", fm.Title)
		}
		if text, _ := linkOf(t, parts); text != want {
			t.Errorf("got link text %q, want %q (line %q)", text, want, parts.link)
		}
		if fm.From != u {
			t.Errorf("got from %q, want %q", fm.From, u)
		}
		if !fm.Date.Equal(a.Published) {
			t.Errorf("got date %v, want %v", fm.Date, a.Published)
		}
		if want := fmt.Sprintf("<!--%d-->", a.Published.UnixMilli()); parts.marker != want {
			t.Errorf("got marker %q, want %q", parts.marker, want)
		}
		if again, err := c.Render(a); err != nil || !bytes.Equal(again.Content, p.Content) || again.Name != p.Name {
			t.Errorf("rendering twice gave a different post (error %v)", err)
		}
		checkFileName(t, p.Name, a.Published.In(sg), 50)

		a.Modified = a.Published.Add(time.Hour)
		a.Keywords = strings.Fields(title)
		a.Author = title
		a.Image = converter.Image{URL: body, Caption: title} // any string as an image URL
		hp, err := hugo.Render(a)
		if err != nil {
			t.Fatalf("hugo profile: got error %v, the jekyll profile had none", err)
		}
		if !utf8.Valid(hp.Content) {
			t.Fatalf("hugo profile: got invalid UTF-8 in the post:\n%q", hp.Content)
		}
		if i := bytes.IndexFunc(hp.Content, forbidden); i >= 0 {
			t.Fatalf("hugo profile: got a control character at byte %d of the post:\n%q", i, hp.Content)
		}
		parseFrontMatter(t, splitPost(t, hp.Content).frontMatter)
	})
}

func FuzzFileName(f *testing.F) {
	for _, s := range legacyStories {
		f.Add(s.title, int64(1637227719), 50)
	}
	f.Add("../../etc/passwd", int64(0), 8)
	f.Add(".\u200b. -x\n\"y\"", int64(-1), 80)
	f.Add(strings.Repeat("😀", 100), int64(1<<40), 80)
	sg := singapore(f)
	f.Fuzz(func(t *testing.T, title string, unixSec int64, maxRunes int) {
		// Options.Validate keeps the cut between 8 and 80 runes.
		maxRunes = 8 + (maxRunes%73+73)%73
		published := time.Unix(unixSec, 0)
		checkFileName(t, converter.FileName(title, published, sg, maxRunes), published.In(sg), maxRunes)
	})
}

// FuzzCleanText checks CleanText, whose fast path returns most fields
// uncopied, against wantTitle, worked out apart. (StripHidden's fast path
// is checked for every rune by TestFastPathsEveryRune.)
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "a", "a b", "a  b", " a", "a ", "新加坡 总理", "新加坡\u3000总理", "a\u200bb", "\xffa", "a\u00a0b", "a\tb", "\u202eevil", "x\ufdd0y", "done.", "a\u0085b", "\U0010fffe", "\x7f", "\ufeffBOM", "soft\u00adhyphen"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := converter.CleanText(s), wantTitle(s); got != want {
			t.Fatalf("CleanText(%q) = %q, want %q", s, got, want)
		}
	})
}
