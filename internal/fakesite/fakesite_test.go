package fakesite

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"go.yaml.in/yaml/v3"
)

func sites(t *testing.T) []*crawler.Site {
	t.Helper()
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Sites []crawler.SiteConfig `yaml:"sites"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	s, errs := crawler.CompileSites("sites", cfg.Sites)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return s
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestArticlesExtract: the pages the fake site serves are extracted by the
// real zaobao rules to the stories it was given, noise-free and in order.
func TestArticlesExtract(t *testing.T) {
	stories := Stories(6, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	rules := sites(t)
	for _, st := range stories {
		_, page := get(t, s.StoryURL(st))
		a, err := crawler.Extract([]byte(page), "https://www.zaobao.com"+st.Path(), rules)
		if err != nil {
			t.Fatalf("%s: %v", st.Path(), err)
		}
		if a.Title != st.Title || !a.Published.Equal(st.Published) || a.StoryID == "" {
			t.Errorf("%s (%s): got %q %v %q", st.Path(), st.Layout, a.Title, a.Published, a.StoryID)
		}
		last := -1
		for _, p := range st.Paragraphs {
			i := strings.Index(a.BodyHTML, p)
			if i <= last {
				t.Errorf("%s (%s): paragraph %q missing or out of order", st.Path(), st.Layout, p)
			}
			last = i
		}
		for _, bad := range []string{"googletag", "推荐阅读", "dfp-ad", "\u200b", "分享"} {
			if strings.Contains(a.BodyHTML, bad) {
				t.Errorf("%s: body has noise %q", st.Path(), bad)
			}
		}
	}
}

func TestFeedConditionalGet(t *testing.T) {
	stories := Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	resp, body := get(t, s.FeedURL("china"))
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || strings.Count(body, "<item>") != 2 {
		t.Fatalf("feed: got %d, etag %q, %d items", resp.StatusCode, etag, strings.Count(body, "<item>"))
	}
	if !strings.Contains(body, "<link>"+s.StoryURL(stories[4])+"</link>") {
		t.Errorf("feed does not link the real site's URL of its stories")
	}
	if resp, _ := get(t, s.FeedURL("china"), "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: got %d, want 304", resp.StatusCode)
	}
	s.SetStories(Stories(12, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	if resp, _ := get(t, s.FeedURL("china"), "If-None-Match", etag); resp.StatusCode != http.StatusOK {
		t.Errorf("after new stories: got %d, want 200", resp.StatusCode)
	}
	if s.Hits("/rsshub/zaobao/realtime/china") != 3 {
		t.Errorf("hits: got %d, want 3", s.Hits("/rsshub/zaobao/realtime/china"))
	}
}

func TestListings(t *testing.T) {
	stories := Stories(8, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	s := New(stories)
	defer s.Close()
	_, page := get(t, s.ListingURL("world"))
	if !strings.Contains(page, `data-testid="article-list"`) || !strings.Contains(page, stories[1].Path()) {
		t.Errorf("listing lacks its stories")
	}
	_, js := get(t, s.JSONListingURL("world"))
	if !strings.Contains(js, `"href":"`+stories[5].Path()+`"`) {
		t.Errorf("JSON listing lacks its stories: %s", js)
	}
}

func TestFaults(t *testing.T) {
	st := Stories(1, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[0]
	s := New([]Story{st})
	defer s.Close()
	s.Fail(st.Path(), Fault{Status: 429, RetryAfter: "2"}, Fault{Status: 503}, Fault{Truncate: true}, Fault{Oversize: 200000}, Fault{Redirect: st.Path()})

	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("429: got %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 503 {
		t.Errorf("503: got %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, s.StoryURL(st), nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated: got %v, want unexpected EOF", err)
	}
	if _, body := get(t, s.StoryURL(st)); len(body) < 200000 {
		t.Errorf("oversize: got %d bytes", len(body))
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != http.StatusFound {
		t.Errorf("redirect: got %d", resp.StatusCode)
	}
	if resp, _ := get(t, s.StoryURL(st)); resp.StatusCode != 200 {
		t.Errorf("after the faults: got %d, want 200", resp.StatusCode)
	}
}

func TestConcurrencyRecorded(t *testing.T) {
	st := Stories(1, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))[0]
	s := New([]Story{st})
	defer s.Close()
	for range 4 {
		s.Fail(st.Path(), Fault{Delay: 50 * time.Millisecond})
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { get(t, s.StoryURL(st)) })
	}
	wg.Wait()
	if got := s.MaxInFlight(); got < 2 {
		t.Errorf("max in flight: got %d, want at least 2 for 4 parallel slow requests", got)
	}
	if got := len(s.Requests()); got != 4 {
		t.Errorf("requests: got %d, want 4", got)
	}
}
