package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
)

func (m *Main) getenv(key string) string {
	for _, kv := range m.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (m *Main) environ() []string {
	if m.Env != nil {
		return m.Env
	}
	return os.Environ()
}

// app is a command's configuration, read and compiled once: the config
// (file, then environment overrides, checked), the logger it asks for, and
// the site rules, feeds and post converter compiled from it.
type app struct {
	cfg *config.Config
	// log is the command's logger, scoped with its component; root is the
	// same logger unscoped, for the parts that name their own component
	// (fetch), so that each line has one.
	log, root *slog.Logger
	sites     []*site.Site
	feeds     []*feed.Feed
	conv      *converter.Converter
}

// load reads the configuration the way every command does: the file
// named by --config, else $NEWSMD_CONFIG, else config.yaml in the working
// directory (the built-in defaults when that does not exist); then the
// NEWSMD_* environment overrides; then adjust (a command's flags), when
// not nil; then compile, which checks everything; relative paths resolve
// against the config file's folder.
func (m *Main) load(fl *flag.FlagSet, configPath, component string, adjust func(*config.Config)) (*app, error) {
	explicit := isFlagSet(fl, "config")
	if !explicit {
		if p := m.getenv(config.EnvConfigFile); p != "" {
			configPath, explicit = p, true
		}
	}
	var (
		c   *config.Config
		dir string
	)
	f, err := os.Open(configPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		c = config.Default()
		dir, _ = os.Getwd()
	case err != nil:
		return nil, usageError{hintError{fmt.Errorf("open config: %w", err), "pass --config FILE or set " + config.EnvConfigFile + ", or run from the folder holding config.yaml"}}
	default:
		defer f.Close()
		c, err = config.Parse(f)
		if err != nil {
			return nil, usageError{fmt.Errorf("config %s:\n%w", configPath, err)}
		}
		dir, _ = filepath.Abs(filepath.Dir(configPath))
	}
	if err := c.ApplyEnv(m.environ()); err != nil {
		return nil, usageError{err}
	}
	if adjust != nil {
		adjust(c)
	}
	a, err := compile(c)
	if err != nil {
		return nil, usageError{fmt.Errorf("config (with environment overrides):\n%w", err)}
	}
	c.Output.Dir = resolvePath(dir, c.Output.Dir)
	c.Store.Path = resolvePath(dir, c.Store.Path)
	a.root = m.logger(c.Log)
	a.log = a.root.With("component", component)
	if f == nil {
		// Said once to a person at work; not on every probe of healthcheck.
		level := slog.LevelInfo
		if component == "healthcheck" {
			level = slog.LevelDebug
		}
		a.log.Log(context.Background(), level, "no config.yaml in the working directory; using the built-in defaults")
	}
	return a, nil
}

// compile checks c and compiles its site rules, feeds and output options,
// each once, reporting every problem with its path.
func compile(c *config.Config) (*app, error) {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	sites, serrs := site.Compile("sites", c.Sites)
	feeds, ferrs := feed.Compile("feeds", c.Feeds)
	var lerrs []error // under the merged lists: named by c.Locate
	lerrs = append(lerrs, serrs...)
	lerrs = append(lerrs, ferrs...)
	for i, f := range c.Feeds {
		if f.Site != "" && !slices.ContainsFunc(sites, func(s *site.Site) bool { return s.Name() == f.Site }) {
			lerrs = append(lerrs, &config.FieldError{Path: fmt.Sprintf("feeds[%d].site", i), Err: fmt.Errorf("%q is not the name of a site", f.Site)})
		}
	}
	errs = append(errs, c.Locate(lerrs)...)
	opts := converterOptions(c.Output, sites)
	if err := opts.Validate(); err != nil {
		for _, e := range unjoin(err) {
			if oe, ok := errors.AsType[*converter.OptionError](e); ok {
				e = &config.FieldError{Path: "output." + oe.Key, Err: oe.Err}
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	conv, err := converter.New(opts)
	if err != nil {
		return nil, err
	}
	return &app{cfg: c, sites: sites, feeds: feeds, conv: conv}, nil
}

// converterOptions are the output settings and every site's image
// rewrites as converter options. The rewrites of all sites apply to all
// articles: their patterns name their own hosts, and a story embedding a
// picture of another site needs that site's rewrite too. A time zone that
// does not load is reported by config.Validate.
func converterOptions(o config.Output, sites []*site.Site) converter.Options {
	loc, err := time.LoadLocation(o.Timezone)
	if err != nil {
		loc = time.UTC
	}
	opts := converter.Options{
		Profile:       o.Profile,
		Location:      loc,
		Layout:        o.Layout,
		Author:        o.Author,
		Tags:          o.Tags,
		Categories:    o.Categories,
		KeywordTags:   o.KeywordTags,
		Comments:      o.Comments,
		Extra:         o.Extra,
		TitleMaxRunes: o.TitleMaxRunes,
	}
	for _, s := range sites {
		opts.Rewrites = append(opts.Rewrites, s.ImageRewrites()...)
	}
	return opts
}

// unjoin is the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// logger builds the logger a config.Log asks for.
func (m *Main) logger(lc config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lc.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: secondsAttr}
	text := lc.Format == "text"
	if lc.Format == "" || lc.Format == "auto" {
		text = m.stderrTerminal()
	}
	if text {
		return slog.New(slog.NewTextHandler(m.logOut(), opts))
	}
	return slog.New(slog.NewJSONHandler(m.logOut(), opts))
}

// resolvePath makes p absolute against the config file's folder.
func resolvePath(configDir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(configDir, p)
}

// readAllLimited reads r, refusing more than max bytes.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("input is larger than fetch.max_body_bytes (%d)", max)
	}
	return b, nil
}
