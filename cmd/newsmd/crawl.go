package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/newsmd/newsmd/crawler"
	"github.com/newsmd/newsmd/crawler/fetch"
	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/store"
)

// backend opens the configured store backend.
type backend interface {
	store.Backend
	Migrate(ctx context.Context) ([]string, error)
	Applied() []string
}

func openBackend(ctx context.Context, sc config.Store) (backend, string, error) {
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
		db, err := store.OpenPostgres(ctx, withPoolSize(dsn, sc.MaxConns))
		return db, config.MaskURLPassword(sc.DSN), err
	default:
		if err := os.MkdirAll(filepath.Dir(sc.Path), 0o755); err != nil {
			return nil, sc.Path, err
		}
		db, err := store.OpenSQLite(ctx, sc.Path)
		return db, sc.Path, err
	}
}

// withPoolSize adds pgx's pool_max_conns=n to dsn (a URL or key=value
// string) unless it sets it already, or n is 0.
func withPoolSize(dsn string, n int) string {
	if n <= 0 || strings.Contains(dsn, "pool_max_conns") {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("pool_max_conns", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " pool_max_conns=" + strconv.Itoa(n)
}

// crawl is everything once, run, backfill and import share: the compiled
// configuration, the store, and the runner's settings and parts.
type crawl struct {
	*app
	store *store.Store
	owner string
	// settings and deps build the runner; a command adds its own parts
	// (metrics, progress) to deps before calling runner.
	settings crawler.Config
	deps     crawler.Deps
}

// openCrawl reads the config, opens the store and gathers the runner's
// parts. Its errors are usage errors (exit 2: configuration) or store
// errors (exit 3: a store that does not open).
func openCrawl(ctx context.Context, m *Main, fl *flag.FlagSet, configPath string, component string) (*crawl, error) {
	a, err := m.load(fl, configPath, component, nil)
	if err != nil {
		return nil, err
	}
	return a.openCrawl(ctx, nil)
}

// openCrawl is openCrawl of a loaded configuration. retry, when not nil,
// is called with each error of a store that could not be reached
// (store.Unavailable) and says whether to try again: run waits for its
// database instead of exiting.
func (a *app) openCrawl(ctx context.Context, retry func(error) bool) (*crawl, error) {
	cfg := a.cfg
	var hosts []string
	for _, s := range cfg.Sites {
		hosts = append(hosts, s.Hosts...)
	}
	for _, f := range a.feeds {
		for _, fu := range f.URLs() {
			if u, err := url.Parse(fu); err == nil {
				hosts = append(hosts, u.Hostname())
			}
		}
	}
	fetcher, err := fetch.New(cfg.Fetch, hosts, a.root)
	if err != nil {
		return nil, usageError{err}
	}
	db, where, err := openBackend(ctx, cfg.Store)
	for err != nil && retry != nil && store.Unavailable(err) && retry(err) {
		db, where, err = openBackend(ctx, cfg.Store)
	}
	if err != nil {
		return nil, storeError{storeOpenError(cfg.Store, where, err)}
	}
	if cfg.Store.Driver == "postgres" {
		// Workers sharing a database share each host's budget too, so
		// that politeness is not multiplied by their number. A slot of a
		// killed worker frees itself after a request could have ended.
		gate, err := store.NewHostGate(db, 2*cfg.Fetch.Timeout+10*time.Second)
		if err != nil {
			db.Close()
			return nil, storeError{err}
		}
		fetcher.ShareHosts(gate)
	}
	c := &crawl{app: a, store: store.New(db, cfg.Output.Dir), owner: store.NewOwner()}
	// Once at start, the archive folder too: earlier versions wrote
	// their temporary files beside the posts.
	n, err := store.CleanTemp(cfg.Output.Dir, cfg.Crawl.Lease)
	if m, terr := c.store.CleanTemp(cfg.Crawl.Lease); errors.Join(err, terr) != nil {
		a.log.Warn("could not clean temporary files", "error", errors.Join(err, terr))
	} else if n+m > 0 {
		a.log.Info("removed temporary files of killed writers", "count", n+m)
	}
	adapter := newStoreAdapter(c.store, c.owner, cfg.Crawl.Lease)
	c.settings = crawler.Config{Crawl: cfg.Crawl, Tick: cfg.Server.Tick}
	c.deps = crawler.Deps{
		Fetcher: fetcher, Sites: a.sites, Feeds: a.feeds, Converter: a.conv,
		Claims: adapter, Retries: adapter, States: adapter, Failures: adapter, Log: a.log,
		Refetches: adapter,
	}
	return c, nil
}

// runner is the runner of the command's settings and parts.
func (c *crawl) runner() *crawler.Runner { return crawler.New(c.settings, c.deps) }

func (c *crawl) Close() error { return c.store.Close() }

// storeOpenError says what to do about a store that would not open. The
// backends already name the store ("open store X: ..."), so the name is
// added only when missing.
func storeOpenError(sc config.Store, where string, err error) error {
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
