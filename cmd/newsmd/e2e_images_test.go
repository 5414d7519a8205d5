package main

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// imageStories is how many stories the image tests crawl: 4 of them
// paywalled, 11 of each image count.
const imageStories = 44

// TestOnceImagesEndToEnd: once, with the shipped zaobao rules, archives
// the SG 2025 hydration pages with every image of the story and every
// caption once, the lead on top, the body's images where the body shows
// them, and a paywalled story marked truncated (issue 10: 43 of 400 posts
// lost images when the layout kept only images[0]). Without the layout's
// images: rule, the same checks find posts that lack images.
func TestOnceImagesEndToEnd(t *testing.T) {
	stories := fakesite.ImageStories(imageStories, time.Date(2025, 11, 18, 1, 0, 0, 0, time.UTC))

	t.Run("shipped rules", func(t *testing.T) {
		out, problems := onceImages(t, stories, nil)
		for _, p := range problems {
			t.Error(p)
		}
		if want := fmt.Sprintf("; layouts: sg-hydration=%d\n", imageStories); !strings.HasSuffix(out, want) {
			t.Errorf("summary %q: want it to end %q", out, want)
		}
	})

	t.Run("without the images rule", func(t *testing.T) {
		_, problems := onceImages(t, stories, func(l *config.Layout) { l.Images = nil })
		missing := 0
		for _, p := range problems {
			if strings.Contains(p, "image missing") {
				missing++
			}
		}
		if missing == 0 {
			t.Fatalf("no post found missing an image with the hydration layout's images: rule removed; problems: %q", problems)
		}
		t.Logf("without the images rule: %d problems, %d of them a missing image, as expected; first: %s", len(problems), missing, problems[0])
	})
}

// onceImages runs once over a fake site serving stories, with the
// shipped rules (the sg-hydration layout changed by edit, when not nil)
// and the default output.extra (truncated) plus story_id, and returns the
// summary line and what checkImagePost found wrong in the posts.
func onceImages(t *testing.T, stories []fakesite.Story, edit func(*config.Layout)) (summary string, problems []string) {
	t.Helper()
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	var c config.Config
	readYAMLConfig(t, e2eConfig(t, site, dir), &c)
	c.Output.Extra = []string{"story_id", "truncated"}
	if edit != nil {
		i := slices.IndexFunc(c.Sites[0].Layouts, func(l config.Layout) bool { return l.Name == "sg-hydration" })
		if i < 0 {
			t.Fatal("the shipped zaobao rules have no sg-hydration layout")
		}
		edit(&c.Sites[0].Layouts[i])
	}
	cfg := writeYAMLConfig(t, &c, dir)

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out, errOut)
	}
	ps := posts(t, dir)
	byID := map[string]string{}
	for name, p := range ps {
		info, err := converter.ReadPost([]byte(p))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byID[info.StoryID] = p
	}
	if len(ps) != len(stories) || len(byID) != len(stories) {
		t.Fatalf("got %d posts of %d stories, want %d each: %s", len(ps), len(byID), len(stories), out)
	}
	for _, st := range stories {
		p, ok := byID[fmt.Sprint(st.ID)]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no post", st.Path()))
			continue
		}
		problems = append(problems, checkImagePost(st, p)...)
	}
	return out, problems
}

