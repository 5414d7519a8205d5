package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// otherSite is a news site that is not zaobao, as RFI's Chinese pages are
// built: a header with navigation, the story in <article> with ld+json
// metadata, a "related" list and a footer. newsmd has no layout for it:
// a config that names its host gets it through the generic extractor.
type otherSite struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

var otherStories = []struct{ path, title, date, lead string }{
	{"/cn/中国/20240301-北京两会开幕", "北京两会开幕 经济增长目标引关注", "2024-03-01T08:15:00+01:00", "第十四届全国人大二次会议周二在北京开幕，外界关注今年的经济增长目标。"},
	{"/cn/国际/20240302-欧盟新一轮制裁", "欧盟通过对俄新一轮制裁", "2024-03-02T10:40:00+01:00", "欧盟成员国周五批准对俄罗斯的第十三轮制裁，涉及近两百个实体和个人。"},
}

// undatedPath is a story of the site that prints no date anywhere.
const undatedPath = "/cn/法国/养老金改革辩论"

func newOtherSite(t *testing.T) *otherSite {
	t.Helper()
	s := &otherSite{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *otherSite) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	base := "http://" + r.Host
	if r.URL.Path == "/cn/rss" {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		var items strings.Builder
		for _, st := range otherStories {
			fmt.Fprintf(&items, "<item><title>%s</title><link>%s%s</link><pubDate>%s</pubDate></item>\n", st.title, base, st.path, st.date)
		}
		// An item on a host no site or feed names: out of scope.
		_, port, _ := net.SplitHostPort(r.Host)
		fmt.Fprintf(&items, "<item><title>广告</title><link>http://localhost:%s/ad</link></item>\n", port)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>RFI 中文</title><link>%s/cn/</link>%s</channel></rss>`, base, items.String())
		return
	}
	if r.URL.Path == undatedPath {
		// A story that prints no date anywhere, served with none.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, otherPage(base, undatedPath, "法国议会辩论养老金改革", "", otherStories[0].lead))
		return
	}
	for _, st := range otherStories {
		if r.URL.Path == st.path {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, otherPage(base, st.path, st.title, st.date, st.lead))
			return
		}
	}
	http.NotFound(w, r)
}

func (s *otherSite) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func otherPage(base, path, title, date, lead string) string {
	return `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>` + title + ` - RFI - 法国国际广播电台</title>
<meta property="og:title" content="` + title + `">
<meta property="og:site_name" content="RFI - 法国国际广播电台">
<meta property="og:url" content="` + base + path + `">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"` + title + `","datePublished":"` + date + `","author":{"@type":"Person","name":"法广"}}</script>
</head><body>
<header class="m-header"><nav><ul><li><a href="/cn/">首页</a></li><li><a href="/cn/中国/">中国</a></li><li><a href="/cn/国际/">国际</a></li><li><a href="/cn/视频/">视频</a></li></ul></nav></header>
<main><article class="t-content">
<h1 class="t-content__title">` + title + `</h1>
<p class="t-content__chapo">` + lead + `</p>
<div class="t-content__body">
<p>据现场记者报道，会议开幕式上，代表们听取了政府工作报告。报告回顾了过去一年的工作，并提出了今年的主要任务和目标，其中包括稳增长、扩内需和防风险等多个方面。</p>
<p>分析人士指出，在外部环境复杂多变的情况下，实现既定目标面临不少挑战。多位经济学家表示，房地产市场的调整和地方政府债务问题仍然是需要重点关注的领域。</p>
<p>另有观察人士认为，科技创新和产业升级将成为今后一段时间政策的重点，相关部门已经出台多项措施，鼓励企业加大研发投入，推动新兴产业发展。</p>
<p>会议预计将持续一周左右，期间代表们将分组审议各项报告和法律草案，并在闭幕会上进行表决。</p>
</div>
</article>
<aside class="m-related"><h2>相关新闻</h2><ul><li><a href="/cn/中国/20240229-a">两会前瞻：代表建议聚焦民生</a></li><li><a href="/cn/中国/20240228-b">人大常委会举行会议</a></li></ul></aside>
</main>
<footer class="m-footer"><p>© 2024 RFI 版权所有</p><a href="/cn/contact">联系我们</a></footer>
</body></html>`
}

// otherConfig is the config a user writes to add the site: two lines
// under sites, merged over the shipped sites (zaobao stays); the feeds
// are the site's own, replacing the shipped ones, which poll zaobao.
func otherConfig(t *testing.T, s *otherSite, dir string) string {
	t.Helper()
	host := strings.TrimPrefix(s.URL, "http://")
	cfg := fmt.Sprintf(`output:
  dir: %q
store:
  path: %q
fetch:
  delay: 0s
  retries: 0
  timeout: 2s
feeds: !replace
  - name: rfi-cn
    url: %q
sites:
  - name: rfi
    hosts: [%q]
`, filepath.Join(dir, "_posts"), filepath.Join(dir, "state.db"), s.URL+"/cn/rss", host)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkOtherPost checks the post of one of otherStories: written by the
// generic extractor under the site's name, which {site} makes the author
// and the tag, with the story's text and not the page's chrome.
func checkOtherPost(t *testing.T, name, post string) {
	t.Helper()
	for _, want := range []string{"author: rfi\n", "tags: [rfi]\n", "会议预计将持续一周左右"} {
		if !strings.Contains(post, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, post)
		}
	}
	for _, chrome := range []string{"版权所有", "联系我们"} {
		if strings.Contains(post, chrome) {
			t.Errorf("%s keeps the page's %q:\n%s", name, chrome, post)
		}
	}
}

// TestBackfillSiteWithoutLayouts: a site named in the config by its
// hosts alone is backfilled through the generic extractor; a host no
// site or feed names is refused with what to add, and never fetched.
func TestBackfillSiteWithoutLayouts(t *testing.T) {
	s := newOtherSite(t)
	dir := t.TempDir()
	cfg := otherConfig(t, s, dir)
	port := strings.TrimPrefix(s.URL, "http://127.0.0.1:")
	st := otherStories[0]
	unnamed := "http://localhost:" + port + otherStories[1].path
	list := filepath.Join(dir, "urls.txt")
	os.WriteFile(list, []byte(s.URL+st.path+"\n"+unnamed+"\n"), 0o644)

	code, out, errOut := run1(t, "backfill", "--config", cfg, "--file", list)
	if code != 1 || !strings.Contains(out, "1 written") {
		t.Errorf("backfill: exit %d, want 1 (a line refused), and 1 written\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"line 2: " + unnamed + ": no site or feed names host localhost: add a sites entry with it",
		"hint: to fetch them, add to the config file",
		"  - name: localhost\n    hosts: [\"localhost:" + port + "\"]",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := s.hitsOf(otherStories[1].path); n != 0 {
		t.Errorf("the refused URL was fetched %d times, want 0", n)
	}
	ps := posts(t, dir)
	if len(ps) != 1 {
		t.Fatalf("got %d posts, want 1", len(ps))
	}
	for name, post := range ps {
		checkOtherPost(t, name, post)
		// The site's canonical URL: https (its default), the request's host.
		canonical := (&url.URL{Scheme: "https", Host: strings.TrimPrefix(s.URL, "http://"), Path: st.path}).String()
		if !strings.Contains(post, "from: "+canonical+"\n") {
			t.Errorf("%s: want the canonical https URL of the story:\n%s", name, post)
		}
	}

	// doctor finds nothing to fix: the site has no layouts to match.
	code, out, errOut = run1(t, "doctor", "--config", cfg, "--url", s.URL+st.path)
	if code != 0 || !reportHas(out, "site rfi, without layouts: read by the generic extractor") || !reportHas(out, "extractor generic") ||
		strings.Contains(out, "layout matched") {
		t.Errorf("doctor --url: exit %d, want 0, the site without layouts, extractor generic, no layout problem\n%s\n%s", code, out, errOut)
	}
}

// TestOnceSiteWithoutLayouts: once reads the site's RSS feed and writes
// its stories through the generic extractor; the item on a host no site
// or feed names is dropped.
func TestOnceSiteWithoutLayouts(t *testing.T) {
	s := newOtherSite(t)
	dir := t.TempDir()
	cfg := otherConfig(t, s, dir)

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "2 written") || !strings.Contains(out, "layouts: generic=2") {
		t.Fatalf("once: exit %d, want 0 with 2 written by generic\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "feed items out of scope dropped") || s.hitsOf("/ad") != 0 {
		t.Errorf("the out-of-scope item: want it dropped unfetched (fetched %d times)\n%s", s.hitsOf("/ad"), errOut)
	}
	if strings.Contains(errOut, "no layout of its site matched") {
		t.Errorf("a fallback warning for a site without layouts:\n%s", errOut)
	}
	ps := posts(t, dir)
	if len(ps) != 2 {
		t.Fatalf("got %d posts, want 2", len(ps))
	}
	for name, post := range ps {
		checkOtherPost(t, name, post)
	}
}

// TestDoctorUndatedPage: a page that prints no date is written by a run,
// dated by its fetch (date_source fetched); doctor says the same, and
// where the date came from, instead of reporting no publication time.
func TestDoctorUndatedPage(t *testing.T) {
	s := newOtherSite(t)
	dir := t.TempDir()
	cfg := otherConfig(t, s, dir)
	code, out, errOut := run1(t, "doctor", "--config", cfg, "--url", s.URL+undatedPath)
	if code != 0 || !reportHas(out, "published ← generic: fetched") {
		t.Errorf("doctor --url on an undated page: exit %d, want 0 and the date's source\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run1(t, "extract", "--config", cfg, "--json", "--url", s.URL+undatedPath)
	if code != 0 || !strings.Contains(out, `"date_source": "fetched"`) {
		t.Errorf("extract --json on an undated page: exit %d, want date_source fetched\n%s\n%s", code, out, errOut)
	}
}
