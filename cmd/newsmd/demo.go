package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsmd/newsmd/internal/fakesite"
)

// runDemo shows newsmd at work without the network: it starts the fake
// news site of the tests on loopback and archives it with the code path
// of once, into a folder the user can open.
func runDemo(ctx context.Context, m *Main, args []string) error {
	fl, _ := newFlags(m, "demo", "Usage: newsmd demo [--dir DIR] [--stories N]\n\n"+
		"Starts a fake news site on 127.0.0.1 (no network needed) and archives it as `once`\n"+
		"would: posts in DIR/_posts, the state in DIR/newsmd.db, the config used in\n"+
		"DIR/config.yaml. Run it again: the stories it knows are not written twice.")
	dir := fl.String("dir", "newsmd-demo", "the `folder` to archive into (made when missing)")
	n := fl.Int("stories", 24, "how many stories the fake site lists (1-500)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	switch {
	case fl.NArg() > 0:
		return usageError{fmt.Errorf("demo: unexpected argument %q", fl.Arg(0))}
	case isFlagSet(fl, "config"):
		return usageError{hintError{fmt.Errorf("demo: --config is not taken"), "demo writes its own config to DIR/config.yaml; to archive real feeds, use once or run"}}
	case *n < 1 || *n > 500:
		return usageError{fmt.Errorf("demo: --stories %d: want 1 to 500", *n)}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return usageError{fmt.Errorf("demo: %w", err)}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return usageError{hintError{fmt.Errorf("demo: %w", err), "pass --dir with a folder you can write to"}}
	}

	// The stories were published over the last hours, so that their
	// posts are dated today.
	start := time.Now().Add(-time.Duration(*n) * 7 * time.Minute)
	site := fakesite.New(fakesite.Stories(*n, start))
	defer site.Close()
	cfgPath := filepath.Join(abs, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(demoConfig(site)), 0o644); err != nil {
		return usageError{fmt.Errorf("demo: write %s: %w", cfgPath, err)}
	}
	fl.Set("config", cfgPath) // the file demo wrote, not $NEWSMD_CONFIG
	fmt.Fprintf(m.Stdout, "newsmd demo: a fake news site at %s, %d stories in %d feeds (no network needed)\n", site.URL(), *n, len(fakesite.Sections))

	c, err := openCrawl(ctx, m, fl, cfgPath, "demo")
	if err != nil {
		return err
	}
	defer c.Close()
	sum, err := c.runner().Once(ctx)
	fmt.Fprintln(m.Stdout, sum)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	posts, _ := filepath.Glob(filepath.Join(c.cfg.Output.Dir, "*.md"))
	fmt.Fprintf(m.Stdout, "\n%d posts in %s\n", len(posts), c.cfg.Output.Dir)
	if len(posts) > 0 {
		fmt.Fprintf(m.Stdout, "  open one:  less %q\n", posts[0])
	}
	fmt.Fprintf(m.Stdout, "  the state: %s (run demo again: known stories are not written twice)\n", c.cfg.Store.Path)
	fmt.Fprintf(m.Stdout, "  the config it used: %s (the default config.yaml, pointed at the fake site)\n", cfgPath)
	if sum.Unfinished() {
		return errSomeFailed
	}
	return nil
}

// demoConfig is the default configuration with the fake site's feeds in
// place of zaobao's, its zaobao rules allowed on the fake site's host,
// and no politeness delay (the site is ours, on loopback). Paths are
// relative to the config file's folder.
func demoConfig(site *fakesite.Site) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by newsmd demo for the fake site at %s, which lives only\n", site.URL())
	b.WriteString("# while the demo runs. Keys left out keep the defaults of config.yaml.\n")
	b.WriteString("output:\n  dir: _posts\nstore:\n  driver: sqlite\n  path: newsmd.db\n")
	b.WriteString("fetch:\n  delay: 0s\n  concurrency: 4\n  retries: 1\n  backoff_base: 100ms\n")
	b.WriteString("server:\n  listen: \"\"\n")
	b.WriteString("feeds: !replace\n")
	for _, sec := range fakesite.Sections {
		fmt.Fprintf(&b, "  - name: demo-%s\n    type: rss\n    url: %s\n    site: zaobao\n", sec, site.FeedURL(sec))
	}
	fmt.Fprintf(&b, "sites:\n  - name: zaobao\n    hosts: !append ['127.0.0.1']\n    canonical_host: %q\n    canonical_scheme: http\n", site.Host())
	return b.String()
}
