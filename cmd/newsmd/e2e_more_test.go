package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// TestImportThenFeed: the legacy archive is imported, then a feed lists
// its stories (as RSSHub does, on www.zaobao.com): nothing is fetched.
func TestImportThenFeed(t *testing.T) {
	legacy, _ := filepath.Glob("../../crawler/site/testdata/legacy/*.md")
	var urls []string
	for _, f := range legacy {
		data, _ := os.ReadFile(f)
		info, err := converter.ReadPost(data)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, info.Source)
	}
	var feedHits, otherHits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path != "/feed" {
			otherHits++
			http.NotFound(w, r)
			return
		}
		feedHits++
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>联合早报</title><link>https://www.zaobao.com/realtime/china</link>`)
		for i, u := range urls {
			// Variants, as feeds write them over the years.
			if i%2 == 1 {
				u = strings.Replace(u, "https://www.zaobao.com/", "http://www.zaobao.com.sg//", 1) + "?ref=rss"
			}
			fmt.Fprintf(w, "<item><title>t%d</title><link>%s</link><pubDate>Fri, 01 Mar 2024 06:07:00 GMT</pubDate></item>", i, u)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	defer srv.Close()

	dir := t.TempDir()
	c := config.Default()
	c.Output.Dir = filepath.Join(dir, "_posts")
	c.Store.Path = filepath.Join(dir, "state.db")
	c.Fetch.Delay = 0
	c.Feeds = nil
	c.Feeds = append(c.Feeds, yamlFeed("legacy", "rss", srv.URL+"/feed"))
	cfg := writeYAMLConfig(t, c, dir)

	code, out, errOut := run1(t, "import", "--config", cfg, "../../crawler/site/testdata/legacy")
	if code != 0 || !strings.Contains(out, "60 stories recorded") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run1(t, "once", "--config", cfg)
	if code != 0 || !strings.Contains(out, "60 duplicate") || !strings.Contains(out, "0 written") {
		t.Errorf("once after import: exit %d\n%s\n%s", code, out, errOut)
	}
	if feedHits != 1 || otherHits != 0 {
		t.Errorf("requests: %d to the feed, %d others; want 1 and 0", feedHits, otherHits)
	}
	if code, out, _ := run1(t, "import", "--config", cfg, "../../crawler/site/testdata/legacy"); code != 0 || !strings.Contains(out, "60 already known") {
		t.Errorf("second import: exit %d, %s", code, out)
	}

	// Files that are not posts (a README.md) are skipped and counted, not
	// failures; a post that cannot be read is reported and makes the exit
	// status 1, and the other files are still read.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(filepath.Join(bad, "sub"), 0o755)
	os.WriteFile(filepath.Join(bad, "README.md"), []byte("# My archive\n\nPosts of zaobao.\n"), 0o644)
	os.WriteFile(filepath.Join(bad, "sub", "index.md"), []byte("---\nlayout: home\n---\n"), 0o644)
	data, _ := os.ReadFile(legacy[0])
	os.WriteFile(filepath.Join(bad, "b.md"), data, 0o644)
	code, out, errOut = run1(t, "import", "--config", cfg, bad)
	if code != 0 || !strings.Contains(out, "1 already known, 2 files skipped (not posts), 0 files not read") {
		t.Errorf("import of a folder with a README.md: exit %d, want 0 and 2 skipped\n%s\n%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(bad, "sub", "a.md"), []byte("---\nfrom: ftp://files.example/story1\n---\nbody\n"), 0o644)
	code, out, errOut = run1(t, "import", "--config", cfg, bad)
	if code != 1 || !strings.Contains(out, "1 already known, 2 files skipped (not posts), 1 files not read") || !strings.Contains(errOut, "a.md") {
		t.Errorf("import with a post that cannot be read: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
}

// TestConcurrentRuns: two once processes and a backfill on one store and
// folder at the same time: no story is written twice.
func TestConcurrentRuns(t *testing.T) {
	stories := fakesite.Stories(40, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	for _, st := range stories {
		site.Fail(st.Path(), fakesite.Fault{Delay: 30 * time.Millisecond})
	}
	dir := t.TempDir()
	cfg := e2eConfig(t, site, dir)
	var list strings.Builder
	for i := len(stories) - 1; i >= 0; i-- {
		list.WriteString(site.StoryURL(stories[i]) + "?ref=backfill\n")
	}
	listFile := filepath.Join(dir, "all.txt")
	os.WriteFile(listFile, []byte(list.String()), 0o644)

	var wg sync.WaitGroup
	outs := make([]string, 3)
	for i, args := range [][]string{
		{"once", "--config", cfg},
		{"once", "--config", cfg},
		{"backfill", "--config", cfg, "--file", listFile},
	} {
		wg.Go(func() {
			code, out, errOut := run1(t, args...)
			outs[i] = fmt.Sprintf("%v: exit %d: %s", args[0], code, out)
			// A run that met stories the others were writing says so and
			// exits 1: it could not finish them itself.
			elsewhere := strings.Contains(out, "in progress elsewhere") || strings.Contains(out, "held by another worker")
			unfinished := code == 1 && elsewhere && !strings.Contains(out, "waiting") &&
				strings.Count(out, " 0 failed") == strings.Count(out, " failed") // no feed (once), no story

			if code != 0 && !unfinished {
				t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
			}
		})
	}
	wg.Wait()
	// Once they are all done, nothing is left to do.
	if code, out, errOut := run1(t, "once", "--config", cfg); code != 0 || !strings.Contains(out, "0 written") {
		t.Errorf("once after the concurrent runs: exit %d\n%s\n%s", code, out, errOut)
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != 40 || len(ids) != 40 {
		t.Errorf("got %d posts for %d stories, want 40 each\n%s", len(ps), len(ids), strings.Join(outs, "\n"))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("story %s written %d times", id, n)
		}
	}
	for _, st := range stories {
		if n := site.Hits(st.Path()); n != 1 {
			t.Errorf("%s fetched %d times, want 1", st.Path(), n)
		}
	}
}

// TestCrashAndRestart kills a real newsmd once with SIGKILL at many points
// of a run, then runs it to the end: every story is written exactly once
// and no partial or temporary file is left.
func TestCrashAndRestart(t *testing.T) {
	stories := fakesite.Stories(30, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	site := fakesite.New(stories)
	defer site.Close()
	dir := t.TempDir()
	c := config.Default()
	readYAMLConfig(t, e2eConfig(t, site, dir), c)
	// A killed worker's claims are taken over after the lease.
	c.Crawl.Lease = 10 * time.Second
	cfg := writeYAMLConfig(t, c, dir)
	// Slow pages stretch a run to about a second, so kills land while
	// stories are being fetched and written.
	for range 20 {
		for _, st := range stories {
			site.Fail(st.Path(), fakesite.Fault{Delay: 25 * time.Millisecond})
		}
	}
	kills := 0
	for i := range 12 {
		cmd := exec.Command(newsmdBinary(t), "once", "--config", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(40+60*i) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		cmd.Wait()
	}
	t.Logf("after %d kills: %d posts written", kills, len(posts(t, dir)))
	// The last run takes over the killed workers' claims once their
	// leases have expired.
	time.Sleep(c.Crawl.Lease)
	code, out, errOut := run1(t, "once", "--config", cfg)
	if code != 0 {
		t.Fatalf("final once: exit %d\n%s\n%s", code, out, errOut)
	}
	ps := posts(t, dir)
	ids := storyIDs(t, ps)
	if len(ps) != 30 || len(ids) != 30 {
		t.Errorf("after %d kills: %d posts for %d stories, want 30 each\n%s", kills, len(ps), len(ids), out)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("story %s written %d times", id, n)
		}
	}
	for name, p := range ps {
		if !strings.Contains(p, "第三段是结尾。") {
			t.Errorf("%s is incomplete", name)
		}
	}
}
