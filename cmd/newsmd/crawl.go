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
	"strconv"
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
	// RetryDelay is how long a story that failed transiently waits before
	// a later run retries it (unless the site sent Retry-After).
	RetryDelay time.Duration `yaml:"retry_delay"`
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
		return nil, usageError{hintError{fmt.Errorf("open store %s: %w", where, err), "check store.path (sqlite) or store.dsn and NEWSMD_STORE_PASSWORD (postgres), and that the database is up"}}
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
	host, _ := os.Hostname()
	c := &crawl{cfg: cfg, log: log, sites: sites, feeds: feeds, store: store.New(db, cfg.Output.Dir),
		owner: host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)}
	adapter := &storeAdapter{st: c.store, owner: c.owner, lease: cfg.Crawl.Lease}
	c.runner = &crawler.Runner{
		Fetcher: fetcher, Sites: sites, Feeds: feeds, Converter: conv,
		Claims: adapter, Retries: adapter, States: adapter,
		Log: log, Workers: cfg.Crawl.Workers, RetryDelay: cfg.Crawl.RetryDelay, Takeover: cfg.Crawl.Lease,
	}
	return c, nil
}

func (c *crawl) Close() error { return c.store.Close() }

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

func (a *storeAdapter) Claim(ctx context.Context, k crawler.Key, force bool) (bool, error) {
	var err error
	if force {
		_, err = a.st.ForceClaim(ctx, a.id(k), a.owner, a.lease, time.Now())
	} else {
		_, err = a.st.Claim(ctx, a.id(k), a.owner, a.lease, time.Now())
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrWritten), errors.Is(err, store.ErrClaimed),
		errors.Is(err, store.ErrPermanent), errors.Is(err, store.ErrNotDue):
		return false, nil
	}
	return false, err
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
