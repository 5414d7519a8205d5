package main

import (
	"context"
	"fmt"
)

// runMigrate applies the store's schema migrations and says which. Every
// command also applies them at start; this is for doing it on purpose,
// before starting workers of a new version.
func runMigrate(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "migrate", "Usage: newsmd migrate [--config FILE]\n\nApplies the store's schema migrations (SQLite or PostgreSQL) and lists those\napplied. Running it again changes nothing. Every command also migrates at start.")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	a, err := m.load(fl, *config, "migrate", nil)
	if err != nil {
		return err
	}
	c := a.cfg
	db, where, err := openBackend(ctx, c.Store)
	if err != nil {
		return storeError{hintError{fmt.Errorf("migrate %s: %w", where, err), "check store.driver, store.path or store.dsn and NEWSMD_STORE_PASSWORD"}}
	}
	defer db.Close()
	applied := db.Applied()
	if len(applied) == 0 {
		fmt.Fprintf(m.Stdout, "migrate: %s %s is up to date\n", c.Store.Driver, where)
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(m.Stdout, "migrate: applied %s\n", v)
	}
	fmt.Fprintf(m.Stdout, "migrate: %s %s is up to date\n", c.Store.Driver, where)
	return nil
}
