package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/store"
)

func runExtract(ctx context.Context, m *Main, args []string) error {
	fl := flag.NewFlagSet("extract", flag.ContinueOnError)
	fl.SetOutput(m.Stderr)
	configPath := fl.String("config", "config.yaml", "configuration `file`")
	pageURL := fl.String("url", "", "the article's `URL` (required)")
	htmlFile := fl.String("html", "", "read the page from `file` (- for stdin) instead of fetching it")
	asJSON := fl.Bool("json", false, "print the extracted article as JSON instead of the post")
	outDir := fl.String("out", "", "write the post into `dir` under its file name and print the path")
	profile := fl.String("profile", "", "front matter profile, jekyll or hugo (default: output.profile)")
	fl.Usage = func() {
		fmt.Fprintln(m.Stderr, "Usage: newsmd extract --url URL [--html FILE] [--json] [--out DIR] [--profile jekyll|hugo] [--config FILE]")
		fmt.Fprintln(m.Stderr, "\nExtracts one article page and prints its Markdown post. With --html the page is read")
		fmt.Fprintln(m.Stderr, "from the file and nothing is fetched; without it the page is fetched once.")
		fmt.Fprintln(m.Stderr, "\nFlags:")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Errorf("extract: unexpected argument %q", fl.Arg(0))}
	}
	if *pageURL == "" {
		return usageError{hintError{errors.New("extract: --url is required"), "newsmd extract --url https://www.zaobao.com/realtime/world/story20211118-1214802 [--html saved-page.html]"}}
	}
	a, err := m.load(fl, *configPath, "extract", func(c *config.Config) {
		if *profile != "" {
			c.Output.Profile = *profile
		}
	})
	if err != nil {
		return err
	}
	cfg, log := a.cfg, a.log

	var page []byte
	// A page that gives no date of its own is dated by its Last-Modified
	// header, else by now: the fetch time, or for a saved page (--html) the
	// time it is extracted, the best there is (date_source "fetched").
	hints := site.Hints{Fetched: time.Now()}
	switch *htmlFile {
	case "":
		page, hints.LastModified, err = fetchOnePage(ctx, cfg, *pageURL, a.root)
		if err != nil {
			return hintError{err, "save the page with a browser and pass it with --html FILE to work offline"}
		}
	case "-":
		page, err = readAllLimited(m.Stdin, cfg.Fetch.MaxBodyBytes)
	default:
		var f *os.File
		f, err = os.Open(*htmlFile)
		if err == nil {
			page, err = readAllLimited(f, cfg.Fetch.MaxBodyBytes)
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("extract: read page: %w", err)
	}

	article, err := site.ExtractWith(page, *pageURL, a.sites, hints)
	if err != nil {
		return hintError{err, "run 'newsmd extract --json' on a saved page and check the site's layouts in the config"}
	}
	if strings.HasPrefix(article.Extractor, "generic (") {
		log.Warn("site rules matched no layout; used the generic extractor", "article_url", article.URL, "extractor", article.Extractor)
	}
	if *asJSON {
		article.BodyHTML = article.HTML()
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(article)
	}
	post, err := a.conv.Render(article)
	if err != nil {
		return fmt.Errorf("extract %s: %w", article.URL, err)
	}
	if *outDir == "" {
		_, err = m.Stdout.Write(post.Content)
		return err
	}
	path := filepath.Join(*outDir, post.Name)
	if err := store.WriteFile(path, post.Content, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, path)
	return nil
}

// fetchOnePage fetches the page the user named. It may redirect to that
// page's host or to a site's hosts. robots.txt is not consulted: this is
// one fetch a person asked for, not crawling. lastModified is the page's
// Last-Modified header, zero when it has none.
func fetchOnePage(ctx context.Context, cfg *config.Config, pageURL string, log *slog.Logger) (page []byte, lastModified time.Time, err error) {
	fc := cfg.Fetch
	fc.RobotsTxt = false
	var hosts []string
	if u, err := url.Parse(pageURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	for _, s := range cfg.Sites {
		hosts = append(hosts, s.Hosts...)
	}
	f, err := fetch.New(fc, hosts, log)
	if err != nil {
		return nil, time.Time{}, err
	}
	resp, err := f.Get(ctx, pageURL, fetch.Conditional{})
	if err != nil {
		return nil, time.Time{}, err
	}
	lastModified, _ = http.ParseTime(resp.LastModified)
	return resp.Body, lastModified, nil
}
