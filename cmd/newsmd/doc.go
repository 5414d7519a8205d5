// Command newsmd turns news sites into a Markdown archive of Jekyll or
// Hugo posts.
//
// This package is wiring only, one file per subcommand (run.go, once.go,
// backfill.go, import.go, extract.go, healthcheck.go, config.go,
// migrate.go, demo.go): flags, the config read and compiled once
// (setup.go), the logger, signals, the store opened and adapted to the
// runner's ports (crawl.go, adapter.go), the metrics registry and the
// store's readiness pings (metrics.go) and the health and metrics
// listener (server.go).
// It may import every package of newsmd.
package main
