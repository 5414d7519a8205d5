package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/newsmd/newsmd/crawler"
)

// logWriter is where the logger writes: Stderr, or, while a progress bar
// is drawn there, the bar's container, which prints each line above the
// bar so that the bar keeps its own line. slog handlers write one record
// per Write call, so lines are never cut.
type logWriter struct {
	mu    sync.Mutex
	out   io.Writer
	above io.Writer // nil when no bar is drawn
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.above != nil {
		if n, err := w.above.Write(p); err == nil {
			return n, nil
		}
		// The bar is gone (its container shut down): write directly.
	}
	return w.out.Write(p)
}

// drawAbove sends the log lines to above (nil: to out again). A line
// being written meanwhile is finished first.
func (w *logWriter) drawAbove(above io.Writer) {
	w.mu.Lock()
	w.above = above
	w.mu.Unlock()
}

// logOut is the writer every logger of m writes to.
func (m *Main) logOut() *logWriter {
	if m.logs == nil {
		m.logs = &logWriter{out: m.Stderr}
	}
	return m.logs
}

// stderrTerminal reports whether m's stderr is a terminal.
func (m *Main) stderrTerminal() bool {
	f, ok := m.Stderr.(*os.File)
	return ok && isTerminal(f)
}

// secondsAttr logs every time.Duration as seconds, in a key that says so
// ("wait" becomes "wait_seconds": 0.664), rounded to the millisecond:
// JSON would print nanoseconds, and text "664.622036ms".
func secondsAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_seconds") {
		key += "_seconds"
	}
	return slog.Float64(key, math.Round(a.Value.Duration().Seconds()*1000)/1000)
}

// plainEvery is how many stories apart the progress lines are when
// stderr is not a terminal.
const plainEvery = 25

// progress shows a backfill's progress: on a terminal, a bar on the last
// line with the stories done, written and failed, the rate and the time
// left, while the log lines print above it; otherwise an INFO line every
// plainEvery stories and at the end.
type progress struct {
	log *slog.Logger
	out *logWriter

	mu                    sync.Mutex
	done, written, failed int

	// On a terminal:
	bars *mpb.Progress
	bar  *mpb.Bar
}

// startProgress starts showing the progress of about total stories
// (Process may find fewer, taking a story listed twice once).
func (m *Main) startProgress(total int, log *slog.Logger) *progress {
	p := &progress{log: log, out: m.logOut()}
	if !m.stderrTerminal() {
		return p
	}
	// Each redraw starts at the first column, even after the terminal
	// echoed a ^C where the cursor was.
	f := m.Stderr.(*os.File)
	cw := cupwriter.New(lineStart{f}, false)
	cw.SetTermFd(int(f.Fd()))
	p.bars = mpb.New(mpb.WithConsoleWriter(cw), mpb.WithWidth(30), mpb.WithRefreshRate(150*time.Millisecond))
	p.bar = p.bars.New(int64(total), mpb.BarStyle().Lbound("[").Rbound("]").Filler("=").Tip(">").Padding("-"),
		mpb.PrependDecorators(
			decor.Name("backfill "),
			decor.CountersNoUnit("%d/%d"),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				p.mu.Lock()
				defer p.mu.Unlock()
				return fmt.Sprintf("written %d, failed %d ", p.written, p.failed)
			}),
			decor.AverageSpeed(0, "%.1f/s ", decor.WCSyncSpace),
			decor.Name("ETA "),
			decor.AverageETA(decor.ET_STYLE_MMSS),
		),
	)
	p.out.drawAbove(p.bars)
	return p
}

// story counts one story of total: the callback of crawler.Deps. A story
// the run let go when it was stopped (no outcome) is not done.
func (p *progress) story(_, total int, r crawler.Result) {
	if r.Outcome == "" {
		return
	}
	p.mu.Lock()
	p.done++
	done := p.done
	switch r.Outcome {
	case crawler.Written:
		p.written++
	case crawler.Failed:
		p.failed++
	}
	written, failed := p.written, p.failed
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.SetTotal(int64(total), false)
		p.bar.SetCurrent(int64(done))
		return
	}
	if done == total || done%plainEvery == 0 {
		p.log.Info("backfill progress", "done", done, "total", total, "written", written, "failed", failed)
	}
}

// lineStart writes each redraw of the bar after a carriage return: the
// redraw moves the cursor up to the bar's line and clears from there,
// which leaves the start of the old bar when the cursor is not at the
// start of its line.
type lineStart struct{ w io.Writer }

func (l lineStart) Write(p []byte) (int, error) {
	if _, err := l.w.Write(append([]byte{'\r'}, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// stop ends the bar, left drawn where it stopped, and sends the log lines
// to stderr again; what is printed next starts on a line of its own.
func (p *progress) stop() {
	if p.bar == nil {
		return
	}
	p.out.drawAbove(nil)
	if !p.bar.Completed() {
		p.bar.Abort(false)
	}
	p.bars.Wait()
}
