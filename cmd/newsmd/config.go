package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/newsmd/newsmd"
	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	Output OutputConfig         `yaml:"output"`
	Fetch  crawler.FetchConfig  `yaml:"fetch"`
	Store  StoreConfig          `yaml:"store"`
	Crawl  CrawlConfig          `yaml:"crawl"`
	Server ServerConfig         `yaml:"server"`
	Log    LogConfig            `yaml:"log"`
	Feeds  []crawler.FeedConfig `yaml:"feeds"`
	Sites  []crawler.SiteConfig `yaml:"sites"`
}

// OutputConfig is the shape and place of posts.
type OutputConfig struct {
	Dir           string   `yaml:"dir"`
	Profile       string   `yaml:"profile"`
	Timezone      string   `yaml:"timezone"`
	Layout        string   `yaml:"layout"`
	Author        string   `yaml:"author"`
	Tags          []string `yaml:"tags"`
	Categories    []string `yaml:"categories"`
	KeywordTags   bool     `yaml:"keyword_tags"`
	Comments      bool     `yaml:"comments"`
	Extra         []string `yaml:"extra"`
	TitleMaxRunes int      `yaml:"title_max_runes"`
}

// DefaultConfig is the configuration of the top-level config.yaml, which
// the binary embeds.
func DefaultConfig() *Config {
	var c Config
	if err := yaml.Unmarshal(newsmd.DefaultConfigYAML, &c); err != nil {
		// The embedded file is checked by the tests; this is a build bug.
		panic(fmt.Sprintf("embedded config.yaml: %v", err))
	}
	return &c
}

