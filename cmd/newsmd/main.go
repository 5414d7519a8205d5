package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "time/tzdata" // Asia/Singapore must resolve in minimal images too.
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal stops the work, which gives back what it holds;
		// a second one exits at once.
		cancel(interrupted{(<-sigs).(syscall.Signal)})
		os.Exit(interrupted{(<-sigs).(syscall.Signal)}.code())
	}()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main runs one newsmd invocation.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Env is the environment (KEY=value); nil means the process's.
	Env []string

	logs *logWriter // where the logger writes: Stderr, or above a progress bar
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

func commands() []command {
	return []command{
		{"run", "the daemon: poll feeds on their schedule, serve health and metrics", runRun},
		{"once", "poll every feed once and write the new stories", runOnce},
		{"backfill", "write the stories of a list of URLs", runBackfill},
		{"import", "record the stories of an existing archive so they are never fetched", runImport},
		{"extract", "extract one article page and print its Markdown post", runExtract},
		{"doctor", "check that the feeds and the site rules still work (read-only; exit 0 when they do)", runDoctor},
		{"healthcheck", "ask a running daemon whether it is healthy (exit 0 when it is)", runHealthcheck},
		{"config", "config check: validate and print the effective configuration", runConfig},
		{"migrate", "apply the store's schema migrations", runMigrate},
		{"demo", "archive a built-in fake news site into a folder, without the network", runDemo},
		{"version", "print the version", func(_ context.Context, m *Main, _ []string) error {
			fmt.Fprintln(m.Stdout, "newsmd", Version())
			return nil
		}},
		{"help", "list the commands", func(_ context.Context, m *Main, _ []string) error {
			m.usage(m.Stdout)
			return nil
		}},
	}
}

// Exit codes. An interrupted command exits 128 + the signal's number:
// 130 on SIGINT, 143 on SIGTERM (see interrupted).
const (
	exitOK     = 0
	exitFailed = 1 // the work failed or was left undone (some items, a page); a later run retries it
	exitUsage  = 2 // bad invocation or configuration
	exitStore  = 3 // the store or the archive folder is unavailable
)

// usageError marks errors of invocation or configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// storeError marks a store or archive folder that cannot be used: it
// would not open, or failed during the run (exit 3). Nothing written is
// lost; the next run continues once it works.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// interrupted is the cause of the root context's cancellation when a
// SIGINT or SIGTERM arrives.
type interrupted struct{ sig syscall.Signal }

func (e interrupted) Error() string {
	switch e.sig {
	case syscall.SIGINT:
		return "interrupted by SIGINT"
	case syscall.SIGTERM:
		return "interrupted by SIGTERM"
	}
	return "interrupted by " + e.sig.String()
}

// code is the exit code of a process stopped by the signal, as a shell
// reports one killed by it: 130 for SIGINT, 143 for SIGTERM.
func (e interrupted) code() int { return 128 + int(e.sig) }

// hintError carries a line telling the user what to do.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

// Run dispatches args to a subcommand and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		return m.exit(ctx, c.run(ctx, m, args[1:]))
	}
	fmt.Fprintf(m.Stderr, "newsmd: error: unknown command %q\nhint: run 'newsmd help' for the list\n", name)
	return exitUsage
}

// exit reports a command's error and returns the exit code it means. A
// command stopped by a signal exits 130 or 143, whatever it returned: it
// gave back what it held, and the next run continues.
func (m *Main) exit(ctx context.Context, err error) int {
	if sig, ok := errors.AsType[interrupted](context.Cause(ctx)); ok {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(m.Stderr, "newsmd: %v: stopped; nothing is lost, the next run continues\n", sig)
		}
		return sig.code()
	}
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(m.Stderr, "newsmd: error: %v\n", err)
	if h, ok := errors.AsType[hintError](err); ok && h.hint != "" {
		fmt.Fprintf(m.Stderr, "hint: %s\n", h.hint)
	}
	switch {
	case errors.As(err, new(usageError)):
		return exitUsage
	case errors.As(err, new(storeError)):
		return exitStore
	}
	return exitFailed
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "newsmd turns news sites into a Markdown archive of Jekyll or Hugo posts.")
	fmt.Fprintln(w, "\nUsage: newsmd <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'newsmd <command> -h' for a command's flags.")
}

// Version is the stamped version, or the module version of the build.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// errSomeFailed makes the exit code 1 after a run that went on past
// failed items.
var errSomeFailed = errors.New("some items failed or were left unfinished (see the log and the summary); the next run retries them")

func newFlags(m *Main, name, usage string) (*flag.FlagSet, *string) {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(m.Stderr)
	config := fl.String("config", "config.yaml", "configuration `file`")
	fl.Usage = func() {
		fmt.Fprintln(m.Stderr, usage)
		fmt.Fprintln(m.Stderr, "\nFlags:")
		fl.PrintDefaults()
	}
	return fl, config
}

func parseFlags(fl *flag.FlagSet, args []string) error {
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

func isFlagSet(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
