package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/internal/config"
)

// TestDefaultConfigFile: the documented config.yaml is valid and is
// exactly what the binary embeds as its defaults.
func TestDefaultConfigFile(t *testing.T) {
	f, err := os.Open("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := parseConfig(f)
	if err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("config.yaml differs from the embedded defaults")
	}
}

func TestParseConfigKeepsDefaults(t *testing.T) {
	c, err := parseConfig(strings.NewReader("output:\n  dir: /srv/site/_posts\n  extra: [story_id, truncated]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	if c.Output.Dir != "/srv/site/_posts" || len(c.Output.Extra) != 2 {
		t.Errorf("got %+v", c.Output)
	}
	if c.Output.Profile != d.Output.Profile || len(c.Sites) != len(d.Sites) || c.Fetch != d.Fetch {
		t.Errorf("defaults lost: got %+v %+v", c.Output, c.Fetch)
	}
}

// TestParseConfigReportsEverything: unknown keys at every level, then
// invalid values, are all reported at once, each with its path.
func TestParseConfigReportsEverything(t *testing.T) {
	unknown := `
output:
  colour: blue
fetch:
  retry_count: 3
sites:
  - name: zaobao
    hosts: [zaobao.com]
    layouts:
      - name: a
        bodyy: [css:x]
typo: 1
`
	_, err := parseConfig(strings.NewReader(unknown))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, p := range []string{"output.colour", "fetch.retry_count", "sites[0].layouts[0].bodyy", "typo"} {
		if !strings.Contains(err.Error(), p+": unknown key") {
			t.Errorf("error lacks %s:\n%v", p, err)
		}
	}

	invalid := `
output:
  profile: wordpress
  timezone: Mars/Base
  title_max_runes: 500
  extra: [story_id, colour]
fetch:
  user_agent: ""
  timeout: 0s
sites:
  - name: zaobao
    hosts: [zaobao.com]
    story_id: "("
    layouts:
      - name: a
        when: "div["
        title: ["xpath://h1"]
        body: ["css:article"]
`
	_, err = parseConfig(strings.NewReader(invalid))
	if err == nil {
		t.Fatal("got no error")
	}
	// Layout a is added after the default ones.
	added := fmt.Sprintf("sites[0].layouts[%d]", len(config.Default().Sites[0].Layouts))
	for _, p := range []string{"output.profile", "output.timezone", "output.title_max_runes", "output.extra[1]", "fetch.user_agent", "fetch.timeout", "sites[0].story_id", added + ".when", added + ".title[0]"} {
		if !strings.Contains(err.Error(), p+":") {
			t.Errorf("error lacks %s:\n%v", p, err)
		}
	}

	// The message names the entries.
	var names []string
	for _, l := range config.Default().Sites[0].Layouts {
		names = append(names, l.Name)
	}
	if !strings.Contains(err.Error(), added+`.when: bad CSS selector "div[": expected identifier, found EOF instead (site "zaobao", layout "a", new: no default layout has that name (`+strings.Join(names, ", ")+`))`) {
		t.Errorf("error does not name the merged entries:\n%v", err)
	}

	if _, err := parseConfig(strings.NewReader("output: [1, 2")); err == nil {
		t.Errorf("broken YAML: got no error")
	}
	// Values of the wrong type are reported with their paths too.
	_, err = parseConfig(strings.NewReader("fetch:\n  timeout: soon\n  concurrency: many\noutput:\n  tags: 5\n  title_max_runes: many\n"))
	for _, p := range []string{"fetch.timeout:", "fetch.concurrency:", "output.tags:", "output.title_max_runes:"} {
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("type errors lack %s: %v", p, err)
		}
	}
}

// parseConfig reads a config and compiles it, as every command does.
func parseConfig(r io.Reader) (*config.Config, error) {
	c, err := config.Parse(r)
	if err != nil {
		return nil, err
	}
	_, err = compile(c)
	return c, err
}

