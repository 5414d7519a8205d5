package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

	c.deps.Progress = progress(m.Stderr, c.log)
	runner := c.runner()
	var items []feed.Item
	refused := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, rules, err := runner.Identify(line)
		switch {
		case err != nil:
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %v\n", n, err)
			refused++
		case rules == nil:
			// No fetching of arbitrary hosts: only what a site rule allows.
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %s: no site rule allows this host; add it to a site's hosts to fetch it\n", n, line)
			refused++
		default:
			items = append(items, feed.Item{URL: line})
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("backfill: read %s: %w", *file, err)
	}
	sum, err := runner.Process(ctx, items, *force)
	fmt.Fprintln(m.Stdout, sum)
	if err != nil {
		return usageError{fmt.Errorf("backfill: %w", err)}
	}
	if sum.Unfinished() || refused > 0 {
		return errSomeFailed
	}
	return nil
}

// progress draws a bar on a terminal and plain lines otherwise.
func progress(w io.Writer, log interface{ Info(string, ...any) }) func(done, total int, r crawler.Result) {
	f, ok := w.(*os.File)
	tty := ok && isTerminal(f)
	return func(done, total int, r crawler.Result) {
		if tty {
			const width = 30
			filled := width * done / max(total, 1)
			fmt.Fprintf(w, "\r[%s%s] %d/%d %-9s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, r.Outcome)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		if done == total || done%25 == 0 {
			log.Info("backfill progress", "done", done, "total", total)
		}
	}
}
