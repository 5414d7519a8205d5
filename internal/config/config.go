package config

import (
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration file.
type Config struct {
	Output Output `yaml:"output"`
	Fetch  Fetch  `yaml:"fetch"`
	Store  Store  `yaml:"store"`
	Crawl  Crawl  `yaml:"crawl"`
	Server Server `yaml:"server"`
	Log    Log    `yaml:"log"`
	Feeds  []Feed `yaml:"feeds"`
	Sites  []Site `yaml:"sites"`
}

// Output is the shape and place of posts.
type Output struct {
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

// Fetch is how pages and feeds are fetched: the fetch: block of
// config.yaml. Durations are Go duration strings ("1s", "5m").
type Fetch struct {
	// UserAgent is sent with every request and matched against robots.txt.
	UserAgent string `yaml:"user_agent"`
	// Timeout bounds one request, headers and body: a body still arriving
	// then is ErrTruncated.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBodyBytes: a larger body, counted after decompression, is
	// ErrTooLarge, never a short page.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Concurrency is the number of requests in flight to one host.
	Concurrency int `yaml:"concurrency"`
	// Delay is the least time between the starts of two requests to one
	// host; RandomDelay adds up to that much more, at random.
	Delay       time.Duration `yaml:"delay"`
	RandomDelay time.Duration `yaml:"random_delay"`
	// RobotsTxt honours the hosts' robots.txt.
	RobotsTxt bool `yaml:"robots_txt"`
	// Retries is how many times a timeout, connection error, 429 or 5xx is
	// retried, after waits growing from BackoffBase to BackoffMax (with
	// full jitter) or as long as Retry-After asks, up to BackoffMax.
	Retries     int           `yaml:"retries"`
	BackoffBase time.Duration `yaml:"backoff_base"`
	BackoffMax  time.Duration `yaml:"backoff_max"`
	// HostBackoffMax caps the time a host that keeps failing is left
	// alone; the pause starts at a minute and doubles while it fails.
	HostBackoffMax time.Duration `yaml:"host_backoff_max"`
}

// Validate reports every invalid field of c, each with its path under
// prefix ("fetch.delay: ...").
func (c Fetch) Validate(prefix string) []error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		BadField(&errs, prefix+"."+field, format, args...)
	}
	if strings.TrimSpace(c.UserAgent) == "" {
		bad("user_agent", "required: sites block requests without one")
	}
	if c.Timeout <= 0 {
		bad("timeout", "%v: must be positive", c.Timeout)
	}
	if c.MaxBodyBytes < 1024 {
		bad("max_body_bytes", "%d: want at least 1024", c.MaxBodyBytes)
	}
	if c.Concurrency < 1 {
		bad("concurrency", "%d: want at least 1", c.Concurrency)
	}
	if c.Delay < 0 {
		bad("delay", "%v: must not be negative", c.Delay)
	}
	if c.RandomDelay < 0 {
		bad("random_delay", "%v: must not be negative", c.RandomDelay)
	}
	if c.Retries < 0 || c.Retries > 20 {
		bad("retries", "%d: want 0 to 20", c.Retries)
	}
	if c.BackoffBase <= 0 {
		bad("backoff_base", "%v: must be positive", c.BackoffBase)
	}
	if c.BackoffMax < c.BackoffBase {
		bad("backoff_max", "%v: must be at least backoff_base (%v)", c.BackoffMax, c.BackoffBase)
	}
	if c.HostBackoffMax <= 0 {
		bad("host_backoff_max", "%v: must be positive", c.HostBackoffMax)
	}
	return errs
}

// Store is where the state lives.
type Store struct {
	// Driver is sqlite (one machine; the default) or postgres (several
	// workers sharing one database).
	Driver string `yaml:"driver"`
	// Path of the SQLite database.
	Path string `yaml:"path"`
	// DSN of the PostgreSQL database (postgres://user@host:5432/db), without
	// the password: that goes in Password, set from the environment
	// (NEWSMD_STORE_PASSWORD), so the config file holds no secret.
	DSN      string `yaml:"dsn"`
	Password string `yaml:"password"`
	// MaxConns is how many connections a worker opens to PostgreSQL at
	// most (pgx's pool_max_conns; a pool_max_conns in DSN wins): small,
	// so that 50 workers stay under the server's default
	// max_connections of 100.
	MaxConns int `yaml:"max_conns"`
}