// TestConfigCheckShowsTheMerge: the binary merges a short file over the
// defaults, prints the result with each entry's origin, and refuses a
// removed site still in use and a misspelt feed name, naming them.
func TestConfigCheckShowsTheMerge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := write("merge.yaml", `
feeds:
  - name: zaobao-china
    interval: 5m
  - name: zaobao-finance
    disabled: true
  - name: rsshub-world
    type: rss
    url: https://rsshub.app/zaobao/realtime/world
    site: zaobao
sites:
  - name: zaobao
    remove: !append ['.new-ad']
    layouts:
      - name: hk
        when: 'article.article-body, article.story-body'
`)
	code, out, errOut := run1(t, "config", "check", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"feeds: # removed: zaobao-finance\n  # default, changed: interval\n  - name: zaobao-china\n",
		"    interval: 5m\n",
		"  # default\n  - name: zaobao-world\n",
		"  # added\n  - name: rsshub-world\n",
		"  # default, changed: remove, layouts\n  - name: zaobao\n",
		"      - .new-ad\n    paywall:",
		"      # default, changed: when\n      - name: hk\n        when: article.article-body, article.story-body\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "- name: zaobao-finance") {
		t.Errorf("the removed feed is still there:\n%s", out)
	}

	for file, want := range map[string]string{
		"sites:\n  - name: zaobao\n    disabled: true\n":      `sites[0].disabled: feed "zaobao-china" uses site "zaobao": remove that feed too (- name: zaobao-china, disabled: true) or set its site to another one`,
		"feeds:\n  - name: zaobao-finace\n    interval: 5m\n": `(feed "zaobao-finace", new: no default feed has that name (zaobao-china, zaobao-world, zaobao-singapore, zaobao-finance))`,
	} {
		code, _, errOut := run1(t, "config", "check", "--config", write("bad.yaml", file))
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("%s: got exit %d, stderr\n%s\nwant exit 2 and %s", file, code, errOut, want)
		}
	}
}

// TestConfigSiteWithoutLayouts: a site given by its name and hosts alone
// is valid, added after the shipped sites, which keep their layouts; a
// feed may name it. Its mistakes are reported at their path, named by
// the entry.
func TestConfigSiteWithoutLayouts(t *testing.T) {
	c, err := parseConfig(strings.NewReader(`
feeds:
  - name: rfi-cn
    url: https://www.rfi.fr/cn/rss
    site: rfi
sites:
  - name: rfi
    hosts: [rfi.fr]
`))
	if err != nil {
		t.Fatal(err)
	}
	d := config.Default()
	if len(c.Sites) != len(d.Sites)+1 || c.Sites[0].Name != "zaobao" || len(c.Sites[0].Layouts) != len(d.Sites[0].Layouts) {
		t.Fatalf("sites: got %d, want the %d shipped ones, with their layouts, and rfi", len(c.Sites), len(d.Sites))
	}
	if rfi := c.Sites[len(c.Sites)-1]; rfi.Name != "rfi" || len(rfi.Hosts) != 1 || len(rfi.Layouts) != 0 {
		t.Errorf("got %+v, want rfi with its host and no layouts", rfi)
	}
	a, err := compile(c)
	if err != nil {
		t.Fatal(err)
	}
	if s := a.sites[len(a.sites)-1]; s.Name() != "rfi" || s.Title() != "rfi" {
		t.Errorf("compiled: got %q titled %q, want rfi titled rfi (the name)", s.Name(), s.Title())
	}

	// The site's hosts written as URLs, and a host another site has.
	n := len(d.Sites)
	_, err = parseConfig(strings.NewReader(`
sites:
  - name: rfi
    hosts: [https://www.rfi.fr/cn/]
  - name: zb
    hosts: [zaobao.com]
`))
	for _, want := range []string{
		fmt.Sprintf(`sites[%d].hosts[0]: "https://www.rfi.fr/cn/": write the host name alone, without scheme or path (rfi.fr, not https://www.rfi.fr/cn/) (site "rfi", new`, n),
		fmt.Sprintf(`sites[%d].hosts[0]: "zaobao.com" is already a host of site "zaobao": a host belongs to one site (site "zb", new`, n+1),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = parseConfig(strings.NewReader("sites:\n  - name: rfi\n"))
	if want := fmt.Sprintf("sites[%d].hosts: at least one host is required", n); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("no hosts: error lacks %q:\n%v", want, err)
	}
}
