package fakesite

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/site"
)

// TestImageStoriesExtract: the fake site's hydration pages are read by the
// real zaobao rules as the SG 2025 layout, with every image of the story
// and its caption, the paragraphs the page shows, and a paywalled story
// marked truncated.
func TestImageStoriesExtract(t *testing.T) {
	stories := ImageStories(20, time.Date(2025, 11, 18, 1, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	rules := sites(t)
	for _, st := range stories {
		_, page := get(t, s.StoryURL(st))
		a, err := site.Extract([]byte(page), "https://www.zaobao.com.sg"+st.Path(), rules)
		if err != nil {
			t.Fatalf("%s: %v", st.Path(), err)
		}
		if a.Extractor != "zaobao/sg-hydration" {
			t.Errorf("%s: extractor %q, want zaobao/sg-hydration", st.Path(), a.Extractor)
		}
		if a.Title != st.Title || !a.Published.Equal(st.Published) || a.Author != st.Author {
			t.Errorf("%s: got %q %v %q, want %q %v %q", st.Path(), a.Title, a.Published, a.Author, st.Title, st.Published, st.Author)
		}
		if a.Truncated != st.Paywalled {
			t.Errorf("%s: truncated %v, want %v", st.Path(), a.Truncated, st.Paywalled)
		}
		var got, want []string
		for _, im := range a.Images {
			got = append(got, im.URL+" "+im.Caption)
		}
		for _, im := range st.Images {
			want = append(want, im.URL+" "+im.Caption)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: images\ngot  %q\nwant %q", st.Path(), got, want)
		}
		body := a.HTML()
		for i, p := range st.Paragraphs {
			if shown := i < len(st.Shown()); strings.Contains(body, p) != shown {
				t.Errorf("%s: paragraph %d in the body: %v, want %v", st.Path(), i+1, !shown, shown)
			}
		}
		if strings.Contains(body, "推荐阅读") || strings.Contains(body, "别的新闻") {
			t.Errorf("%s: the body has the recommended articles", st.Path())
		}
	}
}

// TestImageStoriesVariety: the stories have what the end-to-end test of
// images needs: 1 to 4 images, body images of every markup, with and
// without a caption, at a resized URL, images only in images[], and
// paywalled stories; and the same call gives the same stories.
func TestImageStoriesVariety(t *testing.T) {
	start := time.Date(2025, 11, 18, 1, 0, 0, 0, time.UTC)
	stories := ImageStories(40, start)
	if !reflect.DeepEqual(stories, ImageStories(40, start)) {
		t.Fatal("ImageStories is not deterministic")
	}
	seen := map[string]int{}
	for i, st := range stories {
		seen[strings.Repeat("#", len(st.Images))+" images"]++
		if st.Paywalled != (i%10 == 9) {
			t.Errorf("story %d: paywalled %v", i, st.Paywalled)
		}
		if st.Paywalled {
			seen["paywalled"]++
		}
		for j, im := range st.Images {
			switch {
			case j == 0 && im.After != 0:
				t.Errorf("story %d: the lead is in the body", i)
			case j > 0 && im.After == 0:
				seen["not in body"]++
			case im.After > 0:
				seen["body "+im.Markup]++
				if !st.InBody(im) {
					seen["cut by the paywall"]++
				}
			}
			if im.Caption == "" {
				seen["no caption"]++
			}
			if im.BodyURL != "" {
				seen["resized"]++
			}
			if strings.Contains(im.URL, "zaobao.com.sg/s3/files/") {
				seen["s3"]++
			}
		}
	}
	for _, k := range []string{"# images", "## images", "### images", "#### images", "paywalled", "not in body", "body figure", "body figure-bare", "body img", "no caption", "resized", "s3", "cut by the paywall"} {
		if seen[k] == 0 {
			t.Errorf("no story has %s: %v", k, seen)
		}
	}
}
