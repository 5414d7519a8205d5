package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/newsmd/newsmd"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable newsmd reads.
const EnvPrefix = "NEWSMD_"

// EnvConfigFile names the config file when --config is not given.
const EnvConfigFile = EnvPrefix + "CONFIG"

// Default is the configuration of the top-level config.yaml, which
// the binary embeds.
func Default() *Config {
	var c Config
	if err := yaml.Unmarshal(newsmd.DefaultConfigYAML, &c); err != nil {
		// The embedded file is checked by the tests; this is a build bug.
		panic(fmt.Sprintf("embedded config.yaml: %v", err))
	}
	return &c
}

// Parse reads a configuration over the defaults: keys it leaves out keep
// their default; feeds, sites and a site's layouts merge with the default
// entries by name; other lists it gives replace the default list (see
// merge.go for the whole rule). Unknown keys, values of the wrong type and
// merge problems are all reported, each with its path in the file.
// Values are checked later, once the environment's overrides are in:
// by Validate and the packages that compile the sections.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Default(), nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	if len(root.Content) == 0 {
		return Default(), nil // comments only
	}
	var errs []error
	checkKeys(root.Content[0], reflect.TypeFor[Config](), "", &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var defaults yaml.Node
	if err := yaml.Unmarshal(newsmd.DefaultConfigYAML, &defaults); err != nil {
		panic(fmt.Sprintf("embedded config.yaml: %v", err)) // as in Default
	}
	var m merger
	merged := m.merge(defaults.Content[0], root.Content[0], reflect.TypeFor[Config](), "")
	var c Config
	if err := merged.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m.checkRemovedSites(&c)
	if len(m.errs) > 0 {
		return nil, errors.Join(m.errs...)
	}
	return &c, nil
}

// checkKeys reports mapping keys that t has no field for, values of the
// wrong type and misplaced merge tags, with their path.
func checkKeys(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if customTag(n.Tag) {
		list := t.Kind() == reflect.Slice && (n.Kind == yaml.SequenceNode || n.Kind == yaml.ScalarNode && n.Value == "")
		switch {
		case n.Tag == TagReplace && list:
		case n.Tag == TagAppend && list && !namedList(t):
		case n.Tag == TagAppend && list:
			*errs = append(*errs, fmt.Errorf("%s: %s is for lists of values (line %d): entries with new names are added to this list without it; %s takes your entries alone", path, n.Tag, n.Line, TagReplace))
			return
		default:
			*errs = append(*errs, fmt.Errorf("%s: tag %s is not allowed here (line %d): %s and %s go before a list (feeds: %s, remove: %s [...])", path, n.Tag, n.Line, TagReplace, TagAppend, TagReplace, TagAppend))
			return
		}
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		// "key:" or "key: null" keeps the default.
	case n.Kind == yaml.ScalarNode && n.Tag == TagReplace:
		// "feeds: !replace": an empty list.
	case n.Kind == yaml.AliasNode:
		checkKeys(n.Alias, t, path, errs)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		checkMapping(n, t, path, false, errs)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		named := namedList(t)
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if named && resolve(e).Kind == yaml.MappingNode && !customTag(e.Tag) {
				checkMapping(resolve(e), t.Elem(), p, true, errs)
				continue
			}
			checkKeys(e, t.Elem(), p, errs)
		}
	case t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Map:
		// A leaf: decode it alone, so a wrong value is reported with its
		// path, not only a line number.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %q is not a valid %s (line %d)", path, n.Value, typeName(t), n.Line))
		}
	default:
		*errs = append(*errs, fmt.Errorf("%s: want a %s (line %d)", path, typeName(t), n.Line))
	}
}

