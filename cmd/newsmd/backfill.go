package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/crawler/feed"
)

// runBackfill writes the stories of a URL list.
func runBackfill(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "backfill", "Usage: newsmd backfill --file FILE [--force] [--config FILE]\n\nWrites the stories of a list of URLs, one per line (blank lines and # comments\nallowed; - reads standard input). Known stories are skipped unless --force,\nwhich rewrites their posts in place. Interrupted and run again, it continues.")
	file := fl.String("file", "", "URL list `file`, - for standard input (required)")
	force := fl.Bool("force", false, "rewrite stories already written")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if *file == "" {
		return usageError{hintError{errors.New("backfill: --file is required"), "newsmd backfill --file urls.txt"}}
	}
	var r io.Reader = m.Stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return usageError{fmt.Errorf("backfill: %w", err)}
		}
		defer f.Close()
		r = f
	}
	c, err := openCrawl(ctx, m, fl, *config, "backfill")
	if err != nil {
		return err
	}
	defer c.Close()

	runner := c.runner()
	var items []feed.Item
	refused := 0
	var unnamed []string // hosts no site or feed names, in order
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// No fetching of arbitrary hosts: only those a site entry names
		// (with layouts or not), and the feeds' own.
		_, err := runner.InScope(line)
		switch {
		case errors.Is(err, crawler.ErrUnnamedHost):
			u, _ := url.Parse(line) // InScope parsed it
			// Subdomains match: rfi.fr covers www.rfi.fr.
			host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
			if !slices.Contains(unnamed, host) {
				unnamed = append(unnamed, host)
			}
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %s: no site or feed names host %s: add a sites entry with it to fetch its stories\n", n, line, u.Hostname())
			refused++
		case err != nil:
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %v\n", n, err)
			refused++
		default:
			items = append(items, feed.Item{URL: line})
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("backfill: read %s: %w", *file, err)
	}
	if len(unnamed) > 0 {
		// The generic extractor reads a site's pages without layouts: its
		// name and hosts are enough.
		var b strings.Builder
		for _, h := range unnamed {
			name, _, _ := strings.Cut(h, ":")
			fmt.Fprintf(&b, "\n  - name: %s\n    hosts: [%q]", name, h)
		}
		fmt.Fprintf(m.Stderr, "hint: to fetch them, add to the config file (see README, Adding another site):\nsites:%s\n", b.String())
	}
	bar := m.startProgress(len(items), c.log)
	c.deps.Progress = bar.story
	sum, err := c.runner().Process(ctx, items, *force)
	bar.stop()
	sum.Refused = refused
	fmt.Fprintln(m.Stdout, "backfill:", sum.Stories())
	if err != nil {
		return storeError{fmt.Errorf("backfill: %w", err)}
	}
	if sum.Unfinished() {
		return errSomeFailed
	}
	return nil
}