// markdownImage is a Markdown image: ![alt](url "title").
var markdownImage = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]*)[^)]*\)`)

// fileOf is the file part of an image URL, which the image_rewrites keep
// (they change the host, the directory and the query).
func fileOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return path.Base(p.Path)
}

// checkImagePost lists what is wrong in the post p of story st: an image
// of the story missing, shown twice or not rewritten, an image the story
// has not, the lead not first, a body image out of its place among the
// paragraphs, another image before the end of the text, a caption missing,
// shown twice or not right after its image, a paragraph missing or out of order, text past a
// paywall, a truncated key where it does not belong or missing where it
// does.
func checkImagePost(st fakesite.Story, p string) []string {
	var bad []string
	fail := func(format string, args ...any) {
		bad = append(bad, st.Path()+": "+fmt.Sprintf(format, args...))
	}
	fm, body, ok := strings.Cut(strings.TrimPrefix(p, "---\n"), "\n---\n")
	if !ok {
		fail("no front matter")
		return bad
	}
	truncated := slices.ContainsFunc(strings.Split(fm, "\n"), func(l string) bool { return strings.HasPrefix(l, "truncated:") })
	switch {
	case st.Paywalled && !strings.Contains("\n"+fm+"\n", "\ntruncated: true\n"):
		fail("paywalled, but the front matter does not say truncated: true:\n%s", fm)
	case !st.Paywalled && truncated:
		fail("whole, but the front matter has a truncated key:\n%s", fm)
	}

	// Where each image of the post is, by file.
	at := map[string][]int{}
	var order []string
	for _, m := range markdownImage.FindAllStringSubmatchIndex(body, -1) {
		u := body[m[2]:m[3]]
		f := fileOf(u)
		at[f] = append(at[f], m[0])
		order = append(order, f)
		if strings.Contains(u, "zaobao.com.sg/s3/files/") {
			fail("image %s not rewritten to static.zaobao.com", u)
		}
	}
	want := map[string]bool{}
	for _, im := range st.Images {
		f := fileOf(im.URL)
		want[f] = true
		if n := len(at[f]); n != 1 {
			if n == 0 {
				fail("image missing: %s (caption %q)", im.URL, im.Caption)
			} else {
				fail("image %s shown %d times, want once", im.URL, n)
			}
		}
	}
	for f := range at {
		if !want[f] {
			fail("image %s is not one of the story's", f)
		}
	}
	if len(order) > 0 && order[0] != fileOf(st.Images[0].URL) {
		fail("first image %s, want the lead %s", order[0], fileOf(st.Images[0].URL))
	}

	// The text: every shown paragraph once, in order; none past a paywall.
	text := markdownImage.ReplaceAllString(body, "")
	shown := st.Shown()
	pos := make([]int, len(shown))
	for i, para := range shown {
		pos[i] = strings.Index(body, para)
		switch {
		case strings.Count(text, para) != 1:
			fail("paragraph %d shown %d times, want once", i+1, strings.Count(text, para))
		case i > 0 && pos[i] < pos[i-1]:
			fail("paragraph %d before paragraph %d", i+1, i)
		}
	}
	for i, para := range st.Paragraphs[len(shown):] {
		if strings.Contains(text, para) {
			fail("paragraph %d is past the paywall, but the post has it", len(shown)+i+1)
		}
	}
	for j, im := range st.Images {
		if im.Caption == "" {
			continue
		}
		// Once as a caption; the story's own paragraphs may quote it.
		quoted := strings.Count(strings.Join(shown, "\n"), im.Caption)
		if n := strings.Count(text, im.Caption) - quoted; n != 1 {
			fail("caption %q shown %d times as a caption, want once", im.Caption, n)
		}
		// The fake pages show no caption apart from its image: it
		// follows the image, in italics.
		if where := at[fileOf(im.URL)]; len(where) == 1 {
			next := body[where[0]:]
			if m := markdownImage.FindStringIndex(next); m != nil {
				next = strings.TrimSpace(next[m[1]:])
			}
			if !strings.HasPrefix(next, "*"+im.Caption+"*") {
				fail("image %d is not followed by its caption %q", j+1, im.Caption)
			}
		}
	}

	// Body images stay between the paragraphs around them; the others,
	// but the lead, come after the text.
	for j, im := range st.Images[1:] {
		where := at[fileOf(im.URL)]
		if len(where) != 1 {
			continue // already reported
		}
		i := where[0]
		// A missing paragraph (at -1) is already reported.
		switch {
		case !st.InBody(im):
			if last := pos[len(pos)-1]; i < last {
				fail("image %d (only in images[]) is before the end of the text", j+2)
			}
		case i < pos[im.After-1]:
			fail("image %d is before paragraph %d, want after it", j+2, im.After)
		case im.After < len(pos) && pos[im.After] >= 0 && i > pos[im.After]:
			fail("image %d is after paragraph %d, want before it", j+2, im.After+1)
		}
	}
	return bad
}

// TestOnceImagesCaptionInParagraph: an image keeps its caption when the
// caption's words also occur inside a paragraph (a story that quotes the
// caption's sentence): the paragraph is not the caption.
func TestOnceImagesCaptionInParagraph(t *testing.T) {
	stories := fakesite.ImageStories(2, time.Date(2025, 11, 18, 1, 0, 0, 0, time.UTC))
	st := &stories[1] // two images: the lead, and one only in images[]
	st.Images[1].After = 0
	st.Images[1].Caption = "植田和男出席记者会。"
	st.Paragraphs[2] = "第2则图片新闻的第3段。植田和男出席记者会。他说央行没有预设立场。"
	_, problems := onceImages(t, stories, nil)
	for _, p := range problems {
		t.Error(p)
	}
}
