package main

import (
	"context"
	"errors"
	"fmt"
)

// runOnce polls every feed once and writes the new stories.
func runOnce(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "once", "Usage: newsmd once [--config FILE] [--metrics-file FILE]\n\nPolls every feed once, writes the new stories and prints a summary.\nExit status: 0 all went well, 1 something was left undone (a failed item, a feed or\nstory held by another process, a story waiting for its retry), 2 configuration or\nstore errors.")
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
	fmt.Fprintln(m.Stdout, sum)
	c.log.Info("once done", "summary", sum.String())
	if err != nil {
		return usageError{fmt.Errorf("once: %w", err)}
	}
	if sum.Unfinished() {
		return errSomeFailed
	}
	return nil
}
