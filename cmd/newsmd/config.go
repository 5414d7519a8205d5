package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/newsmd/newsmd/internal/config"
)

// runConfig is "config check": load the configuration as every command
// does (file, environment overrides, validation) and print it.
func runConfig(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{hintError{errors.New("config: want a subcommand"), "newsmd config check [--config FILE] [--env]"}}
	}
	fl, configPath := newFlags(m, "config check", "Usage: newsmd config check [--config FILE] [--env]\n\nValidates the configuration (file merged over the defaults, then NEWSMD_*\nenvironment overrides) and prints the effective result with secrets masked,\neach feed, site and layout marked as a default, a changed default or an added\nentry. Exit 2 when it is invalid.")
	env := fl.Bool("env", false, "list the environment variables that override config keys instead")
	if err := parseFlags(fl, args[1:]); err != nil {
		return err
	}
	if *env {
		for _, name := range config.EnvNames() {
			fmt.Fprintf(m.Stdout, "%s\t%s\n", name, strings.Join(config.EnvKeys()[name], "."))
		}
		return nil
	}
	a, err := m.load(fl, *configPath, "config", nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "# newsmd", Version(), "effective configuration: valid")
	return config.WriteEffective(m.Stdout, a.cfg)
}
