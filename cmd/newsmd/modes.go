package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// errSomeFailed makes the exit code 1 after a run that went on past
// failed items.
var errSomeFailed = errors.New("some items failed or were left unfinished (see the log and the summary)")

func newFlags(m *Main, name, usage string) (*flag.FlagSet, *string) {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(m.Stderr)
	config := fl.String("config", "config.yaml", "configuration `file`")
	fl.Usage = func() {
		fmt.Fprintln(m.Stderr, usage)
		fmt.Fprintln(m.Stderr, "\nFlags:")
		fl.PrintDefaults()
	}
	return fl, config
}

func parseFlags(fl *flag.FlagSet, args []string) error {
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// runOnce polls every feed once and writes the new stories.
func runOnce(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "once", "Usage: newsmd once [--config FILE]\n\nPolls every feed once, writes the new stories and prints a summary.\nExit status: 0 all went well, 1 something was left undone (a failed item, a feed or\nstory held by another process, a story waiting for its retry), 2 configuration or\nstore errors.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Errorf("once: unexpected argument %q", fl.Arg(0))}
	}
	c, err := openCrawl(ctx, m, fl, *config, "once")
	if err != nil {
		return err
	}
	defer c.Close()
	sum, err := c.runner.Once(ctx)
	fmt.Fprintln(m.Stdout, sum)
	c.log.Info("once done", "summary", sum.String())
	if err != nil {
		return usageError{fmt.Errorf("once: %w", err)}
	}
	if sum.Unfinished() {
		return errSomeFailed
	}
	return nil
}

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

	var items []crawler.Item
	refused := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, site, err := c.runner.Identify(line)
		switch {
		case err != nil:
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %v\n", n, err)
			refused++
		case site == nil:
			// No fetching of arbitrary hosts: only what a site rule allows.
			fmt.Fprintf(m.Stderr, "newsmd: line %d: %s: no site rule allows this host; add it to a site's hosts to fetch it\n", n, line)
			refused++
		default:
			items = append(items, crawler.Item{URL: line})
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("backfill: read %s: %w", *file, err)
	}
	c.runner.Progress = progress(m.Stderr, c.log)
	sum, err := c.runner.Process(ctx, items, *force)
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

// runImport records the stories of an existing archive as known.
func runImport(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "import", "Usage: newsmd import [--config FILE] DIR\n\nReads every *.md below DIR (front matter from: or source:) into the store, so\nthose stories are never fetched again. Malformed files are reported, not fatal.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return usageError{hintError{errors.New("import: want one folder"), "newsmd import path/to/_posts"}}
	}
	dir := fl.Arg(0)
	c, err := openCrawl(ctx, m, fl, *config, "import")
	if err != nil {
		return err
	}
	defer c.Close()
	var imported, known, bad int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.EqualFold(filepath.Ext(path), ".md") {
			return ctx.Err()
		}
		data, err := os.ReadFile(path)
		if err == nil {
			var info converter.PostInfo
			info, err = converter.ReadPost(data)
			if err == nil {
				var k crawler.Key
				k, _, err = c.runner.Identify(info.Source)
				if err == nil {
					id := store.Identity{URL: k.URL, SiteKey: k.SiteKey}
					var rec store.Record
					var found bool
					rec, found, err = c.store.Lookup(ctx, id)
					if err == nil && found && (rec.State == store.StateWritten || rec.State == store.StateKnown) {
						known++
						return nil
					}
					rel, _ := filepath.Rel(dir, path)
					if err == nil {
						err = c.store.MarkKnown(ctx, id, filepath.ToSlash(rel))
					}
					if err == nil {
						imported++
						return nil
					}
				}
			}
		}
		bad++
		fmt.Fprintf(m.Stderr, "newsmd: %s: %v\n", path, err)
		return nil
	})
	fmt.Fprintf(m.Stdout, "import: %d stories recorded, %d already known, %d files not read\n", imported, known, bad)
	if err != nil {
		return fmt.Errorf("import %s: %w", dir, err)
	}
	if bad > 0 {
		return errSomeFailed
	}
	return nil
}
