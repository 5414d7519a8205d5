package main

import (
	"context"
	"errors"
	"fmt"
)

// runOnce polls every feed once and writes the new stories.
func runOnce(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "once", "Usage: newsmd once [--config FILE] [--metrics-file FILE]\n\nPolls every feed once, writes the new stories and prints a summary.\nExit status: 0 all went well; 1 something was left undone (a failed item, a feed or\nstory held by another process, a story waiting for its retry), which a later run\nretries; 2 bad invocation or configuration; 3 store or archive folder unavailable;\n130 or 143 interrupted by SIGINT or SIGTERM (nothing lost, the next run continues).")
	metricsFile := fl.String("metrics-file", "", "write the run's metrics to `FILE` in Prometheus' text format (atomically), for node_exporter's textfile collector")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Errorf("once: unexpected argument %q", fl.Arg(0))}
	}
	c, err := openCrawl(ctx, m, fl, *config, "once")
	if err != nil {
		return err
	}
	defer c.Close()
	metrics := c.metrics()
	sum, err := c.runner().Once(ctx)
	if *metricsFile != "" {
		if werr := metrics.WriteFile(*metricsFile); werr != nil {
			err = errors.Join(err, hintError{werr, "check that --metrics-file names a file in a writable folder"})
		}
	}
	// The summary is printed once, on standard output: cron mails it and
	// the journal keeps it; a log line with the same text would show it
	// twice on a terminal.
	fmt.Fprintln(m.Stdout, sum)
	if err != nil {
		return storeError{fmt.Errorf("once: %w", err)}
	}
	if sum.Unfinished() {
		return errSomeFailed
	}
	return nil
}
