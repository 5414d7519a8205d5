package converter_test

import (
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
)

// TestFeedCopyMarker: a post written from the feed's copy says so, in a
// key that does not take the place of the story's URL, and import still
// reads the URL back.
func TestFeedCopyMarker(t *testing.T) {
	for _, c := range []struct {
		profile, marker string
	}{
		{converter.ProfileJekyll, "\nsource: feed\n"},
		{converter.ProfileHugo, "\nbody_source: feed\n"},
	} {
		opts := converter.DefaultOptions()
		opts.Profile = c.profile
		conv, err := converter.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		a := testArticle()
		page, err := conv.Render(a)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(page.Content), c.marker) {
			t.Errorf("%s: a post from the page carries %q", c.profile, c.marker)
		}
		a.FromFeed = true
		post, err := conv.Render(a)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(post.Content), c.marker) {
			t.Errorf("%s: no %q in\n%s", c.profile, c.marker, post.Content)
		}
		info, err := converter.ReadPost(post.Content)
		if err != nil || info.Source != a.URL {
			t.Errorf("%s: ReadPost: source %q, %v; want %s", c.profile, info.Source, err, a.URL)
		}
	}
	// The old script's broken YAML is read line by line: a source: feed
	// line never takes the place of from:.
	broken := "---\ntitle: a: b: c\nsource: feed\nfrom: https://www.zaobao.com/realtime/china/story20240301-1\n---\n<!--1-->\n"
	if info, err := converter.ReadPost([]byte(broken)); err != nil || info.Source != "https://www.zaobao.com/realtime/china/story20240301-1" {
		t.Errorf("lenient ReadPost: source %q, %v", info.Source, err)
	}
}
