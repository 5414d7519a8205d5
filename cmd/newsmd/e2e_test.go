package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
	"github.com/newsmd/newsmd/store"
	"go.yaml.in/yaml/v3"
)

// binary is newsmd built once for the end-to-end tests, which run it as a
// user would: real processes, a real SQLite file, real posts on disk.
var (
	binaryOnce sync.Once
	binaryDir  string // removed when the tests end
	binaryPath string
	binaryErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

func newsmdBinary(t *testing.T) string {
	t.Helper()
	return buildBinary(t)
}

func buildBinary(tb testing.TB) string {
	tb.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "newsmd-e2e-bin")
		if err != nil {
			binaryErr = err
			return
		}
		binaryDir = dir
		binaryPath = filepath.Join(dir, "newsmd")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = err
			binaryPath = string(out)
		}
	})
	if binaryErr != nil {
		tb.Fatalf("build newsmd: %v\n%s", binaryErr, binaryPath)
	}
	return binaryPath
}

// e2eConfig writes a config that crawls the fake site: the zaobao rules
// for its host, its four RSS feeds and one HTML listing, politeness off.
func e2eConfig(t testing.TB, site *fakesite.Site, dir string) string {
	t.Helper()
	c := config.Default()
	c.Output.Dir = filepath.Join(dir, "_posts")
	c.Output.Extra = []string{"story_id"}
	c.Store.Path = filepath.Join(dir, "state.db")
	c.Sites[0].Hosts = append(c.Sites[0].Hosts, "127.0.0.1")
	c.Sites[0].CanonicalHost = site.Host()
	c.Sites[0].CanonicalScheme = "http"
	c.Fetch.Delay = 0
	c.Fetch.Concurrency = 4
	c.Fetch.Retries = 2
	c.Fetch.BackoffBase = 10 * time.Millisecond
	c.Fetch.BackoffMax = 2 * time.Second
	c.Fetch.Timeout = time.Second
	c.Crawl.RetryDelay = time.Second
	c.Feeds = nil
	for _, sec := range fakesite.Sections {
		c.Feeds = append(c.Feeds, yamlFeed(sec, "rss", site.FeedURL(sec)))
	}
	listing := yamlFeed("china-listing", "listing", site.ListingURL("china"))
	listing.Links = []string{`[data-testid="article-list"] article a`}
	c.Feeds = append(c.Feeds, listing, yamlFeed("world-json", "json_listing", site.JSONListingURL("world")))
	return writeYAMLConfig(t, c, dir)
}

// writeYAMLConfig writes c as dir/config.yaml, its feeds and sites
// tagged !replace so that they are the whole lists, not merged with the
// default entries (which poll the real zaobao).
func writeYAMLConfig(t testing.TB, c *config.Config, dir string) string {
	t.Helper()
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, replaceLists(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// replaceLists tags the feeds and sites of a config file !replace.
func replaceLists(t testing.TB, data []byte) []byte {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; (k == "feeds" || k == "sites") && m.Content[i+1].Kind == yaml.SequenceNode {
			m.Content[i+1].Tag = config.TagReplace
		}
	}
	data, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readYAMLConfig(t testing.TB, path string, c *config.Config) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, c); err != nil {
		t.Fatal(err)
	}
}

func run1(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), newsmdBinary(t), args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run newsmd: %v", err)
	}
	return code, out.String(), errb.String()
}