// Crawl tunes the work of once, run and backfill.
type Crawl struct {
	// Workers is how many stories are processed at once; politeness per
	// host is fetch's.
	Workers int `yaml:"workers"`
	// Lease is how long a worker holds a story or a feed before another
	// may take it over (a killed worker's work is picked up after it).
	Lease time.Duration `yaml:"lease"`
	// RetryDelay is how long a story that failed transiently first waits
	// before it is retried; the wait doubles with each failed attempt, up
	// to RetryDelayMax. The site's Retry-After, or the end of a host's
	// backoff, set the time instead.
	RetryDelay    time.Duration `yaml:"retry_delay"`
	RetryDelayMax time.Duration `yaml:"retry_delay_max"`
	// MaxWait caps every wait a server asks for (Retry-After, Cache-Control
	// max-age, RSS <ttl>) on feed polls, story retries and host backoffs.
	MaxWait time.Duration `yaml:"max_wait"`
	// A story that failed MaxAttempts times over at least GiveUpAfter is
	// given up: written from its feed's copy when the feed carried the
	// full text (front matter source: feed), else failed for good. 0
	// attempts never gives up.
	MaxAttempts int           `yaml:"max_attempts"`
	GiveUpAfter time.Duration `yaml:"give_up_after"`
	// FeedItems caps the items taken from one poll of a feed, newest first.
	FeedItems int `yaml:"feed_items"`
	// RefetchTruncatedAfter is how long after a post a paywall cut short
	// (front matter truncated: true) was written its page is fetched again
	// by once and run, in case the full text has appeared; each later
	// re-fetch waits twice as long as the one before. The post is rewritten
	// in place when the new copy is whole or longer. 0 turns re-fetching
	// off.
	RefetchTruncatedAfter time.Duration `yaml:"refetch_truncated_after"`
	// RefetchTruncatedTimes is the most re-fetches of one post; after
	// them, a post still cut short is left as it is.
	RefetchTruncatedTimes int `yaml:"refetch_truncated_times"`
}

// Server is the daemon's HTTP listener.
type Server struct {
	// Listen is the address of /healthz, /readyz and /metrics; "" turns the
	// listener off.
	Listen string `yaml:"listen"`
	// Tick is how often run looks for feeds due for a poll.
	Tick time.Duration `yaml:"tick"`
}

