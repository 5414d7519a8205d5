package converter_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
)

// TestReadPostLegacy reads every post of the existing archive (shared with
// the crawler's round-trip test), including the one with invalid YAML and
// the ones whose marker is NaN.
func TestReadPostLegacy(t *testing.T) {
	files, _ := filepath.Glob("../crawler/site/testdata/legacy/*.md")
	if len(files) != 60 {
		t.Fatalf("got %d legacy posts, want 60", len(files))
	}
	lenient := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := converter.ReadPost(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !strings.HasPrefix(info.Source, "https://www.zaobao.com/realtime/") || info.Title == "" || info.Date.IsZero() {
			t.Errorf("%s: got %+v", f, info)
		}
		if info.Lenient {
			lenient++
		}
	}
	if lenient != 1 {
		t.Errorf("lenient reads: got %d, want 1 (post 003)", lenient)
	}
	data, _ := os.ReadFile("../crawler/site/testdata/legacy/003.md")
	info, _ := converter.ReadPost(data)
	if info.Title != `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功` {
		t.Errorf("003 title: got %q", info.Title)
	}
}

// TestReadPostRoundTrip: what Render writes, ReadPost reads back.
func TestReadPostRoundTrip(t *testing.T) {
	a := converter.Article{
		Title: `标题: "引号" #1`, URL: "https://www.zaobao.com/realtime/china/story20240301-1471393",
		Site: "联合早报", StoryID: "1471393",
		Published: time.Date(2024, 3, 1, 6, 7, 0, 0, time.UTC), BodyHTML: "<p>正文</p>",
	}
	for _, profile := range []string{converter.ProfileJekyll, converter.ProfileHugo} {
		o := converter.DefaultOptions()
		o.Profile = profile
		o.Extra = []string{"story_id"}
		c, err := converter.New(o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Render(a)
		if err != nil {
			t.Fatal(err)
		}
		info, err := converter.ReadPost(p.Content)
		if err != nil {
			t.Fatal(err)
		}
		if info.Source != a.URL || info.Title != a.Title || !info.Date.Equal(a.Published) || info.StoryID != "1471393" || info.Lenient {
			t.Errorf("%s: got %+v", profile, info)
		}
	}
}

func TestReadPostNotPosts(t *testing.T) {
	for name, data := range map[string]string{
		"empty":        "",
		"no front":     "# just markdown\n",
		"unclosed":     "---\ntitle: x\n",
		"no source":    "---\ntitle: x\n---\nbody\n",
		"binary":       "\x00\x01\x02",
		"garbage yaml": "---\n: : :\n[\n---\n",
	} {
		if _, err := converter.ReadPost([]byte(data)); !errors.Is(err, converter.ErrNotPost) {
			t.Errorf("%s: got %v, want ErrNotPost", name, err)
		}
	}
}

// FuzzReadPost: any bytes give a PostInfo or an error, never a panic.
func FuzzReadPost(f *testing.F) {
	files, _ := filepath.Glob("../crawler/site/testdata/legacy/00*.md")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := converter.ReadPost(data)
		if err == nil && info.Source == "" {
			t.Fatalf("no error but no source: %+v", info)
		}
	})
}
