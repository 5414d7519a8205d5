package main

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestWithPoolSize: store.max_conns reaches pgx's pool as pool_max_conns,
// in both DSN forms, unless the DSN sets its own.
func TestWithPoolSize(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		n    int
		want int32
	}{
		{"postgres://newsmd@127.0.0.1:5432/test?sslmode=disable", 4, 4},
		{"postgres://newsmd@127.0.0.1:5432/test", 2, 2},
		{"host=127.0.0.1 port=5432 dbname=test user=newsmd", 3, 3},
		{"postgres://newsmd@127.0.0.1:5432/test?pool_max_conns=7", 4, 7},
	} {
		dsn := withPoolSize(tc.dsn, tc.n)
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			t.Errorf("%s: %v", dsn, err)
			continue
		}
		if cfg.MaxConns != tc.want {
			t.Errorf("%s with %d: got pool of %d, want %d", tc.dsn, tc.n, cfg.MaxConns, tc.want)
		}
	}
}
