package main

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsmd/newsmd/internal/config"
	"github.com/newsmd/newsmd/internal/fakesite"
)

// pipelineStories is the size of the archive the pipeline benchmarks
// write: four feeds of 500 items each, plus a listing of 500 that repeats
// one of them.
const pipelineStories = 2000

// pipelineSite starts a fake site with pipelineStories stories and logs
// the size of its feeds, which list a whole section each.
func pipelineSite(b *testing.B) *fakesite.Site {
	b.Helper()
	site := fakesite.New(fakesite.Stories(pipelineStories, time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)))
	b.Cleanup(site.Close)
	resp, err := http.Get(site.FeedURL(fakesite.Sections[0]))
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("feed %s: %d items, %d bytes", fakesite.Sections[0], bytes.Count(body, []byte("<item>")), len(body))
	return site
}

// pipelineConfig writes the config of a crawl of the fake site into dir,
// with politeness off: no delay, 16 requests in flight per host, 8
// workers. It is e2eConfig's crawl, built for a benchmark.
func pipelineConfig(b *testing.B, site *fakesite.Site, dir string) string {
	b.Helper()
	c := config.Default()
	readYAMLConfig(b, e2eConfig(b, site, dir), c)
	// Politeness off: the pipeline's own speed.
	c.Fetch.Delay = 0
	c.Fetch.RandomDelay = 0
	c.Fetch.Concurrency = 16
	c.Fetch.Timeout = 30 * time.Second
	c.Crawl.Workers = 8
	c.Crawl.FeedItems = 500 // each feed lists a whole section
	return writeYAMLConfig(b, c, dir)
}

// countPosts counts the finished posts in dir/_posts.
func countPosts(b *testing.B, dir string) int {
	b.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "_posts"))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// heapPeak samples the bytes of live and not-yet-swept heap objects every
// 10 ms until stop is called, which returns the largest sample.
func heapPeak() (stop func() uint64) {
	const name = "/memory/classes/heap/objects:bytes"
	sample := []metrics.Sample{{Name: name}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var (
		peak = read()
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return max(peak, read())
	}
}

// vmHWM is the peak resident set size of this process so far
// (/proc/self/status VmHWM), in bytes; 0 where there is no /proc.
func vmHWM() uint64 { return procHWM("/proc/self/status") }

// childHWM samples the VmHWM of process pid every 10 ms until stop is
// called, which returns the largest sample, in bytes.
func childHWM(pid int) (stop func() uint64) {
	status := "/proc/" + strconv.Itoa(pid) + "/status"
	var (
		peak = procHWM(status)
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peak = max(peak, procHWM(status))
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

func procHWM(status string) uint64 {
	f, err := os.Open(status)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

const mb = 1 << 20

// BenchmarkPipeline runs the whole of `newsmd once` in this process
// against a fake site of 2,000 stories with politeness off: feeds, page
// fetches, extraction, rendering, the SQLite store's claims and
// publications (synchronous=FULL) and the posts' atomic writes. Each
// iteration starts from an empty archive and store; setting them up and
// counting the posts is not timed. The fake site runs in this process too,
// so its CPU and heap are part of the figures.
//
// peak-heap-MB is the largest heap sampled every 10 ms during a run;
// vmhwm-MB is the process's peak RSS, which only grows and includes the
// test binary and the fake site.
func BenchmarkPipeline(b *testing.B) {
	site := pipelineSite(b)
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		cfg := pipelineConfig(b, site, dir)
		runtime.GC()
		stop := heapPeak()
		b.StartTimer()

		fl := flag.NewFlagSet("once", flag.ContinueOnError)
		fl.String("config", "", "")
		fl.Set("config", cfg)
		c, err := openCrawl(b.Context(), m, fl, cfg, "once")
		if err != nil {
			b.Fatal(err)
		}
		sum, err := c.runner().Once(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		peak = max(peak, stop())
		if sum.Written != pipelineStories || sum.Failed != 0 {
			b.Fatalf("summary: %s; want %d written, none failed", sum, pipelineStories)
		}
		if n := countPosts(b, dir); n != pipelineStories {
			b.Fatalf("got %d posts, want %d", n, pipelineStories)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(pipelineStories*b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(float64(peak)/mb, "peak-heap-MB")
	b.ReportMetric(float64(vmHWM())/mb, "vmhwm-MB")
}

// BenchmarkPipelineBinary is BenchmarkPipeline with the real binary as a
// child process (`newsmd once --config …`), as a user runs it: the figures
// include the process start. maxrss-MB is the child's peak RSS, the
// largest of the runs, read from its /proc/PID/status VmHWM every 10 ms
// (a peak in the last 10 ms before exit can be missed). getrusage's
// ru_maxrss is no use here: Go starts children with vfork, and Linux
// carries the parent's peak RSS (this test binary's) into the child's
// ru_maxrss at exec.
func BenchmarkPipelineBinary(b *testing.B) {
	site := pipelineSite(b)
	bin := buildBinary(b)
	var maxRSS uint64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		cfg := pipelineConfig(b, site, dir)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(b.Context(), bin, "once", "--config", cfg)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		b.StartTimer()

		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		stop := childHWM(cmd.Process.Pid)
		err := cmd.Wait()

		b.StopTimer()
		maxRSS = max(maxRSS, stop())
		if err != nil {
			b.Fatalf("once: %v\n%s\n%s", err, stdout.String(), lastLines(stderr.String(), 20))
		}
		if want := strconv.Itoa(pipelineStories) + " written"; !strings.Contains(stdout.String(), want) {
			b.Fatalf("summary: %s; want %s", strings.TrimSpace(stdout.String()), want)
		}
		if n := countPosts(b, dir); n != pipelineStories {
			b.Fatalf("got %d posts, want %d", n, pipelineStories)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(pipelineStories*b.N)/b.Elapsed().Seconds(), "articles/s")
	b.ReportMetric(float64(maxRSS)/mb, "maxrss-MB")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