// ParseConfig reads a configuration over the defaults: keys it leaves out
// keep their default, lists it gives replace the default list. Unknown
// keys and invalid values are all reported, each with its path.
func ParseConfig(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c := DefaultConfig()
	if len(bytes.TrimSpace(data)) == 0 {
		return c, c.Validate()
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	var errs []error
	if len(root.Content) > 0 {
		checkKeys(root.Content[0], reflect.TypeFor[Config](), "", &errs)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := root.Decode(c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}

// checkKeys reports mapping keys that t has no field for, with their path.
func checkKeys(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		// "key:" or "key: null" keeps the default.
	case n.Kind == yaml.AliasNode:
		checkKeys(n.Alias, t, path, errs)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
				names = append(names, name)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := joinPath(path, k)
			ft, ok := fields[k]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s: unknown key (line %d; known keys: %s)", p, n.Content[i].Line, strings.Join(names, ", ")))
				continue
			}
			checkKeys(n.Content[i+1], ft, p, errs)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, e := range n.Content {
			checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Map:
		// A leaf: decode it alone, so a wrong value is reported with its
		// path, not only a line number.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %q is not a valid %s (line %d)", path, n.Value, typeName(t), n.Line))
		}
	default:
		*errs = append(*errs, fmt.Errorf("%s: want a %s (line %d)", path, typeName(t), n.Line))
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration (30s, 5m, 1h)"
	case t.Kind() == reflect.Struct:
		return "mapping"
	case t.Kind() == reflect.Slice:
		return "list"
	}
	return t.Kind().String()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Validate reports every invalid field, each with its path.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &crawler.FieldError{Path: path, Err: fmt.Errorf(format, args...)})
	}
	o := c.Output
	if strings.TrimSpace(o.Dir) == "" {
		bad("output.dir", "required")
	}
	if o.Profile != converter.ProfileJekyll && o.Profile != converter.ProfileHugo {
		bad("output.profile", "%q: want %s or %s", o.Profile, converter.ProfileJekyll, converter.ProfileHugo)
	}
	if _, err := time.LoadLocation(o.Timezone); err != nil || o.Timezone == "" {
		bad("output.timezone", "unknown time zone %q (use an IANA name such as Asia/Singapore)", o.Timezone)
	}
	if o.TitleMaxRunes < 8 || o.TitleMaxRunes > 80 {
		bad("output.title_max_runes", "%d: want 8 to 80", o.TitleMaxRunes)
	}
	for i, e := range o.Extra {
		if !slices.Contains(converter.ExtraFields, e) {
			bad(fmt.Sprintf("output.extra[%d]", i), "%q: want one of %s", e, strings.Join(converter.ExtraFields, ", "))
		}
	}
	errs = append(errs, c.Fetch.Validate("fetch")...)
	switch c.Store.Driver {
	case "sqlite":
		if strings.TrimSpace(c.Store.Path) == "" {
			bad("store.path", "required with the sqlite driver")
		}
	case "postgres":
		if strings.TrimSpace(c.Store.DSN) == "" {
			bad("store.dsn", "required with the postgres driver (postgres://user@host:5432/db)")
		} else if strings.Contains(maskURLPassword(c.Store.DSN), "***") {
			bad("store.dsn", "holds a password: put it in NEWSMD_STORE_PASSWORD instead, so the config file holds no secret")
		}
	default:
		bad("store.driver", "%q: want sqlite or postgres", c.Store.Driver)
	}
	if c.Crawl.Workers < 1 || c.Crawl.Workers > 64 {
		bad("crawl.workers", "%d: want 1 to 64", c.Crawl.Workers)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		bad("log.format", "%q: want auto, text or json", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Server.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
			bad("server.listen", "%q: want host:port (127.0.0.1:9180, :9180) or \"\" for none", c.Server.Listen)
		}
	}
	if c.Server.Tick < 100*time.Millisecond {
		bad("server.tick", "%s: want at least 100ms", c.Server.Tick)
	}
	if c.Crawl.RetryDelay < time.Second {
		bad("crawl.retry_delay", "%s: want at least 1s", c.Crawl.RetryDelay)
	}
	if c.Crawl.RetryDelayMax < c.Crawl.RetryDelay {
		bad("crawl.retry_delay_max", "%s: want at least crawl.retry_delay (%s)", c.Crawl.RetryDelayMax, c.Crawl.RetryDelay)
	}
	if c.Crawl.MaxWait < time.Second {
		bad("crawl.max_wait", "%s: want at least 1s", c.Crawl.MaxWait)
	}
	if c.Crawl.MaxAttempts < 0 {
		bad("crawl.max_attempts", "%d: want 0 (never give up) or more", c.Crawl.MaxAttempts)
	}
	if c.Crawl.GiveUpAfter < 0 {
		bad("crawl.give_up_after", "%s: must not be negative", c.Crawl.GiveUpAfter)
	}
	if c.Crawl.FeedItems < 1 {
		bad("crawl.feed_items", "%d: want at least 1", c.Crawl.FeedItems)
	}
	if c.Crawl.Lease < 10*time.Second {
		bad("crawl.lease", "%s: want at least 10s (longer than fetching and writing one story)", c.Crawl.Lease)
	}
	sites, siteErrs := crawler.CompileSites("sites", c.Sites)
	errs = append(errs, siteErrs...)
	_, feedErrs := crawler.CompileFeeds("feeds", c.Feeds)
	errs = append(errs, feedErrs...)
	for i, f := range c.Feeds {
		if f.Site != "" && !slices.ContainsFunc(sites, func(s *crawler.Site) bool { return s.Name() == f.Site }) {
			bad(fmt.Sprintf("feeds[%d].site", i), "%q is not the name of a site", f.Site)
		}
	}
	return errors.Join(errs...)
}

// CompiledSites compiles the site rules; call it on a validated config.
func (c *Config) CompiledSites() ([]*crawler.Site, error) {
	sites, errs := crawler.CompileSites("sites", c.Sites)
	return sites, errors.Join(errs...)
}

// ConverterOptions turns the output settings and every site's image
// rewrites into converter options. The rewrites of all sites apply to all
// articles: their patterns name their own hosts, and a story embedding a
// picture of another site needs that site's rewrite too.
func (c *Config) ConverterOptions(sites []*crawler.Site) (converter.Options, error) {
	loc, err := time.LoadLocation(c.Output.Timezone)
	if err != nil {
		return converter.Options{}, fmt.Errorf("output.timezone: %w", err)
	}
	o := converter.Options{
		Profile:       c.Output.Profile,
		Location:      loc,
		Layout:        c.Output.Layout,
		Author:        c.Output.Author,
		Tags:          c.Output.Tags,
		Categories:    c.Output.Categories,
		KeywordTags:   c.Output.KeywordTags,
		Comments:      c.Output.Comments,
		Extra:         c.Output.Extra,
		TitleMaxRunes: c.Output.TitleMaxRunes,
	}
	for _, s := range sites {
		o.Rewrites = append(o.Rewrites, s.ImageRewrites()...)
	}
	return o, o.Validate()
}

// resolvePath makes p absolute against the config file's folder.
func resolvePath(configDir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(configDir, p)
}