// checkMapping checks the keys of a mapping of struct type t; an entry of
// a named list may also say "disabled: true".
func checkMapping(n *yaml.Node, t reflect.Type, path string, entry bool, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	fields, names := yamlFields(t)
	if entry {
		fields[KeyDisabled] = reflect.TypeFor[bool]()
		names = append(names, KeyDisabled)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		p := joinPath(path, k)
		ft, ok := fields[k]
		if !ok {
			*errs = append(*errs, fmt.Errorf("%s: unknown key (line %d; known keys: %s)", p, n.Content[i].Line, strings.Join(names, ", ")))
			continue
		}
		checkKeys(n.Content[i+1], ft, p, errs)
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration (30s, 5m, 1h)"
	case t.Kind() == reflect.Struct:
		return "mapping"
	case t.Kind() == reflect.Slice:
		return "list"
	}
	return t.Kind().String()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Validate reports every invalid field of the sections that need no
// compiling, each with its path. The output options, site rules and feeds
// are checked where they are compiled: by converter.Options.Validate,
// site.Compile and feed.Compile (cmd/newsmd's compile does all at once).
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Err: fmt.Errorf(format, args...)})
	}
	o := c.Output
	if strings.TrimSpace(o.Dir) == "" {
		bad("output.dir", "required")
	}
	if _, err := time.LoadLocation(o.Timezone); err != nil || o.Timezone == "" {
		bad("output.timezone", "unknown time zone %q (use an IANA name such as Asia/Singapore)", o.Timezone)
	}
	errs = append(errs, c.Fetch.Validate("fetch")...)
	switch c.Store.Driver {
	case "sqlite":
		if strings.TrimSpace(c.Store.Path) == "" {
			bad("store.path", "required with the sqlite driver")
		}
	case "postgres":
		if strings.TrimSpace(c.Store.DSN) == "" {
			bad("store.dsn", "required with the postgres driver (postgres://user@host:5432/db)")
		} else if MaskDSNPassword(c.Store.DSN) != c.Store.DSN {
			bad("store.dsn", "holds a password: put it in NEWSMD_STORE_PASSWORD instead, so the config file holds no secret")
		}
		if c.Store.MaxConns < 1 || c.Store.MaxConns > 100 {
			bad("store.max_conns", "%d: want 1 to 100 connections per worker", c.Store.MaxConns)
		}
	default:
		bad("store.driver", "%q: want sqlite or postgres", c.Store.Driver)
	}
	if c.Crawl.Workers < 1 || c.Crawl.Workers > 64 {
		bad("crawl.workers", "%d: want 1 to 64", c.Crawl.Workers)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		bad("log.format", "%q: want auto, text or json", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Server.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
			bad("server.listen", "%q: want host:port (127.0.0.1:9180, :9180) or \"\" for none", c.Server.Listen)
		}
	}
	if c.Server.Tick < 100*time.Millisecond {
		bad("server.tick", "%s: want at least 100ms", c.Server.Tick)
	}
	if c.Crawl.RetryDelay < time.Second {
		bad("crawl.retry_delay", "%s: want at least 1s", c.Crawl.RetryDelay)
	}
	if c.Crawl.RetryDelayMax < c.Crawl.RetryDelay {
		bad("crawl.retry_delay_max", "%s: want at least crawl.retry_delay (%s)", c.Crawl.RetryDelayMax, c.Crawl.RetryDelay)
	}
	if c.Crawl.MaxWait < time.Second {
		bad("crawl.max_wait", "%s: want at least 1s", c.Crawl.MaxWait)
	}
	if c.Crawl.MaxAttempts < 0 {
		bad("crawl.max_attempts", "%d: want 0 (never give up) or more", c.Crawl.MaxAttempts)
	}
	if c.Crawl.GiveUpAfter < 0 {
		bad("crawl.give_up_after", "%s: must not be negative", c.Crawl.GiveUpAfter)
	}
	if c.Crawl.FeedItems < 1 {
		bad("crawl.feed_items", "%d: want at least 1", c.Crawl.FeedItems)
	}
	if c.Crawl.RefetchTruncatedAfter < 0 || (c.Crawl.RefetchTruncatedAfter > 0 && c.Crawl.RefetchTruncatedAfter < time.Minute) {
		bad("crawl.refetch_truncated_after", "%s: want 0 (off) or at least 1m", c.Crawl.RefetchTruncatedAfter)
	}
	if c.Crawl.RefetchTruncatedTimes < 0 || c.Crawl.RefetchTruncatedTimes > 30 {
		bad("crawl.refetch_truncated_times", "%d: want 0 to 30", c.Crawl.RefetchTruncatedTimes)
	}
	if c.Crawl.Lease < 10*time.Second {
		bad("crawl.lease", "%s: want at least 10s (longer than fetching and writing one story)", c.Crawl.Lease)
	}
	return errors.Join(errs...)
}

