package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/store"
)

// StoreConfig is where the state lives.
type StoreConfig struct {
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
}

// backend opens the configured store backend.
type backend interface {
	store.Backend
	Migrate(ctx context.Context) ([]string, error)
	Applied() []string
}

func openBackend(ctx context.Context, sc StoreConfig) (backend, string, error) {
	switch sc.Driver {
	case "postgres":
		dsn := sc.DSN
		if sc.Password != "" {
			u, err := url.Parse(dsn)
			if err != nil || u.Scheme == "" {
				return nil, "", fmt.Errorf("store.dsn: want a URL (postgres://user@host:5432/db) when store.password is set")
			}
			u.User = url.UserPassword(u.User.Username(), sc.Password)
			dsn = u.String()
		}
		db, err := store.OpenPostgres(ctx, dsn)
		return db, maskURLPassword(sc.DSN), err
	default:
		if err := os.MkdirAll(filepath.Dir(sc.Path), 0o755); err != nil {
			return nil, sc.Path, err
		}
		db, err := store.OpenSQLite(ctx, sc.Path)
		return db, sc.Path, err
	}
}

// CrawlConfig tunes the work of once, run and backfill.
type CrawlConfig struct {
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
}

// crawl is everything once, run, backfill and import share.
type crawl struct {
	cfg    *Config
	log    *slog.Logger
	sites  []*crawler.Site
	feeds  []*crawler.Feed
	store  *store.Store
	runner *crawler.Runner
	owner  string
}

// openCrawl reads the config, opens the store and builds the runner.
// Errors are usage errors (exit 2): configuration or store.
func openCrawl(ctx context.Context, m *Main, fl *flag.FlagSet, configPath string, component string) (*crawl, error) {
	cfg, log, err := m.load(fl, configPath, component)
	if err != nil {
		return nil, err
	}
	sites, err := cfg.CompiledSites()
	if err != nil {
		return nil, usageError{err}
	}
	feeds, ferrs := crawler.CompileFeeds("feeds", cfg.Feeds)
	if len(ferrs) > 0 {
		return nil, usageError{errors.Join(ferrs...)}
	}
	opts, err := cfg.ConverterOptions(sites)
	if err != nil {
		return nil, usageError{err}
	}
	conv, err := converter.New(opts)
	if err != nil {
		return nil, usageError{err}
	}
	var hosts []string
	for _, s := range cfg.Sites {
		hosts = append(hosts, s.Hosts...)
	}
	for _, f := range feeds {
		if u, err := url.Parse(f.URL()); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	fetcher, err := crawler.NewFetcher(cfg.Fetch, hosts, log)
	if err != nil {
		return nil, usageError{err}
	}
	db, where, err := openBackend(ctx, cfg.Store)
	if err != nil {
		return nil, usageError{storeOpenError(cfg.Store, where, err)}
	}
	if cfg.Store.Driver == "postgres" {
		// Workers sharing a database share each host's budget too, so
		// that politeness is not multiplied by their number. A slot of a
		// killed worker frees itself after a request could have ended.
		gate, err := store.NewHostGate(db, 2*cfg.Fetch.Timeout+10*time.Second)
		if err != nil {
			return nil, usageError{err}
		}
		fetcher.ShareHosts(gate)
	}
	if n, err := store.CleanTemp(cfg.Output.Dir, cfg.Crawl.Lease); err != nil {
		log.Warn("could not clean temporary files", "error", err)
	} else if n > 0 {
		log.Info("removed temporary files of killed writers", "count", n)
	}
	c := &crawl{cfg: cfg, log: log, sites: sites, feeds: feeds, store: store.New(db, cfg.Output.Dir), owner: store.NewOwner()}
	adapter := &storeAdapter{st: c.store, owner: c.owner, lease: cfg.Crawl.Lease}
	c.runner = &crawler.Runner{
		Fetcher: fetcher, Sites: sites, Feeds: feeds, Converter: conv,
		Claims: adapter, Retries: adapter, States: adapter, Failures: adapter,
		Log: log, Workers: cfg.Crawl.Workers, Takeover: cfg.Crawl.Lease,
		RetryDelay: cfg.Crawl.RetryDelay, RetryDelayMax: cfg.Crawl.RetryDelayMax, MaxWait: cfg.Crawl.MaxWait,
		MaxAttempts: cfg.Crawl.MaxAttempts, GiveUpAfter: cfg.Crawl.GiveUpAfter, FeedItems: cfg.Crawl.FeedItems,
	}
	return c, nil
}

func (c *crawl) Close() error { return c.store.Close() }

// storeOpenError says what to do about a store that would not open. The
// backends already name the store ("open store X: ..."), so the name is
// added only when missing.
func storeOpenError(sc StoreConfig, where string, err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "open store") {
		err = fmt.Errorf("open store %s: %w", where, err)
	}
	hint := "check store.path and that its folder is writable"
	switch {
	case sc.Driver == "postgres":
		hint = "check store.dsn and NEWSMD_STORE_PASSWORD, and that the database is up"
	case strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt"):
		hint = "the state database " + where + " is damaged: move it aside (the posts stay) and run `newsmd import " +
			"<output.dir>` to rebuild what it knew, or restore it from a backup"
	case strings.Contains(msg, "locked") || strings.Contains(msg, "busy"):
		hint = "another process holds " + where + " locked for too long; check what else uses it"
	}
	return hintError{err, hint}
}