// posts reads the archive: file name → content, and checks no temporary
// or partial file is left.
func posts(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "_posts"))
	out := map[string]string{}
	for _, e := range entries {
		if e.Name() == store.TempFolder && e.IsDir() {
			if left, _ := os.ReadDir(filepath.Join(dir, "_posts", e.Name())); len(left) > 0 {
				t.Errorf("temporary files left behind: %d, the first %s", len(left), left[0].Name())
			}
			continue
		}
		if !strings.HasSuffix(e.Name(), ".md") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("stray file in the archive: %s", e.Name())
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "_posts", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// storyIDs counts each story id over the posts (story_id extra).
func storyIDs(t *testing.T, ps map[string]string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for name, p := range ps {
		info, err := converter.ReadPost([]byte(p))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ids[info.StoryID]++
	}
	return ids
}

// TestOnceEndToEnd: once writes every story once; a second once writes
// nothing and the feeds answer 304; URL variants of a story give one post.
func TestOnceEndToEnd(t *testing.T) {
	stories := fakesite.Stories(16, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "16 written") {
		t.Errorf("summary: %s", out)
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != 16 || len(ids) != 16 {
		t.Fatalf("got %d posts for %d stories, want 16 each", len(ps), len(ids))
	}
	for _, st := range stories {
		if site.Hits(st.Path()) != 1 {
			t.Errorf("%s fetched %d times, want 1 (feed and listing list it: one fetch)", st.Path(), site.Hits(st.Path()))
		}
	}

	code, out, _ = run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "0 written") || !strings.Contains(out, "4 not modified") {
		t.Errorf("second once: exit %d, %s", code, out)
	}
	notModified := 0
	for _, r := range site.Requests() {
		if r.Status == 304 {
			notModified++
		}
	}
	if notModified != 4 {
		t.Errorf("got %d answers 304, want 4 (one per RSS feed)", notModified)
	}
	if got := len(posts(t, dir)); got != 16 {
		t.Errorf("after the second once: %d posts, want 16", got)
	}

	// URL variants of written stories: all duplicates, nothing fetched.
	var list strings.Builder
	list.WriteString("# variants\n\n")
	for _, st := range stories[:4] {
		u := site.StoryURL(st)
		list.WriteString(u + "?ref=article_next\n")
		list.WriteString(strings.Replace(u, st.Path(), "/"+st.Path(), 1) + "\n")
		list.WriteString(u + "/#comments\n")
		list.WriteString("https://www.zaobao.com.sg" + st.Path() + "\n")
	}
	listFile := filepath.Join(dir, "variants.txt")
	os.WriteFile(listFile, []byte(list.String()), 0o644)
	before := len(site.Requests())
	code, out, errOut = run1(t, "backfill", "--config", cfg, "--file", listFile)
	if code != 0 || !strings.Contains(out, "16 duplicate") {
		t.Errorf("backfill of variants: exit %d, %s\n%s", code, out, errOut)
	}
	if n := len(site.Requests()) - before; n != 0 {
		t.Errorf("backfill of known variants made %d requests, want 0", n)
	}
}

// TestFaultsEndToEnd: 429 with Retry-After, 500, timeouts, truncated and
// oversized bodies, redirect loops and a malformed feed; transient
// failures are written on a later run, nothing is lost or duplicated.
func TestFaultsEndToEnd(t *testing.T) {
	stories := fakesite.Stories(12, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)

	// Stories 0, 4, 8 are in china, 1, 5, 9 in world, 3, 7, 11 in finance.
	loop := make([]fakesite.Fault, 12)
	for i := range loop {
		loop[i] = fakesite.Fault{Redirect: stories[9].Path()}
	}
	site.Fail(stories[0].Path(), fakesite.Fault{Status: 429, RetryAfter: "1"}) // retried within the run
	site.Fail(stories[1].Path(), fakesite.Fault{Status: 500}, fakesite.Fault{Status: 503}, fakesite.Fault{Status: 500})
	slow := fakesite.Fault{Delay: 1500 * time.Millisecond}
	site.Fail(stories[4].Path(), slow, slow, slow)
	cut := fakesite.Fault{Truncate: true}
	site.Fail(stories[5].Path(), cut, cut, cut)
	site.Fail(stories[8].Path(), fakesite.Fault{Oversize: 11 << 20}) // permanent: the feed's copy is written
	site.Fail(stories[9].Path(), loop...)                            // permanent: the feed's copy is written
	site.Fail("/rsshub/zaobao/realtime/finance", fakesite.Fault{Body: "<html><body>502 Bad Gateway</body></html>"})

	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 1 {
		t.Fatalf("once with failures: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	for id, n := range ids {
		if n != 1 {
			t.Errorf("story %s written %d times", id, n)
		}
	}
	// The failing pages trip the host's backoff (5 failures in a row), so
	// the run ends with more stories waiting for a retry than pages that
	// failed: all of them are retried by the next run.
	if !strings.Contains(out, "failed (") || len(ps) < 2 {
		t.Errorf("run 1: %d posts; %s", len(ps), out)
	}
	// Transient failures wait retry_delay (1s), then later runs write
	// them. A feed polled while its host was backed off is polled again
	// by the next run (the malformed finance feed may be met only then),
	// so it can take a run or two: each run is a new process, as from cron.
	for run := 2; run <= 4; run++ {
		time.Sleep(1100 * time.Millisecond)
		code, out, errOut = run1(t, "once", "--config", cfg)
		t.Logf("run %d: exit %d: %s", run, code, strings.TrimSpace(out))
		if code == 0 {
			break
		}
	}
	if code != 0 {
		t.Errorf("the failures were not all written by run 4: exit %d\n%s\n%s", code, out, errOut)
	}
	ps = posts(t, dir)
	ids = storyIDs(t, ps)
	if len(ids) != 12 || len(ps) != 12 {
		t.Errorf("after the retry run: %d posts for %d stories, want 12 each: %s", len(ps), len(ids), out)
	}
}

func yamlFeed(name, typ, url string) config.Feed {
	return config.Feed{Name: name, Type: typ, URL: url, Site: "zaobao", Interval: "10m"}
}
