package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// BenchmarkWorkers measures the throughput of 1, 2 and 3 newsmd run
// workers sharing PostgreSQL, against three fake hosts that answer article
// pages after 50 ms, each allowed 2 requests at once (fetch.concurrency)
// and no delay. Each worker handles 2 stories at once (crawl.workers).
func BenchmarkWorkers(b *testing.B) {
	for _, n := range []int{1, 2, 3} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dsn := pgSchemaTB(b)
				const perHost = 100
				var sites []*fakesite.Site
				for k := range 3 {
					stories := fakesite.Stories(perHost, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
					for i := range stories {
						stories[i].ID += 100000 * (k + 1)
					}
					s := fakesite.New(stories)
					s.SetLatency(50 * time.Millisecond)
					sites = append(sites, s)
				}
				dir := b.TempDir()
				c := config.Default()
				readYAMLConfig(b, e2eConfig(b, sites[0], dir), c)
				c.Store.Driver, c.Store.DSN = "postgres", dsn
				c.Sites[0].CanonicalHost = ""
				for _, s := range sites {
					c.Sites[0].Hosts = append(c.Sites[0].Hosts, s.Host())
				}
				c.Fetch.Concurrency, c.Fetch.Delay = 2, 0
				c.Fetch.Timeout = 10 * time.Second
				c.Crawl.Workers = 2
				c.Server.Listen, c.Server.Tick = "", 100*time.Millisecond
				c.Feeds = nil
				for k, s := range sites {
					for _, sec := range fakesite.Sections {
						c.Feeds = append(c.Feeds, yamlFeed(fmt.Sprintf("h%d-%s", k, sec), "rss", s.FeedURL(sec)))
					}
				}
				cfg := writeYAMLConfig(b, c, dir)
				if code, out, errOut := runTB(b, "migrate", "--config", cfg); code != 0 {
					b.Fatalf("migrate: %s %s", out, errOut)
				}
				b.StartTimer()
				start := time.Now()
				var procs []*exec.Cmd
				for range n {
					cmd := exec.Command(buildBinary(b), "run", "--config", cfg)
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					procs = append(procs, cmd)
				}
				for time.Since(start) < 3*time.Minute && countMD(dir) < 3*perHost {
					time.Sleep(20 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				for _, p := range procs {
					p.Process.Signal(syscall.SIGTERM)
					p.Wait()
				}
				for _, s := range sites {
					s.Close()
				}
				if got := countMD(dir); got != 3*perHost {
					b.Fatalf("%d posts, want %d", got, 3*perHost)
				}
				b.ReportMetric(float64(3*perHost)/elapsed.Seconds(), "articles/s")
				b.StartTimer()
			}
		})
	}
}

func runTB(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	cmd := exec.Command(buildBinary(tb), args...)
	out, err := cmd.Output()
	errOut := ""
	if ee, ok := err.(*exec.ExitError); ok {
		errOut = string(ee.Stderr)
	}
	return cmd.ProcessState.ExitCode(), string(out), errOut
}
