// Package watch is what an operator sees of the crawler: the Prometheus
// metrics (Metrics: a client_golang registry with the Go and process
// collectors and newsmd_build_info, served on /metrics or written as a
// textfile), the alarms that say the day a
// site changes under newsmd (Alarms: streaks of empty and failed polls
// per feed, stories that fell to the generic extractor, fields a layout
// stopped finding, each a metric and one WARN line with a hint), and the
// outcome of a run (Result per story, Summary and its line).
//
// The runner calls it; it decides nothing about the crawl. It may import
// crawler/feed, crawler/site and converter (for the names of feeds, sites,
// layouts and the fields of an article) and client_golang; never crawler,
// crawler/fetch or store (Metrics satisfies fetch.Observer without
// importing it).
package watch
