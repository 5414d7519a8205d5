package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/internal/config"
	"go.yaml.in/yaml/v3"
)

const (
	hkPage = "../../crawler/site/testdata/pages/hk-2021-real.html" // the real page, shared with the crawler tests
	hkURL  = "https://www.zaobao.com/realtime/world/story20211118-1214802"
)

// run runs newsmd with args and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := run(t, "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "newsmd ") {
		t.Errorf("version: got exit %d, %q", code, out)
	}
	if code, _, errOut := run(t, "frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: got exit %d, %q", code, errOut)
	}
	if code, _, _ := run(t); code != exitUsage {
		t.Errorf("no command: got exit %d, want %d", code, exitUsage)
	}
}

func TestExtractFromFile(t *testing.T) {
	code, out, errOut := run(t, "extract", "--config", "../../config.yaml", "--html", hkPage, "--url", hkURL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`title: "日本长期失业者人数上升"`,
		"date: 2021-11-18T17:28:39+08:00",
		"<!--1637227719000-->",
		"[日本长期失业者人数上升](" + hkURL + ")",
		"（早报讯）日本媒体周四（11月18日）报道",
		"*据日本政府数据显示，尽管日本整体失业人数从7月至9月有所下降，但冠病疫情造成更多人长期事业。（路透社）*",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("post lacks %q", want)
		}
	}
	for _, bad := range []string{"googletag", "dfp-ad", "\u200b", "\u200c", "\ufeff", "<script", "FAIL"} {
		if strings.Contains(out, bad) {
			t.Errorf("post contains %q", bad)
		}
	}
}

func TestExtractJSONAndOut(t *testing.T) {
	code, out, errOut := run(t, "extract", "--config", "../../config.yaml", "--html", hkPage, "--url", hkURL, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var a converter.Article
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if a.StoryID != "1214802" || a.Extractor != "zaobao/hk" || a.Author != "廖慧婷" {
		t.Errorf("got story %q extractor %q author %q", a.StoryID, a.Extractor, a.Author)
	}

	dir := t.TempDir()
	code, out, errOut = run(t, "extract", "--config", "../../config.yaml", "--html", hkPage, "--url", hkURL, "--out", dir, "--profile", "hugo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := strings.TrimSpace(out)
	if path != filepath.Join(dir, "2021-11-18-日本长期失业者人数上升.md") {
		t.Errorf("path: got %q", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "source: "+hkURL) {
		t.Errorf("hugo post lacks source key:\n%.400s", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("out dir holds %d files, want 1 (no temporary files left)", len(entries))
	}
}

func TestExtractFailures(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.html")
	os.WriteFile(empty, []byte("<html><body><nav>menu</nav></body></html>"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"no url", []string{"extract", "--html", hkPage}, exitUsage, []string{"--url is required", "hint:"}},
		{"missing file", []string{"extract", "--config", "../../config.yaml", "--url", hkURL, "--html", "nope.html"}, exitFailed, []string{"nope.html"}},
		{"no article", []string{"extract", "--config", "../../config.yaml", "--url", hkURL, "--html", empty}, exitFailed, []string{"no article found", hkURL, "zaobao/hk", "hint:"}},
		{"bad profile", []string{"extract", "--config", "../../config.yaml", "--url", hkURL, "--html", hkPage, "--profile", "wordpress"}, exitUsage, []string{"profile"}},
		{"missing config", []string{"extract", "--config", "/nonexistent/config.yaml", "--url", hkURL, "--html", hkPage}, exitUsage, []string{"open config"}},
		{"stray argument", []string{"extract", "--url", hkURL, "extra"}, exitUsage, []string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit: got %d, want %d (%s)", code, tt.code, errOut)
			}
			if !strings.HasPrefix(errOut, "newsmd: error: ") && tt.code != 0 {
				t.Errorf("stderr does not start with 'newsmd: error: ': %q", errOut)
			}
			for _, c := range tt.contains {
				if !strings.Contains(errOut, c) {
					t.Errorf("stderr lacks %q: %s", c, errOut)
				}
			}
		})
	}
}

// TestExtractFetch fetches the page from a local server once.
func TestExtractFetch(t *testing.T) {
	page, err := os.ReadFile(hkPage)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	var gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		gotUA = r.UserAgent()
		switch r.URL.Path {
		case "/realtime/world/story20211118-1214802":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		case "/gone":
			http.Error(w, "gone", http.StatusNotFound)
		case "/huge":
			w.Write(bytes.Repeat([]byte("<p>x</p>"), 2<<20))
		}
	}))
	defer srv.Close()

	// The zaobao rules, also for the test server's host.
	c := config.Default()
	c.Sites[0].Hosts = append(c.Sites[0].Hosts, "127.0.0.1")
	local := filepath.Join(t.TempDir(), "local.yaml")
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(local, data, 0o644)

	code, out, errOut := run(t, "extract", "--config", local, "--url", srv.URL+"/realtime/world/story20211118-1214802")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if hits != 1 || !strings.HasPrefix(gotUA, "newsmd/") {
		t.Errorf("got %d requests with User-Agent %q, want 1 with newsmd's", hits, gotUA)
	}
	if !strings.Contains(out, "日本长期失业者人数上升") || !strings.Contains(out, "from: "+hkURL) {
		t.Errorf("fetched post lacks the title or the canonical URL:\n%.500s", out)
	}
	if code, _, errOut := run(t, "extract", "--config", "../../config.yaml", "--url", srv.URL+"/gone"); code != exitFailed || !strings.Contains(errOut, "404") {
		t.Errorf("404: got exit %d, %q", code, errOut)
	}

	cfg := filepath.Join(t.TempDir(), "small.yaml")
	os.WriteFile(cfg, []byte("fetch:\n  max_body_bytes: 100000\n"), 0o644)
	if code, _, errOut := run(t, "extract", "--config", cfg, "--url", srv.URL+"/huge"); code != exitFailed || !strings.Contains(errOut, "maximum size") {
		t.Errorf("huge page: got exit %d, %q", code, errOut)
	}
}
