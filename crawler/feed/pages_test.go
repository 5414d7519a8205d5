package feed

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
)

func TestFeedURLsAndPages(t *testing.T) {
	const (
		api  = "https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page={page}"
		news = "https://www.zaobao.com.sg/news/china"
	)
	tests := []struct {
		name      string
		cfg       config.Feed
		wantURLs  []string
		wantPages map[string][]string
	}{
		{
			name:      "url alone, one page",
			cfg:       config.Feed{Name: "a", Type: TypeRSS, URL: "https://rsshub.app/zaobao/realtime/china"},
			wantURLs:  []string{"https://rsshub.app/zaobao/realtime/china"},
			wantPages: map[string][]string{"https://rsshub.app/zaobao/realtime/china": {"https://rsshub.app/zaobao/realtime/china"}},
		},
		{
			name:     "url then urls, placeholder and query parameter",
			cfg:      config.Feed{Name: "b", Type: TypeListing, URL: api, URLs: []string{news}, Pages: 3, Links: []string{"a"}},
			wantURLs: []string{api, news},
			wantPages: map[string][]string{
				api: {
					"https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page=0",
					"https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page=1",
					"https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page=2",
				},
				news: {news, news + "?page=1", news + "?page=2"},
			},
		},
		{
			name:     "page=1 written: the later pages count on from it",
			cfg:      config.Feed{Name: "d", Type: TypeJSONListing, URL: "https://x.example/list?page=1", Pages: 3},
			wantURLs: []string{"https://x.example/list?page=1"},
			wantPages: map[string][]string{
				"https://x.example/list?page=1": {"https://x.example/list?page=1", "https://x.example/list?page=2", "https://x.example/list?page=3"},
			},
		},
		{
			name:     "urls alone; page=0 written is the first page",
			cfg:      config.Feed{Name: "c", Type: TypeJSONListing, URLs: []string{"https://x.example/list?ref=a&page=0"}, Pages: 2},
			wantURLs: []string{"https://x.example/list?ref=a&page=0"},
			wantPages: map[string][]string{
				"https://x.example/list?ref=a&page=0": {"https://x.example/list?ref=a&page=0", "https://x.example/list?page=1&ref=a"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, errs := Compile("feeds", []config.Feed{tt.cfg})
			if len(errs) > 0 {
				t.Fatalf("got errors %v, want none", errs)
			}
			f := feeds[0]
			if !slices.Equal(f.URLs(), tt.wantURLs) || f.URL() != tt.wantURLs[0] {
				t.Errorf("URLs: got %q (URL %q), want %q", f.URLs(), f.URL(), tt.wantURLs)
			}
			for u, want := range tt.wantPages {
				if got := f.PageURLs(u); !slices.Equal(got, want) {
					t.Errorf("PageURLs(%s):\ngot  %q\nwant %q", u, got, want)
				}
			}
		})
	}
}

func TestCompileURLsAndPagesErrors(t *testing.T) {
	bad := []config.Feed{
		{Name: "rss-pages", URL: "https://rsshub.app/a", Pages: 2},
		{Name: "too-many", Type: TypeJSONListing, URL: "https://x.example/a?page={page}", Pages: 11},
		{Name: "not-a-number", Type: TypeJSONListing, URL: "https://x.example/b?page=last", Pages: 2},
		{Name: "bad-fallback", Type: TypeJSONListing, URL: "https://x.example/c", URLs: []string{"", "x.example/d", "https://x.example/c"}},
		{Name: "rss-placeholder", URLs: []string{"https://rsshub.app/b?page={page}"}},
		{Name: "none", Type: TypeJSONListing},
	}
	_, errs := Compile("feeds", bad)
	wantPaths := []string{
		"feeds[0].pages",
		"feeds[1].pages",
		"feeds[2].url",
		"feeds[3].urls[0]", "feeds[3].urls[1]", "feeds[3].urls[2]",
		"feeds[4].urls[0]",
		"feeds[5].url",
	}
	var got []string
	for _, err := range errs {
		var fe *config.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *config.FieldError", err)
		}
		got = append(got, fe.Path)
	}
	if fmt.Sprint(got) != fmt.Sprint(wantPaths) {
		t.Errorf("error paths:\ngot  %v\nwant %v\nerrors: %v", got, wantPaths, errs)
	}
}

func TestMerge(t *testing.T) {
	t1 := time.Date(2026, 7, 29, 8, 0, 0, 0, time.UTC)
	page0 := []Item{{URL: "https://x.example/s1", Title: "one"}, {URL: "https://x.example/s2"}}
	page1 := []Item{{URL: "https://x.example/s2", Title: "two", Published: t1}, {URL: "https://x.example/s3", Title: "three"}}
	page2 := []Item{{URL: "https://x.example/s1", Title: "one again"}, {URL: "https://x.example/s4", Title: "four"}}
	got := Merge(page0, nil, page1, page2)
	want := []Item{
		{URL: "https://x.example/s1", Title: "one"},
		{URL: "https://x.example/s2", Title: "two", Published: t1},
		{URL: "https://x.example/s3", Title: "three"},
		{URL: "https://x.example/s4", Title: "four"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// TestListingReadsJSON: a feed of type listing reads a JSON answer as the
// JSON listing, and an HTML one with its selectors.
func TestListingReadsJSON(t *testing.T) {
	feeds, errs := Compile("feeds", []config.Feed{{Name: "both", Type: TypeListing,
		URLs:  []string{"https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page={page}", "https://www.zaobao.com.sg/news/china"},
		Links: []string{`a[href*="/story"]`}}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f := feeds[0]
	json := "\ufeff\n {\"response\":{\"articles\":[{\"title\":\"甲\",\"href\":\"/realtime/china/story20260729-3100001\",\"timestamp\":1785283200}]}}"
	items, _, err := f.Items([]byte(json), "https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page=0")
	if err != nil || len(items) != 1 || items[0].URL != "https://www.zaobao.com.sg/realtime/china/story20260729-3100001" || items[0].Published.IsZero() {
		t.Errorf("JSON answer: got %v, %v", items, err)
	}
	page := `<html><body><a href="/news/china/story20260729-3100002">乙</a></body></html>`
	items, _, err = f.Items([]byte(page), "https://www.zaobao.com.sg/news/china")
	if err != nil || len(items) != 1 || items[0].URL != "https://www.zaobao.com.sg/news/china/story20260729-3100002" || items[0].Title != "乙" {
		t.Errorf("HTML answer: got %v, %v", items, err)
	}
}
