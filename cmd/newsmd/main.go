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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal exits at once.
		<-ctx.Done()
		stop()
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

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the work failed (an item, a page)
	exitUsage  = 2 // bad invocation or configuration
)

// usageError marks errors of invocation or configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

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
		err := c.run(ctx, m, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		}
		fmt.Fprintf(m.Stderr, "newsmd: error: %v\n", err)
		var h hintError
		if errors.As(err, &h) && h.hint != "" {
			fmt.Fprintf(m.Stderr, "hint: %s\n", h.hint)
		}
		var u usageError
		if errors.As(err, &u) {
			return exitUsage
		}
		return exitFailed
	}
	fmt.Fprintf(m.Stderr, "newsmd: error: unknown command %q\nhint: run 'newsmd help' for the list\n", name)
	return exitUsage
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
var errSomeFailed = errors.New("some items failed or were left unfinished (see the log and the summary)")

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