// EnvKeys maps every overridable key to its environment variable: the
// key's path in upper case with "_" for ".", after NEWSMD_ (output.dir is
// NEWSMD_OUTPUT_DIR). Lists of mappings (feeds, sites) are not
// overridable; lists of values are, as YAML ("[a, b]").
func EnvKeys() map[string][]string {
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
				keys[EnvPrefix+strings.ToUpper(strings.Join(p, "_"))] = p
			}
		}
	}
	walk(reflect.TypeFor[Config](), nil)
	return keys
}

// EnvOthers are the NEWSMD_ variables that newsmd's own files set for
// other programs: docker-compose.yml's NEWSMD_DB_PASSWORD, the database's
// password given to the postgres container and, as NEWSMD_STORE_PASSWORD,
// to newsmd; NEWSMD_TEST_POSTGRES, the PostgreSQL server of the tests.
// They are no setting, but no typo either: a shell where the
// README's compose command was typed must still run newsmd.
func EnvOthers() []string {
	return []string{EnvPrefix + "DB_PASSWORD", EnvPrefix + "TEST_POSTGRES"}
}

// ApplyEnv sets the keys named by NEWSMD_* variables in environ. An
// unknown NEWSMD_ variable is an error, so a typo does not go unnoticed;
// NEWSMD_CONFIG and EnvOthers are not settings and are let be.
func (c *Config) ApplyEnv(environ []string) error {
	keys := EnvKeys()
	var errs []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, EnvPrefix) || k == EnvConfigFile || slices.Contains(EnvOthers(), k) {
			continue
		}
		path, ok := keys[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no such setting (the variables are %s + a key's path in upper case, like NEWSMD_OUTPUT_DIR)", k, EnvPrefix))
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

// WriteEffective prints the configuration as YAML with secrets masked:
// passwords in URLs and the values of keys that name a secret. Each
// entry of feeds, sites and layouts is marked as a default, a changed
// default (with the keys changed) or an added entry, and the removed
// default entries are named.
func WriteEffective(w io.Writer, c *Config) error {
	var n, def yaml.Node
	if err := n.Encode(c); err != nil {
		return err
	}
	if err := def.Encode(Default()); err != nil {
		return err
	}
	annotate(&n, &def, reflect.TypeFor[Config]())
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
		if lk == "dsn" {
			// Host, port, database and user help whoever checks the
			// config; only a password is a secret.
			n.Value = MaskDSNPassword(n.Value)
			return
		}
		for _, s := range []string{"password", "secret", "token", "apikey", "api_key"} {
			if strings.Contains(lk, s) && n.Value != "" {
				n.Value = "***"
				return
			}
		}
		n.Value = MaskURLPassword(n.Value)
	}
}

// dsnPassword finds a password in a PostgreSQL DSN outside a URL's user
// part: a "password" query parameter or a password=value keyword (value
// quoted or not).
var dsnPassword = regexp.MustCompile(`(?i)((?:^|[?&\s])password=)('(?:[^'\\]|\\.)*'|[^&\s]*)`)

// MaskDSNPassword is dsn with its password, in any of the forms
// PostgreSQL takes (postgres://user:pw@host/db, ?password=pw,
// password=pw), replaced by ***, and the rest as it is.
func MaskDSNPassword(dsn string) string {
	return dsnPassword.ReplaceAllString(MaskURLPassword(dsn), "${1}***")
}

func MaskURLPassword(s string) string {
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

// EnvNames lists the environment variables, for the README test
// and `config check --env`.
func EnvNames() []string {
	var names []string
	for k := range EnvKeys() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
