package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/internal/config"
	"go.yaml.in/yaml/v3"
)

func runEnv(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Env: env}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestEnvOverrides(t *testing.T) {
	env := []string{
		"NEWSMD_CONFIG=../../config.yaml",
		"NEWSMD_OUTPUT_DIR=/data/archive/_posts",
		"NEWSMD_FETCH_DELAY=3s",
		"NEWSMD_OUTPUT_TAGS=[新闻, zaobao]",
		"NEWSMD_SERVER_LISTEN=0.0.0.0:9180",
		"NEWSMD_FETCH_ROBOTS_TXT=false",
		"NEWSMD_LOG_FORMAT=json",
		"PATH=/usr/bin",
	}
	code, out, errOut := runEnv(t, env, "config", "check")
	if code != 0 {
		t.Fatalf("config check: exit %d\n%s", code, errOut)
	}
	var got config.Config
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	if got.Output.Dir != "/data/archive/_posts" || got.Fetch.Delay.String() != "3s" || strings.Join(got.Output.Tags, ",") != "新闻,zaobao" ||
		got.Server.Listen != "0.0.0.0:9180" || got.Fetch.RobotsTxt || got.Log.Format != "json" {
		t.Errorf("overrides not applied: %+v %+v %+v", got.Output, got.Fetch, got.Server)
	}
	if len(got.Sites) != 1 || len(got.Feeds) != 4 {
		t.Errorf("the file's sites and feeds were lost")
	}

	for _, tt := range []struct {
		env  string
		want string
	}{
		{"NEWSMD_FETCH_DELAY=soon", "NEWSMD_FETCH_DELAY (fetch.delay)"},
		{"NEWSMD_OUTPUT_COLOUR=blue", "NEWSMD_OUTPUT_COLOUR: no such setting"},
		{"NEWSMD_OUTPUT_PROFILE=wordpress", "output.profile"},
		{"NEWSMD_CONFIG=/nonexistent.yaml", "open config"},
	} {
		code, _, errOut := runEnv(t, []string{tt.env, "NEWSMD_CONFIG=../../config.yaml"}, "config", "check")
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming %q", tt.env, code, errOut, tt.want)
		}
	}
}

// TestEveryKeyHasAVariable: each scalar key of config.yaml outside the
// lists of mappings can be set from the environment.
func TestEveryKeyHasAVariable(t *testing.T) {
	vars := map[string]bool{}
	for _, path := range config.EnvKeys() {
		vars[strings.Join(path, ".")] = true
	}
	for _, k := range configKeys(t) {
		if strings.Contains(k, "[]") || !strings.Contains(k, ".") {
			continue // lists of mappings are edited in the file; sections hold keys
		}
		if !vars[k] {
			t.Errorf("%s has no environment variable", k)
		}
	}
	code, out, _ := runEnv(t, nil, "config", "check", "--env")
	if code != 0 || !strings.Contains(out, "NEWSMD_OUTPUT_DIR\toutput.dir") {
		t.Errorf("config check --env: exit %d\n%s", code, out)
	}
}

// configKeys lists every key of the documented config.yaml: "output.dir",
// and "feeds[].url" for keys inside lists.
func configKeys(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var keys []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			walk(n.Content[0], path)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if !seen[p] {
					seen[p] = true
					keys = append(keys, p)
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				if c.Kind == yaml.MappingNode {
					walk(c, path+"[]")
				}
			}
		}
	}
	walk(&root, "")
	return keys
}

// TestReadmeDocumentsEveryKey: every key of config.yaml is in the README:
// top-level and section keys by their path (`output.dir`), keys inside
// lists by their name (`interval`).
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range configKeys(t) {
		want := "`" + k + "`"
		if strings.Contains(k, "[]") {
			want = "`" + k[strings.LastIndex(k, ".")+1:] + "`"
		} else if !strings.Contains(k, ".") {
			continue // a section: its keys are checked
		}
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README does not document %s (looked for %s)", k, want)
		}
	}
}

func TestConfigCheckMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	c := config.Default()
	c.Feeds[0].URL = "https://reader:hunter2@feeds.example.com/zaobao?page=1"
	cfg := writeYAMLConfig(t, c, dir)
	code, out, errOut := runEnv(t, nil, "config", "check", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "https://reader:***@feeds.example.com") {
		t.Errorf("password not masked:\n%s", out)
	}
	if !strings.Contains(out, "\n  path: "+filepath.Join(dir, "archive/newsmd.db")+"\n") {
		t.Errorf("store path not resolved against the config's folder:\n%.600s", out)
	}
}

// TestConfigCheckShowsTheDSN: config check masks only the DSN's password,
// in each form PostgreSQL takes; host, port, database and user show.
// A DSN holding a password is refused anyway: the masking is what the
// error shows.
func TestConfigCheckShowsTheDSN(t *testing.T) {
	env := []string{"NEWSMD_CONFIG=../../config.yaml", "NEWSMD_STORE_DRIVER=postgres"}
	code, out, errOut := runEnv(t, append(env, "NEWSMD_STORE_DSN=postgres://newsmd@db.internal:5433/archive?sslmode=disable"), "config", "check")
	if code != 0 || !strings.Contains(out, "dsn: postgres://newsmd@db.internal:5433/archive?sslmode=disable\n") {
		t.Errorf("config check: exit %d, want 0 and the whole DSN\n%s\n%s", code, out, errOut)
	}
	for _, tt := range []struct{ dsn, masked string }{
		{"postgres://newsmd:hunter2xyz@db:5432/newsmd", "postgres://newsmd:***@db:5432/newsmd"},
		{"postgres://newsmd@db:5432/newsmd?sslmode=disable&password=hunter2xyz", "postgres://newsmd@db:5432/newsmd?sslmode=disable&password=***"},
		{"host=db user=newsmd password='hunter2 xyz' dbname=newsmd", "host=db user=newsmd password=*** dbname=newsmd"},
		{"host=db password=hunter2xyz", "host=db password=***"},
	} {
		if got := config.MaskDSNPassword(tt.dsn); got != tt.masked {
			t.Errorf("MaskDSNPassword(%q) = %q, want %q", tt.dsn, got, tt.masked)
		}
		code, out, errOut := runEnv(t, append(env, "NEWSMD_STORE_DSN="+tt.dsn), "config", "check")
		if code != exitUsage || !strings.Contains(errOut, "holds a password") || strings.Contains(out+errOut, "hunter2") {
			t.Errorf("%s: exit %d, want 2, the password refused and never shown\n%s%s", tt.dsn, code, out, errOut)
		}
	}
}

// TestEnvOfOwnFiles: every NEWSMD_ variable that the README, the compose
// file, the Dockerfile or the examples use is a setting, NEWSMD_CONFIG or
// one of config.EnvOthers, and a shell where all of them are set runs
// newsmd: the README's own compose command never breaks the CLI.
func TestEnvOfOwnFiles(t *testing.T) {
	files := []string{"../../README.md", "../../docker-compose.yml", "../../Dockerfile"}
	filepath.WalkDir("../../examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	name := regexp.MustCompile(`NEWSMD_[A-Z0-9_]*[A-Z0-9]`)
	keys := config.EnvKeys()
	env := []string{}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range name.FindAllString(string(data), -1) {
			if seen[v] {
				continue
			}
			seen[v] = true
			switch {
			case v == config.EnvConfigFile:
			case slices.Contains(config.EnvOthers(), v):
				env = append(env, v+"=change-me")
			case keys[v] != nil:
			default:
				t.Errorf("%s uses %s, which is no setting: add it to config.EnvOthers or fix the name", f, v)
			}
		}
	}
	if !seen["NEWSMD_DB_PASSWORD"] {
		t.Errorf("NEWSMD_DB_PASSWORD not found in the files; the test reads the wrong ones")
	}
	for _, args := range [][]string{{"config", "check"}, {"extract", "--html", hkPage, "--url", hkURL}} {
		if code, _, errOut := runEnv(t, append(env, "NEWSMD_CONFIG=../../config.yaml"), args...); code != 0 {
			t.Errorf("%v with %v set: exit %d\n%s", args, env, code, errOut)
		}
	}
}

