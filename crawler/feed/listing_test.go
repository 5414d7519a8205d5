package feed

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/internal/httpurl"
	"github.com/newsmd/newsmd/internal/config"
)

// listingSelectors are the story link selectors of zaobao's listing
// layouts over the years, as the default config carries them.
var listingSelectors = []string{
	".article-list .article-type a",
	".post-list .row.list a",
	".on-listing-pages a",
	".card-listing .card .content-header a",
	`[data-testid="article-list"] article a`,
}

const listingJSONURL = "https://www.zaobao.com.sg/_plat/api/v2/page-content/realtime/china?page=1"

func listingFeeds(t testing.TB) (html, json *Feed) {
	t.Helper()
	feeds, errs := Compile("feeds", []config.Feed{
		{Name: "china-page", Type: TypeListing, URL: "https://www.zaobao.com.sg/realtime/china", Links: listingSelectors},
		{Name: "china-json", Type: TypeJSONListing, URL: listingJSONURL},
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	return feeds[0], feeds[1]
}

func TestParseListing(t *testing.T) {
	page, api := listingFeeds(t)
	type want struct {
		url, title string
		published  time.Time
	}
	tests := []struct {
		file, pageURL string
		feed          *Feed
		want          []want
	}{
		{
			// Drupal era: image link and title link per story (one item),
			// a "load more" javascript: link and an ad slot in the list,
			// popular stories in the sidebar (not matched).
			file: "listing-2020-article-list.html", pageURL: "https://www.zaobao.com.sg/realtime/china", feed: page,
			want: []want{
				{url: "https://www.zaobao.com.sg/realtime/china/story20200722-1071089", title: "柯文哲和龚正在台北上海双城论坛均提“两岸一家亲”"},
				{url: "https://www.zaobao.com.sg/realtime/china/story20200725-1071871", title: "【图集】休斯顿中国领馆降旗 据报美人员已破门而入"},
				{url: "https://www.zaobao.com.sg/realtime/china/story20200726-1072090?ref=listing-china", title: `中国自研大型水陆两栖飞机"鲲龙"AG600海上首飞成功`},
				{url: "https://www.zaobao.com.sg/realtime/china/story20200727-1072428", title: "长江上游今年最大洪水过境重庆 朝天门180平台被淹"},
				{url: "https://www.zaobao.com.sg/realtime/china/story20200729-1072884", title: "中国外交部就美国针对关闭驻休斯敦领馆的一些指控发文澄清"},
			},
		},
		{
			// Card era: a story repeated further down is listed once, in
			// its first place; tag links in card bodies are not stories.
			file: "listing-2021-card-listing.html", pageURL: "https://www.zaobao.com.sg/realtime/china", feed: page,
			want: []want{
				{url: "https://www.zaobao.com.sg/realtime/china/story20201015-1092971", title: "《人民日报》刊告台湾情治部门书 警告“勿谓言之不预也”"},
				{url: "https://www.zaobao.com.sg/realtime/china/story20201024-1095410", title: "中俄建军事联盟? 普京：目前没必要但不排除未来可能性"},
				{url: "https://www.zaobao.com.sg/realtime/china/story20201027-1096197", title: `法广被指在台"用北京腔播新闻""扬中贬台" 被当局喊停`},
				{url: "https://www.zaobao.com.sg/realtime/china/story20201029-1096672", title: "【视频】中国大使大展歌艺 学者：摆脱僵化形象"},
			},
		},
		{
			// HK layout; a picture-only link takes its title from the alt.
			file: "listing-hk-article-list.html", pageURL: "https://www.zaobao.com/realtime/china", feed: page,
			want: []want{
				{url: "https://www.zaobao.com/realtime/china/story20231201-1453511", title: "中国今年前10个月服务进出口同比增长8.7%"},
				{url: "https://www.zaobao.com/realtime/china/story20231201-1453616", title: "下午察：地产寒冬下，王思聪要接班万达？"},
				{url: "https://www.zaobao.com/realtime/china/story20240301-1471393", title: "中国足协建立裁判员“黑名单”制度并设举报平台"},
			},
		},
		{
			// Seconds as a number and as a string, milliseconds, a
			// duplicate, an entry without href, one without timestamp.
			file: "listing-realtime-china.json", pageURL: listingJSONURL, feed: api,
			want: []want{
				{url: "https://www.zaobao.com.sg/realtime/china/story20240301-1471389", title: "中国去年招收硕士生逾114万人 同比增4.07%", published: time.Date(2024, 3, 1, 11, 4, 0, 0, time.UTC)},
				{url: "https://www.zaobao.com.sg/realtime/china/story20240301-1471393", title: "中国足协建立裁判员“黑名单”制度并设举报平台", published: time.Date(2024, 3, 1, 6, 7, 0, 0, time.UTC)},
				{url: "https://www.zaobao.com.sg/realtime/china/story20231201-1453616", title: "下午察：地产寒冬下， 王思聪要接班万达？", published: time.Date(2023, 12, 1, 12, 42, 4, 0, time.UTC)},
				{url: "https://www.zaobao.com.sg/realtime/china/story20240229-1471200", title: "没有时间"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			items, err := ParseListing(feedRead(t, tt.file), tt.pageURL, tt.feed)
			if err != nil {
				t.Fatalf("ParseListing: %v", err)
			}
			if len(items) != len(tt.want) {
				t.Fatalf("got %d items, want %d: %+v", len(items), len(tt.want), items)
			}
			for i, w := range tt.want {
				got := items[i]
				feedCheckItem(t, got)
				if got.URL != w.url {
					t.Errorf("item %d URL: got %q, want %q", i, got.URL, w.url)
				}
				if got.Title != w.title {
					t.Errorf("item %d Title: got %q, want %q", i, got.Title, w.title)
				}
				if !got.Published.Equal(w.published) {
					t.Errorf("item %d Published: got %s, want %s", i, got.Published, w.published)
				}
				if got.Source != tt.pageURL {
					t.Errorf("item %d Source: got %q, want %q", i, got.Source, tt.pageURL)
				}
			}
		})
	}
}

func TestParseListingJSONEmptyPage(t *testing.T) {
	_, api := listingFeeds(t)
	items, err := ParseListing([]byte(`{"response":{"articles":[]}}`), listingJSONURL, api)
	if err != nil || len(items) != 0 {
		t.Errorf("got %d items, %v; want none and no error", len(items), err)
	}
}

// TestParseListingErrors: a listing that yields nothing says so, naming the
// page, rather than passing for a quiet news day.
func TestParseListingErrors(t *testing.T) {
	page, api := listingFeeds(t)
	rss, errs := Compile("feeds", []config.Feed{{Name: "rss", URL: "https://rsshub.app/zaobao/realtime/china"}})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	const pageURL = "https://www.zaobao.com.sg/realtime/china"
	tests := []struct {
		name    string
		body    []byte
		pageURL string
		feed    *Feed
		wantErr error
	}{
		{"new layout", feedRead(t, "listing-2024-nomatch.html"), pageURL, page, ErrNoStoryLinks},
		{"error page", feedRead(t, "error-page.html"), pageURL, page, ErrNoStoryLinks},
		{"empty body", nil, pageURL, page, ErrNoStoryLinks},
		{"only javascript links", []byte(`<div class="article-list"><div class="article-type"><a href="javascript:void(0)">更多</a></div></div>`), pageURL, page, ErrNoStoryLinks},
		{"JSON shape changed", feedRead(t, "listing-json-changed.json"), listingJSONURL, api, ErrNoStoryLinks},
		{"JSON is an HTML page", feedRead(t, "error-page.html"), listingJSONURL, api, ErrNoStoryLinks},
		{"JSON truncated", feedRead(t, "listing-realtime-china.json")[:300], listingJSONURL, api, ErrNoStoryLinks},
		{"JSON without usable links", []byte(`{"response":{"articles":[{"title":"x","href":"javascript:x()"}]}}`), listingJSONURL, api, ErrNoStoryLinks},
		{"relative page URL", feedRead(t, "listing-hk-article-list.html"), "/realtime/china", page, httpurl.ErrBadURL},
		{"rss feed", feedRead(t, "listing-hk-article-list.html"), pageURL, rss[0], nil},
		{"no feed", feedRead(t, "listing-hk-article-list.html"), pageURL, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ParseListing(tt.body, tt.pageURL, tt.feed)
			if err == nil {
				t.Fatalf("got %d items and no error, want an error", len(items))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.pageURL) {
				t.Errorf("error %q does not name the page %s", err, tt.pageURL)
			}
		})
	}
}

// FuzzParseListing: no panic; items have absolute http(s) URLs and valid
// UTF-8, and no URL twice.
func FuzzParseListing(f *testing.F) {
	files, _ := filepath.Glob("testdata/listing-*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(p, ".json"))
	}
	f.Add([]byte(`<div data-testid="article-list"><article><a href="//x.example/a">a</a><a href="http://[::1">b</a></article></div>`), false)
	f.Add([]byte(`{"response":{"articles":[{"href":"../a","timestamp":1e300},{"href":"/b","timestamp":"-5"}]}}`), true)
	page, api := listingFeeds(f)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		feed, pageURL := page, "https://www.zaobao.com.sg/realtime/china"
		if isJSON {
			feed, pageURL = api, listingJSONURL
		}
		items, err := ParseListing(body, pageURL, feed)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, it := range items {
			feedCheckItem(t, it)
			if seen[it.URL] {
				t.Errorf("URL %s listed twice", it.URL)
			}
			seen[it.URL] = true
		}
	})
}
