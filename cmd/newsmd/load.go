package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LogConfig is how newsmd logs.
type LogConfig struct {
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// envPrefix starts every environment variable newsmd reads.
const envPrefix = "NEWSMD_"

// envConfigFile names the config file when --config is not given.
const envConfigFile = envPrefix + "CONFIG"

func (m *Main) getenv(key string) string {
	for _, kv := range m.environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (m *Main) environ() []string {
	if m.Env != nil {
		return m.Env
	}
	return os.Environ()
}

// load reads the configuration the way every command does: the file
// named by --config, else $NEWSMD_CONFIG, else config.yaml in the working
// directory (the built-in defaults when that does not exist); then the
// NEWSMD_* environment overrides; then validation; relative paths resolve
// against the config file's folder. It returns the config and a logger
// configured by it.
func (m *Main) load(fl *flag.FlagSet, configPath, component string) (*Config, *slog.Logger, error) {
	explicit := isFlagSet(fl, "config")
	if !explicit {
		if p := m.getenv(envConfigFile); p != "" {
			configPath, explicit = p, true
		}
	}
	var (
		c   *Config
		dir string
	)
	f, err := os.Open(configPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		c = DefaultConfig()
		dir, _ = os.Getwd()
	case err != nil:
		return nil, nil, usageError{hintError{fmt.Errorf("open config: %w", err), "pass --config FILE or set " + envConfigFile + ", or run from the folder holding config.yaml"}}
	default:
		defer f.Close()
		c, err = ParseConfig(f)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("config %s:\n%w", configPath, err)}
		}
		dir, _ = filepath.Abs(filepath.Dir(configPath))
	}
	if err := c.ApplyEnv(m.environ()); err != nil {
		return nil, nil, usageError{err}
	}
	if err := c.Validate(); err != nil {
		return nil, nil, usageError{fmt.Errorf("config (with environment overrides):\n%w", err)}
	}
	c.Output.Dir = resolvePath(dir, c.Output.Dir)
	c.Store.Path = resolvePath(dir, c.Store.Path)
	log := m.logger(c.Log).With("component", component)
	if f == nil {
		log.Info("no config.yaml in the working directory; using the built-in defaults")
	}
	return c, log, nil
}

// logger builds the logger a LogConfig asks for.
func (m *Main) logger(lc LogConfig) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lc.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	text := lc.Format == "text"
	if lc.Format == "" || lc.Format == "auto" {
		f, ok := m.Stderr.(*os.File)
		text = ok && isTerminal(f)
	}
	if text {
		return slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, opts))
}

// envKeys maps every overridable key to its environment variable: the
// key's path in upper case with "_" for ".", after NEWSMD_ (output.dir is
// NEWSMD_OUTPUT_DIR). Lists of mappings (feeds, sites) are not
// overridable; lists of values are, as YAML ("[a, b]").
func envKeys() map[string][]string {
	keys := map[string][]string{}
	var walk func(t reflect.Type, path []string)
	walk = func(t reflect.Type, path []string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := append(append([]string(nil), path...), name)
			ft := f.Type
			switch {
			case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
				walk(ft, p)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				// feeds, sites: edit the file.
			default:
				keys[envPrefix+strings.ToUpper(strings.Join(p, "_"))] = p
			}
		}
	}
	walk(reflect.TypeFor[Config](), nil)
	return keys
}

// ApplyEnv sets the keys named by NEWSMD_* variables in environ. An
// unknown NEWSMD_ variable is an error, so a typo does not go unnoticed.
func (c *Config) ApplyEnv(environ []string) error {
	keys := envKeys()
	var errs []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) || k == envConfigFile {
			continue
		}
		path, ok := keys[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no such setting (the variables are %s + a key's path in upper case, like NEWSMD_OUTPUT_DIR)", k, envPrefix))
			continue
		}
		field := reflect.ValueOf(c).Elem()
		for _, name := range path {
			field = fieldByTag(field, name)
		}
		dst := reflect.New(field.Type())
		if err := yaml.Unmarshal([]byte(v), dst.Interface()); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %q is not a valid %s", k, strings.Join(path, "."), v, typeName(field.Type())))
			continue
		}
		field.Set(dst.Elem())
	}
	return errors.Join(errs...)
}

func fieldByTag(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name {
			return v.Field(i)
		}
	}
	panic("no field " + name) // envKeys only names existing fields
}

// writeEffective prints the configuration as YAML with secrets masked:
// passwords in URLs and the values of keys that name a secret.
func writeEffective(w io.Writer, c *Config) error {
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return err
	}
	maskSecrets(&n, "")
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(&n)
}

func maskSecrets(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			maskSecrets(n.Content[i+1], n.Content[i].Value)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			maskSecrets(c, key)
		}
	case yaml.ScalarNode:
		lk := strings.ToLower(key)
		for _, s := range []string{"password", "secret", "token", "dsn", "apikey", "api_key"} {
			if strings.Contains(lk, s) && n.Value != "" {
				n.Value = "***"
				return
			}
		}
		n.Value = maskURLPassword(n.Value)
	}
}

func maskURLPassword(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	at := strings.IndexByte(rest, '@')
	slash := strings.IndexAny(rest, "/?#")
	if at < 0 || (slash >= 0 && slash < at) {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	return s[:i+3] + user + ":***" + rest[at:]
}

// sortedEnvNames lists the environment variables, for the README test
// and `config check --env`.
func sortedEnvNames() []string {
	var names []string
	for k := range envKeys() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