// Log is how newsmd logs.
type Log struct {
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// Feed is one feed as written in config.yaml (a list under feeds:).
type Feed struct {
	// Name identifies the feed in logs, metrics and the store's per-feed
	// state.
	Name string `yaml:"name"`
	// Type is "rss" (RSS, Atom or JSON Feed; the default), "listing" (an
	// HTML section page) or "json_listing" (the zaobao JSON listing).
	Type string `yaml:"type"`
	// URL is the absolute http(s) URL of the feed or listing.
	URL string `yaml:"url"`
	// URLs are more addresses of the same feed, tried in order after URL
	// (or alone, without URL) on every poll: the first that answers with
	// items wins, so a feed survives the day its site moves a listing.
	// The first URL names the feed's state in the store.
	URLs []string `yaml:"urls"`
	// Pages is how many pages of a listing each poll reads; default 1, at
	// most 10. Listing pages are numbered from 0 (zaobao's page=1 is the
	// second page): a "{page}" in a URL is replaced by the page's number;
	// a URL without one is read as written for the first page, and the
	// next ones count its query parameter page on (page=1, page=2… when
	// it has none).
	Pages int `yaml:"pages"`
	// Timezone is the zone of times the feed prints without one, or with a
	// zone abbreviation (CST, SGT, HKT); default Asia/Singapore.
	Timezone string `yaml:"timezone"`
	// Interval is the time between polls, a Go duration such as "10m";
	// default 10m, at least 1m.
	Interval string `yaml:"interval"`
	// Links are CSS selectors of the story links of a "listing" page,
	// matched in page order. Zaobao's layouts over the years:
	//
	//	.article-list .article-type a
	//	.post-list .row.list a
	//	.on-listing-pages a
	//	.card-listing .card .content-header a
	//	[data-testid="article-list"] article a
	//
	// A selector may match the link itself or an element containing it.
	Links []string `yaml:"links"`
	// Site names the site rules used for the feed's articles (optional;
	// by default the rules are chosen by the article URL's host).
	Site string `yaml:"site"`
}

// Site is one site's rules as written in config.yaml. Only Name and Hosts
// are required: a site without Layouts is read by the generic extractor.
type Site struct {
	// Name identifies the site in logs and in Article.Extractor.
	Name string `yaml:"name"`
	// Title is the publication's name (联合早报), the post's default author
	// and tag ({site}); default: Name.
	Title string `yaml:"title"`
	// Hosts are the host names the rules apply to, without scheme or path;
	// a host belongs to one site. Subdomains of a listed host match too. URLs on the scheme's default port (and the port of
	// CanonicalHost) are allowed; "host:port" allows another port.
	Hosts []string `yaml:"hosts"`
	// CanonicalHost replaces the host of every article URL of the site;
	// default: the URL's own.
	CanonicalHost string `yaml:"canonical_host"`
	// CanonicalScheme is the scheme of canonical URLs: https (the
	// default) or http, for a site (or a test mirror) without TLS.
	CanonicalScheme string `yaml:"canonical_scheme"`
	// Timezone is the zone of times the site prints without one, or with
	// a zone abbreviation (CST, SGT, HKT); default Asia/Singapore.
	Timezone string `yaml:"timezone"`
	// StoryID is a regular expression on the URL path whose first group is
	// the story's stable identity. With one, canonical URLs drop the query;
	// without one they keep it, less tracking parameters.
	StoryID string `yaml:"story_id"`
	// Section is a regular expression on the URL path whose first group is
	// the section (realtime/world).
	Section string `yaml:"section"`
	// Remove lists CSS selectors of noise removed from every body.
	Remove []string `yaml:"remove"`
	// Paywall lists CSS selectors of paywall prompts: when one is in the
	// body, the article is marked truncated and the prompt removed.
	Paywall []string `yaml:"paywall"`
	// PaywallText lists phrases that mark a paywall prompt paragraph.
	PaywallText []string `yaml:"paywall_text"`
	// ImageRewrites rewrite image URLs (applied by the converter).
	ImageRewrites []Rewrite `yaml:"image_rewrites"`
	// Layouts are tried in order; the first that yields a body wins. With
	// none, or none matching, the generic extractor reads the page.
	Layouts []Layout `yaml:"layouts"`
}

// Rewrite is a regular expression and its replacement ($1 for groups).
type Rewrite struct {
	Match   string `yaml:"match"`
	Replace string `yaml:"replace"`
}

// Layout describes one page layout of a site. Every field is a list
// of sources tried in order; see Source for their syntax.
type Layout struct {
	Name string `yaml:"name"`
	// When is a CSS selector the page must match for the layout to apply.
	When string `yaml:"when"`
	// Hydration locates a JSON payload a script assigns to a variable, for
	// "json:" sources.
	Hydration *Hydration `yaml:"hydration"`

	Title        []string `yaml:"title"`
	Published    []string `yaml:"published"`
	Modified     []string `yaml:"modified"`
	Author       []string `yaml:"author"`
	Keywords     []string `yaml:"keywords"`
	Section      []string `yaml:"section"`
	Image        []string `yaml:"image"`
	ImageCaption []string `yaml:"image_caption"`
	// Body sources yield HTML: the inner HTML of the first element a
	// css: source matches, or an HTML string from json: or ldjson:.
	Body []string `yaml:"body"`
	// Gallery is a CSS selector of images outside the body (carousels) that
	// belong to the story; they are shown before the body with their
	// data-caption.
	Gallery string `yaml:"gallery"`
	// Remove lists CSS selectors of noise removed from this layout's body.
	Remove []string `yaml:"remove"`
	// Unshuffle names the attribute that holds each body child's reading
	// position, as 3 junk characters and the base32 of the decimal number.
	Unshuffle string `yaml:"unshuffle"`
	// Images find every image of the story, each with its caption; the
	// rules' images are taken in order, without duplicates.
	Images []ImageRule `yaml:"images"`
	// Truncated lists sources that mark the article truncated (a paywall
	// cut it) when one yields a value, after its "| re:" filter:
	// "json:is_full_body | re:^false$".
	Truncated []string `yaml:"truncated"`
}

// ImageRule finds images and their captions. From is a json:, ldjson: or
// css: source without a filter. A json: or ldjson: source yields values:
// a string is an image URL, an object an image whose URL and Caption are
// paths into it (default: url or contentUrl, and caption). A css: source
// yields elements: URL is "[SELECTOR]@ATTRIBUTE" inside the element
// (default @imgsrc, the best image URL of the element or of the first
// <img> in it), Caption "SELECTOR" (its text) or "[SELECTOR]@ATTRIBUTE".
type ImageRule struct {
	From    string `yaml:"from"`
	URL     string `yaml:"url"`
	Caption string `yaml:"caption"`
}

// Hydration finds `window.<Variable> = JSON.parse("…")` (or a plain
// object literal) in a script, and the article at Path inside it.
type Hydration struct {
	Variable string `yaml:"variable"`
	Path     string `yaml:"path"`
}

// FieldError is a configuration problem at a path such as
// "sites[0].layouts[2].title[1]".
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// BadField adds a FieldError at path, with the formatted message, to errs.
func BadField(errs *[]error, path, format string, args ...any) {
	*errs = append(*errs, &FieldError{Path: path, Err: fmt.Errorf(format, args...)})
}
