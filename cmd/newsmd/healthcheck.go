package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks a running daemon's /healthz, for container images
// without curl.
func runHealthcheck(ctx context.Context, m *Main, args []string) error {
	fl, config := newFlags(m, "healthcheck", "Usage: newsmd healthcheck [--config FILE] [--url URL]\n\nExits 0 when the daemon at server.listen answers /healthz (or /readyz with --ready).")
	target := fl.String("url", "", "health `URL` (default: http://<server.listen>/healthz)")
	ready := fl.Bool("ready", false, "ask /readyz instead of /healthz")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	u := *target
	if u == "" {
		a, err := m.load(fl, *config, "healthcheck", nil)
		if err != nil {
			return err
		}
		cfg := a.cfg
		if cfg.Server.Listen == "" {
			return usageError{errors.New("healthcheck: server.listen is empty: the daemon serves no health endpoint")}
		}
		host, port, err := net.SplitHostPort(cfg.Server.Listen)
		if err != nil {
			return usageError{fmt.Errorf("healthcheck: server.listen: %w", err)}
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		u = "http://" + net.JoinHostPort(host, port) + path
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usageError{fmt.Errorf("healthcheck: %w", err)}
	}
	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: HTTP %d", u, resp.StatusCode)
	}
	fmt.Fprintln(m.Stdout, "ok")
	return nil
}