// storeAdapter gives the crawler the store as the small interfaces it
// defines, for one worker (owner).
type storeAdapter struct {
	st    *store.Store
	owner string
	lease time.Duration
}

func (a *storeAdapter) id(k crawler.Key) store.Identity {
	return store.Identity{URL: k.URL, SiteKey: k.SiteKey}
}

func (a *storeAdapter) Claim(ctx context.Context, k crawler.Key, force bool) (crawler.Claim, error) {
	var rec store.Record
	var err error
	if force {
		rec, err = a.st.ForceClaim(ctx, a.id(k), a.owner, a.lease, time.Now())
	} else {
		rec, err = a.st.Claim(ctx, a.id(k), a.owner, a.lease, time.Now())
	}
	c := crawler.Claim{Attempts: rec.Attempts}
	switch {
	case err == nil:
		c.Status = crawler.Claimed
	case errors.Is(err, store.ErrWritten), errors.Is(err, store.ErrPermanent):
		c.Status = crawler.Done
	case errors.Is(err, store.ErrClaimed):
		c.Status = crawler.HeldElsewhere
	case errors.Is(err, store.ErrNotDue):
		c.Status = crawler.NotDue
	default:
		return c, err
	}
	return c, nil
}

func (a *storeAdapter) Release(ctx context.Context, k crawler.Key) error {
	return a.st.Release(ctx, a.id(k), a.owner)
}

func (a *storeAdapter) NoteFailure(ctx context.Context, url string, feedCopy []byte) (time.Time, []byte, error) {
	f, err := a.st.NoteFailure(ctx, url, time.Now(), feedCopy)
	return f.Since, f.FeedCopy, err
}

func (a *storeAdapter) Publish(ctx context.Context, k crawler.Key, name string, content []byte) (string, error) {
	return a.st.Publish(ctx, a.id(k), a.owner, name, content)
}

func (a *storeAdapter) Fail(ctx context.Context, k crawler.Key, reason string, permanent bool, retryAt time.Time) error {
	return a.st.MarkFailed(ctx, a.id(k), a.owner, reason, permanent, retryAt)
}

func (a *storeAdapter) Due(ctx context.Context, limit int) ([]crawler.Key, error) {
	recs, err := a.st.Due(ctx, time.Now(), limit)
	if err != nil {
		return nil, err
	}
	keys := make([]crawler.Key, len(recs))
	for i, r := range recs {
		keys[i] = crawler.Key{URL: r.ID.URL, SiteKey: r.ID.SiteKey}
	}
	return keys, nil
}

func (a *storeAdapter) ClaimFeed(ctx context.Context, feedURL string) (crawler.FeedState, bool, error) {
	ok, err := a.st.ClaimFeed(ctx, feedURL, a.owner, a.lease, time.Now())
	if err != nil || !ok {
		return crawler.FeedState{}, false, err
	}
	st, err := a.st.FeedState(ctx, feedURL)
	if err != nil {
		return crawler.FeedState{}, false, err
	}
	return crawler.FeedState{ETag: st.ETag, LastModified: st.LastModified, LastPoll: st.LastPoll, NextPoll: st.NextPoll,
		Failures: st.Failures, LastError: st.LastError}, true, nil
}

func (a *storeAdapter) ReleaseFeed(ctx context.Context, feedURL string, fs crawler.FeedState) error {
	err := a.st.SaveFeedState(ctx, store.FeedState{FeedURL: feedURL, ETag: fs.ETag, LastModified: fs.LastModified,
		LastPoll: fs.LastPoll, NextPoll: fs.NextPoll, Failures: fs.Failures, LastError: fs.LastError})
	return errors.Join(err, a.st.ReleaseFeed(ctx, feedURL, a.owner))
}
