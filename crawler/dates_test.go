package crawler

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
)

// TestUndatedPage: a page with a body and no date anywhere (not in its
// data, its text, its URL) is written, dated by the feed item's date; by
// the page's Last-Modified without a feed item; and by the fetch time
// without either. The post says where its date came from.
func TestUndatedPage(t *testing.T) {
	page := `<html><head><title>一篇没有日期的文章</title></head><body><h1>一篇没有日期的文章</h1><div class="story"><p>` +
		strings.Repeat("这是一段足够长的正文，讲述了一件事情的来龙去脉。", 30) + `</p><p>` +
		strings.Repeat("第二段同样没有任何日期，只有文字。", 30) + `</p></div></body></html>`
	var lastModified string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		if lastModified != "" {
			w.Header().Set("Last-Modified", lastModified)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	r, mem, now, srv := testRunner(t, mux)
	r.dep.Fetcher.SetBaseTransport(rewriteTransport{to: srv.URL, base: http.DefaultTransport})
	opts := converter.DefaultOptions()
	opts.Extra = []string{"date_source"}
	conv, err := converter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.dep.Converter = conv
	feedDate := time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name, path   string
		item         time.Time
		lastModified string
		wantDate     string
		wantSource   string
	}{
		{"feed item", "/news/undated-a", feedDate, "Wed, 28 Feb 2024 10:00:00 GMT", "date: 2024-03-01T07:30:00+08:00", "date_source: feed"},
		{"last-modified", "/news/undated-b", time.Time{}, "Wed, 28 Feb 2024 10:00:00 GMT", "date: 2024-02-28T18:00:00+08:00", "date_source: last-modified"},
		{"fetch time", "/news/undated-c", time.Time{}, "", "date: " + now.In(opts.Location).Format("2006-01-02T15:04:05-07:00"), "date_source: fetched"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lastModified = tc.lastModified
			u := "https://www.zaobao.com" + tc.path
			sum, err := r.Process(t.Context(), []feed.Item{{URL: u, Published: tc.item}}, false)
			if err != nil || sum.Written != 1 {
				t.Fatalf("got %v, %v; want one post written (failures: %v)", sum, err, mem.state)
			}
			post := mem.posts[u]
			if !strings.Contains(post, tc.wantDate) || !strings.Contains(post, tc.wantSource) {
				t.Errorf("post front matter:\n%.400s\nwant %q and %q", post, tc.wantDate, tc.wantSource)
			}
		})
	}
}