// TestHealthcheckIsQuiet: healthcheck, run by a container's HEALTHCHECK
// every few seconds, prints nothing on stderr when the daemon is healthy,
// not even that it uses the built-in defaults (there is no config.yaml in
// this folder).
func TestHealthcheckIsQuiet(t *testing.T) {
	if _, err := os.Stat("config.yaml"); err == nil {
		t.Fatal("the test needs a folder without config.yaml")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	env := []string{"NEWSMD_SERVER_LISTEN=" + strings.TrimPrefix(srv.URL, "http://")}
	code, out, errOut := runEnv(t, env, "healthcheck")
	if code != 0 || out != "ok\n" || errOut != "" {
		t.Errorf("healthcheck: exit %d, stdout %q, stderr %q; want 0, ok and nothing on stderr", code, out, errOut)
	}
	if code, _, errOut := runEnv(t, env, "config", "check"); code != 0 || !strings.Contains(errOut, "no config.yaml in the working directory") {
		t.Errorf("config check: exit %d, stderr %q; want the INFO line about the defaults", code, errOut)
	}
}

// TestKubernetesConfigMapIsConfigYAML: the example ConfigMap carries the
// documented config.yaml, so the recipe never drifts from it.
func TestKubernetesConfigMapIsConfigYAML(t *testing.T) {
	data, err := os.ReadFile("../../examples/kubernetes/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("../../config.yaml")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&obj); err != nil {
			break
		}
		if obj.Kind == "ConfigMap" {
			if got := obj.Data["config.yaml"]; got != string(want) {
				t.Errorf("the ConfigMap's config.yaml differs from config.yaml %s", firstLineDiff(got, string(want)))
			}
			return
		}
	}
	t.Fatal("no ConfigMap in examples/kubernetes/deployment.yaml")
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "at line " + strconv.Itoa(i+1) + ": " + strconv.Quote(al[i]) + " vs " + strconv.Quote(bl[i])
		}
	}
	return "in length"
}

// TestReadmeSetupCommands: the README's set-up commands are the demo
// (TestDemo runs it), the main job (once, which the end-to-end tests run
// against a fake site) and the test command, which CI runs.
func TestReadmeSetupCommands(t *testing.T) {
	readme, _ := os.ReadFile("../../README.md")
	ci, _ := os.ReadFile("../../.ci/run")
	_, setup, ok := strings.Cut(string(readme), "## Set up")
	if !ok {
		t.Fatal("README has no Set up section")
	}
	block := setup[strings.Index(setup, "```sh")+5:]
	block = block[:strings.Index(block, "```")]
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			cmds = append(cmds, l)
		}
	}
	if len(cmds) != 3 || cmds[0] != "go run ./cmd/newsmd demo" || cmds[1] != "go run ./cmd/newsmd once" || cmds[2] != "go test -race ./..." {
		t.Fatalf("set-up commands: got %q", cmds)
	}
	if !strings.Contains(string(ci), "go test -race -count=1 ./...") {
		t.Errorf(".ci/run does not run the README's test command")
	}
}

// TestImageRecipes: the Dockerfile's and compose file's base images are
// named in full (daemonless builders have no default registry), no
// "# syntax=" line makes BuildKit pull a frontend, and every compose
// service that runs newsmd's image builds it (it is in no registry).
func TestImageRecipes(t *testing.T) {
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	for _, m := range from.FindAllStringSubmatch(string(docker), -1) {
		if first, _, _ := strings.Cut(m[1], "/"); !strings.Contains(first, ".") {
			t.Errorf("Dockerfile: FROM %s: want a fully qualified name (docker.io/library/…)", m[1])
		}
	}
	if strings.Contains(string(docker), "# syntax=") {
		t.Errorf("Dockerfile has a # syntax= line")
	}
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build any    `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	for name, s := range compose.Services {
		switch first, _, _ := strings.Cut(s.Image, "/"); {
		case strings.HasPrefix(s.Image, "newsmd"):
			if s.Build == nil {
				t.Errorf("compose service %s runs %s without build:", name, s.Image)
			}
		case !strings.Contains(first, "."):
			t.Errorf("compose service %s: image %s: want a fully qualified name", name, s.Image)
		}
	}
}
