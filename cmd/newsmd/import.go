package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/store"
)

// runImport records the stories of an existing archive as known.
func runImport(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "import", "Usage: newsmd import [--config FILE] DIR\n\nReads every *.md below DIR (front matter from: or source:) into the store, so\nthose stories are never fetched again. Files that are not posts (no front matter\nwith from: or source:, like a README.md) are skipped and counted; posts that\ncannot be read are listed and make the exit status 1.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return usageError{hintError{errors.New("import: want one folder"), "newsmd import path/to/_posts"}}
	}
	dir := fl.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError{hintError{fmt.Errorf("import: %s is not a folder", dir), "newsmd import path/to/_posts"}}
	}
	c, err := openCrawl(ctx, m, fl, *config, "import")
	if err != nil {
		return err
	}
	defer c.Close()
	var imported, known, skipped, bad int
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
			if errors.Is(err, converter.ErrNotPost) {
				// A README.md, an index page: not a post, nothing to record.
				skipped++
				c.log.Info("skipped: not a post", "path", path, "reason", err.Error())
				return nil
			}
			if err == nil {
				var k crawler.Key
				k, _, err = site.Identify(c.sites, info.Source)
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
	fmt.Fprintf(m.Stdout, "import: %d stories recorded, %d already known, %d files skipped (not posts), %d files not read\n", imported, known, skipped, bad)
	if err != nil {
		return fmt.Errorf("import %s: %w", dir, err)
	}
	if bad > 0 {
		return errSomeFailed
	}
	return nil
}
