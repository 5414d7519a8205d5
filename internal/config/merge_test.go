package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func parse(t *testing.T, file string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(file))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

func feedNames(c *Config) []string {
	var names []string
	for _, f := range c.Feeds {
		names = append(names, f.Name)
	}
	return names
}

func feedByName(t *testing.T, c *Config, name string) Feed {
	t.Helper()
	i := slices.IndexFunc(c.Feeds, func(f Feed) bool { return f.Name == name })
	if i < 0 {
		t.Fatalf("no feed %q in %v", name, feedNames(c))
	}
	return c.Feeds[i]
}

// layoutIndex is the index of the default zaobao layout name: the tests
// do not depend on the number or order of the default layouts.
func layoutIndex(t *testing.T, c *Config, name string) int {
	t.Helper()
	i := slices.IndexFunc(c.Sites[0].Layouts, func(l Layout) bool { return l.Name == name })
	if i < 0 {
		t.Fatalf("no layout %q in %v", name, layoutNames(c.Sites[0]))
	}
	return i
}

func layoutNames(s Site) []string {
	var names []string
	for _, l := range s.Layouts {
		names = append(names, l.Name)
	}
	return names
}

func TestMergeFeeds(t *testing.T) {
	def := Default()
	defNames := feedNames(def)
	tests := []struct {
		name string
		file string
		// want is the merged list of feeds, from the defaults and edit.
		want func() []Feed
	}{{
		name: "override one interval",
		file: "feeds:\n  - name: zaobao-finance\n    interval: 5m\n",
		want: func() []Feed {
			f := Default().Feeds
			f[3].Interval = "5m"
			return f
		},
	}, {
		name: "add a feed after the defaults, in the file's order",
		file: "feeds:\n  - name: mine\n    url: https://example.com/rss\n  - name: zaobao-world\n    interval: 1h\n  - name: yours\n    url: https://example.org/rss\n",
		want: func() []Feed {
			f := Default().Feeds
			f[1].Interval = "1h"
			return append(f, Feed{Name: "mine", URL: "https://example.com/rss"}, Feed{Name: "yours", URL: "https://example.org/rss"})
		},
	}, {
		name: "remove a default feed",
		file: "feeds:\n  - name: zaobao-china\n    disabled: true\n  - name: zaobao-world\n    disabled: false\n    interval: 20m\n",
		want: func() []Feed {
			f := Default().Feeds
			f[1].Interval = "20m"
			return f[1:]
		},
	}, {
		name: "replace all",
		file: "feeds: !replace\n  - name: zaobao-world\n    url: https://example.com/rss\n",
		want: func() []Feed { return []Feed{{Name: "zaobao-world", URL: "https://example.com/rss"}} },
	}, {
		name: "replace all with nothing",
		file: "feeds: !replace\n",
		want: func() []Feed { return []Feed{} },
	}, {
		name: "replace all with an empty list",
		file: "feeds: !replace []\n",
		want: func() []Feed { return []Feed{} },
	}, {
		name: "null keeps the defaults",
		file: "feeds:\nfetch:\n  delay:\n",
		want: func() []Feed { return Default().Feeds },
	}, {
		name: "a misspelt name is a new entry",
		file: "feeds:\n  - name: zaobao-finace\n    interval: 5m\n",
		want: func() []Feed { return append(Default().Feeds, Feed{Name: "zaobao-finace", Interval: "5m"}) },
	}, {
		name: "a list of values in an entry replaces the default",
		file: "feeds:\n  - name: zaobao-china\n    links: [a, b]\n  - name: zaobao-world\n    links: !append [c]\n",
		want: func() []Feed {
			f := Default().Feeds
			f[0].Links = []string{"a", "b"}
			f[1].Links = append(f[1].Links, "c")
			return f
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, tt.file)
			if want := tt.want(); !reflect.DeepEqual(c.Feeds, want) {
				t.Errorf("got feeds\n%+v\nwant\n%+v", c.Feeds, want)
			}
			if !reflect.DeepEqual(c.Sites, def.Sites) || c.Fetch != def.Fetch {
				t.Errorf("sites or fetch changed")
			}
		})
	}
	if !slices.Equal(feedNames(Default()), defNames) {
		t.Errorf("Default changed: %v", feedNames(Default()))
	}
}

func TestMergeSites(t *testing.T) {
	def := Default()
	zaobao := def.Sites[0]
	hk, hydration := layoutIndex(t, def, "hk"), layoutIndex(t, def, "sg-hydration")
	if zaobao.Name != "zaobao" || len(zaobao.Remove) < 2 || zaobao.Layouts[hydration].Hydration == nil {
		t.Fatalf("the default zaobao site changed: %+v", zaobao)
	}

	t.Run("fix one layout", func(t *testing.T) {
		c := parse(t, `
sites:
  - name: zaobao
    layouts:
      - name: hk
        when: 'article.story'
        hydration: {variable: __data}
`)
		want := Default().Sites
		want[0].Layouts[hk].When = "article.story"
		want[0].Layouts[hk].Hydration = &Hydration{Variable: "__data"}
		if !reflect.DeepEqual(c.Sites, want) {
			t.Errorf("got layouts %+v\nwant %+v", c.Sites[0].Layouts, want[0].Layouts)
		}
	})

	t.Run("merge a nested mapping", func(t *testing.T) {
		c := parse(t, "sites:\n  - name: zaobao\n    layouts:\n      - name: sg-hydration\n        hydration:\n          path: a.b\n")
		got, want := c.Sites[0].Layouts[hydration].Hydration, *zaobao.Layouts[hydration].Hydration
		want.Path = "a.b"
		if got == nil || *got != want {
			t.Errorf("got hydration %+v, want %+v", got, want)
		}
	})

	t.Run("add, remove and reorder nothing", func(t *testing.T) {
		c := parse(t, `
sites:
  - name: zaobao
    title: 早报
    layouts:
      - name: sg-2019
        disabled: true
      - name: amp
        when: 'html[amp]'
        body: ['css:article']
  - name: other
    hosts: [example.com]
`)
		z := c.Sites[0]
		if z.Title != "早报" || z.CanonicalHost != zaobao.CanonicalHost || !slices.Equal(z.Remove, zaobao.Remove) {
			t.Errorf("got zaobao %+v", z)
		}
		want := slices.DeleteFunc(layoutNames(zaobao), func(n string) bool { return n == "sg-2019" })
		if got, want := layoutNames(z), append(want, "amp"); !slices.Equal(got, want) {
			t.Errorf("got layouts %v, want %v", got, want)
		}
		if len(c.Sites) != 2 || c.Sites[1].Name != "other" || !slices.Equal(c.Sites[1].Hosts, []string{"example.com"}) {
			t.Errorf("got sites %+v", c.Sites)
		}
	})

	t.Run("replace or extend a list of values", func(t *testing.T) {
		c := parse(t, "sites:\n  - name: zaobao\n    remove: !append ['.new-ad', '.more']\n    paywall: ['.wall']\n    hosts: !replace [zaobao.com]\n")
		z := c.Sites[0]
		if want := append(slices.Clone(zaobao.Remove), ".new-ad", ".more"); !slices.Equal(z.Remove, want) {
			t.Errorf("got remove %q, want %q", z.Remove, want)
		}
		if !slices.Equal(z.Paywall, []string{".wall"}) || !slices.Equal(z.Hosts, []string{"zaobao.com"}) {
			t.Errorf("got paywall %q, hosts %q", z.Paywall, z.Hosts)
		}
	})

	t.Run("replace all layouts", func(t *testing.T) {
		c := parse(t, "sites:\n  - name: zaobao\n    layouts: !replace\n      - name: only\n        body: ['css:main']\n")
		if got := layoutNames(c.Sites[0]); !slices.Equal(got, []string{"only"}) {
			t.Errorf("got layouts %v", got)
		}
	})

	t.Run("remove the site and its feeds", func(t *testing.T) {
		file := "sites:\n  - name: zaobao\n    disabled: true\n"
		_, err := Parse(strings.NewReader(file))
		for _, f := range Default().Feeds {
			want := fmt.Sprintf(`sites[0].disabled: feed %q uses site "zaobao": remove that feed too (- name: %s, disabled: true) or set its site to another one`, f.Name, f.Name)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want %s", err, want)
			}
		}
		c := parse(t, file+"feeds: !replace\n")
		if len(c.Sites) != 0 || len(c.Feeds) != 0 {
			t.Errorf("got %d sites, %d feeds, want none", len(c.Sites), len(c.Feeds))
		}
	})
}

// TestMergeEveryField: each field of a feed, a site and a layout,
// including those added after this test, can be set alone on a default
// entry, and nothing else changes.
func TestMergeEveryField(t *testing.T) {
	def := Default()
	entries := []struct {
		list string
		typ  reflect.Type
		get  func(*Config) reflect.Value
	}{
		{"feeds", reflect.TypeFor[Feed](), func(c *Config) reflect.Value { return reflect.ValueOf(c.Feeds[1]) }},
		{"sites", reflect.TypeFor[Site](), func(c *Config) reflect.Value { return reflect.ValueOf(c.Sites[0]) }},
		{"layouts", reflect.TypeFor[Layout](), func(c *Config) reflect.Value {
			return reflect.ValueOf(c.Sites[0].Layouts[slices.IndexFunc(c.Sites[0].Layouts, func(l Layout) bool { return l.Name == "hk" })])
		}},
	}
	for _, e := range entries {
		defEntry := e.get(def)
		fields, keys := yamlFields(e.typ)
		for _, key := range keys {
			if key == keyName || namedList(fields[key]) {
				continue // layouts: see TestMergeSites
			}
			t.Run(e.list+"."+key, func(t *testing.T) {
				i := slices.IndexFunc(reflect.VisibleFields(e.typ), func(f reflect.StructField) bool { return strings.Split(f.Tag.Get("yaml"), ",")[0] == key })
				v := changed(fields[key], defEntry.Field(i))
				entry := map[string]any{keyName: defEntry.FieldByName("Name").String(), key: v.Interface()}
				doc := map[string]any{e.list: []any{entry}}
				if e.list == "layouts" {
					doc = map[string]any{"sites": []any{map[string]any{keyName: "zaobao", "layouts": []any{entry}}}}
				}
				data, err := yaml.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				file := string(data)
				c := parse(t, file)
				got := e.get(c)
				for j := range e.typ.NumField() {
					want := defEntry.Field(j)
					if j == i {
						want = v
					}
					if !reflect.DeepEqual(got.Field(j).Interface(), want.Interface()) {
						t.Errorf("%s: got %v, want %v\nfile:\n%s", e.typ.Field(j).Name, got.Field(j), want, file)
					}
				}
			})
		}
	}
}

// changed is a value of type t that differs from old.
func changed(t reflect.Type, old reflect.Value) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		v.SetString("changed-" + old.String())
	case reflect.Bool:
		v.SetBool(!old.Bool())
	case reflect.Int, reflect.Int64:
		if t == reflect.TypeFor[time.Duration]() {
			v.SetInt(old.Int() + int64(time.Minute))
		} else {
			v.SetInt(old.Int() + 7)
		}
	case reflect.Slice:
		var elem reflect.Value
		if old.Len() > 0 {
			elem = old.Index(0)
		} else {
			elem = reflect.New(t.Elem()).Elem()
		}
		v = reflect.Append(v, changed(t.Elem(), elem))
	case reflect.Pointer:
		if old.IsNil() {
			old = reflect.New(t.Elem())
		}
		v = reflect.New(t.Elem())
		v.Elem().Set(changed(t.Elem(), old.Elem()))
	case reflect.Struct:
		for i := range t.NumField() {
			v.Field(i).Set(changed(t.Field(i).Type, old.Field(i)))
		}
	default:
		panic("changed: no value for " + t.String())
	}
	return v
}

func TestMergeErrors(t *testing.T) {
	tests := []struct {
		name, file string
		want, not  []string
	}{{
		name: "remove what is not there",
		file: "feeds:\n  - name: zaobao-finace\n    disabled: true\n",
		want: []string{`feeds[0].disabled: there is no default entry "zaobao-finace" to remove (the default names are ` + strings.Join(feedNames(Default()), ", ") + `): check the name, or delete this entry`},
	}, {
		name: "remove from a replaced list",
		file: "feeds: !replace\n  - name: zaobao-china\n    disabled: true\n",
		want: []string{`feeds[0].disabled: there is no default entry "zaobao-china" to remove (the list is tagged !replace, so it has no default entries)`},
	}, {
		name: "remove without a name",
		file: "sites:\n  - name: zaobao\n    layouts:\n      - disabled: true\n",
		want: []string{"sites[0].layouts[0].disabled: needs the name of the entry to remove"},
	}, {
		name: "a name twice",
		file: "feeds:\n  - name: zaobao-china\n    interval: 5m\n  - name: mine\n  - name: zaobao-china\n    url: https://example.com/\n",
		want: []string{`feeds[2].name: "zaobao-china" is also feeds[0]: give each name once, with all its changes`},
	}, {
		name: "disabled is a boolean",
		file: "feeds:\n  - name: zaobao-china\n    disabled: yes please\n",
		want: []string{`feeds[0].disabled: "yes please" is not a valid bool (line 3)`},
	}, {
		name: "disabled only on list entries",
		file: "fetch:\n  disabled: true\n",
		want: []string{"fetch.disabled: unknown key (line 2; known keys: user_agent,"},
	}, {
		name: "unknown keys in an entry still have their path and line",
		file: "feeds:\n  - name: zaobao-china\n    intervall: 5m\n",
		want: []string{"feeds[0].intervall: unknown key (line 3; known keys: name, type, url, ", ", site, disabled)"},
	}, {
		name: "an empty named list",
		file: "feeds: []\nsites:\n  - name: zaobao\n    layouts: []\n",
		want: []string{
			`feeds: an empty list changes nothing, as entries merge with the default ones by name (line 1): write "feeds: !replace []" for none at all, or leave the key out`,
			`sites[0].layouts: an empty list changes nothing, as entries merge with the default ones by name (line 4): write "layouts: !replace []" for none at all`,
		},
	}, {
		name: "an empty named list without defaults is fine",
		file: "sites:\n  - name: other\n    layouts: []\n  - name: zaobao\n    layouts: []\n",
		want: []string{"sites[1].layouts: an empty list"},
		not:  []string{"sites[0]"},
	}, {
		name: "append to a named list",
		file: "feeds: !append\n  - name: mine\n",
		want: []string{"feeds: !append is for lists of values (line 1): entries with new names are added to this list without it; !replace takes your entries alone"},
	}, {
		name: "a tag on a value",
		file: "output:\n  dir: !replace /srv\n  tags: !prepend [a]\nfeeds:\n  - !replace {name: x}\n",
		want: []string{
			"output.dir: tag !replace is not allowed here (line 2): !replace and !append go before a list (feeds: !replace, remove: !append [...])",
			"output.tags: tag !prepend is not allowed here (line 3)",
			"feeds[0]: tag !replace is not allowed here (line 5)",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.file))
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got\n%v\nwant it to contain\n%s", err, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("got\n%v\nwant no %s", err, w)
				}
			}
		})
	}
}

// TestMergeAnchors: YAML anchors and aliases work in a merged file.
func TestMergeAnchors(t *testing.T) {
	c := parse(t, "feeds:\n  - name: mine\n    url: &u https://example.com/\n    interval: &every 30m\n  - name: zaobao-china\n    interval: *every\n    links: &links [a]\n  - name: zaobao-world\n    links: *links\n")
	if got := feedByName(t, c, "zaobao-china").Interval; got != "30m" {
		t.Errorf("got interval %q, want 30m", got)
	}
	if got := feedByName(t, c, "zaobao-world").Links; !slices.Equal(got, []string{"a"}) {
		t.Errorf("got links %q", got)
	}
}

func TestMergeThenEnv(t *testing.T) {
	c := parse(t, "fetch:\n  delay: 3s\nfeeds:\n  - name: zaobao-china\n    interval: 5m\n")
	if err := c.ApplyEnv([]string{"NEWSMD_FETCH_DELAY=2s", "NEWSMD_OUTPUT_TAGS=[a, b]"}); err != nil {
		t.Fatal(err)
	}
	if c.Fetch.Delay != 2*time.Second || !slices.Equal(c.Output.Tags, []string{"a", "b"}) || feedByName(t, c, "zaobao-china").Interval != "5m" {
		t.Errorf("got delay %v, tags %q, feeds %+v", c.Fetch.Delay, c.Output.Tags, c.Feeds)
	}
}

func TestLocate(t *testing.T) {
	c := parse(t, "feeds:\n  - name: zaobao-finace\n    interval: 5m\nsites:\n  - name: zaobao\n    layouts:\n      - name: amp\n  - name: other\n")
	hk, added := layoutIndex(t, c, "hk"), layoutIndex(t, c, "amp")
	if len(c.Feeds) != 5 || c.Feeds[4].Name != "zaobao-finace" {
		t.Fatalf("the default feeds changed: %v", feedNames(c))
	}
	in := []error{
		&FieldError{Path: "feeds[4].url", Err: errors.New("required")},
		&FieldError{Path: "feeds[0].interval", Err: errors.New("too short")},
		&FieldError{Path: fmt.Sprintf("sites[0].layouts[%d].title[1]", hk), Err: errors.New("bad")},
		&FieldError{Path: fmt.Sprintf("sites[0].layouts[%d].when", added), Err: errors.New("bad")},
		&FieldError{Path: "sites[1].layouts[0].when", Err: errors.New("bad")},
		&FieldError{Path: "sites[0].image_rewrites[0].match", Err: errors.New("bad")},
		&FieldError{Path: "output.dir", Err: errors.New("required")},
		&FieldError{Path: "feeds[9].url", Err: errors.New("out of range")},
		errors.New("plain"),
	}
	want := []string{
		`feeds[4].url: required (feed "zaobao-finace", new: no default feed has that name (` + strings.Join(feedNames(Default()), ", ") + `))`,
		`feeds[0].interval: too short (feed "zaobao-china")`,
		fmt.Sprintf(`sites[0].layouts[%d].title[1]: bad (site "zaobao", layout "hk")`, hk),
		fmt.Sprintf(`sites[0].layouts[%d].when: bad (site "zaobao", layout "amp", new: no default layout has that name (%s))`, added, strings.Join(layoutNames(Default().Sites[0]), ", ")),
		`sites[1].layouts[0].when: bad (site "other", new: no default site has that name (zaobao))`,
		`sites[0].image_rewrites[0].match: bad (site "zaobao")`,
		"output.dir: required",
		"feeds[9].url: out of range",
		"plain",
	}
	got := c.Locate(in)
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("got %s\nwant %s", got[i], want[i])
		}
	}
	var fe *FieldError
	if !errors.As(got[0], &fe) || fe.Path != "feeds[4].url" {
		t.Errorf("Locate lost the FieldError: %#v", got[0])
	}
}

func TestWriteEffectiveMarksEntries(t *testing.T) {
	var b strings.Builder
	if err := WriteEffective(&b, Default()); err != nil {
		t.Fatal(err)
	}
	d := Default()
	if n, want := strings.Count(b.String(), "# default\n"), len(d.Feeds)+len(d.Sites)+len(d.Sites[0].Layouts); n != want {
		t.Errorf("got %d entries marked default, want %d (the feeds, sites and layouts):\n%s", n, want, b.String())
	}
	if strings.Contains(b.String(), "changed") || strings.Contains(b.String(), "added") || strings.Contains(b.String(), "removed") {
		t.Errorf("the defaults are marked as changed:\n%s", b.String())
	}

	c := parse(t, "feeds: !replace\n  - name: zaobao-world\n    url: https://example.com/rss\nsites:\n  - name: zaobao\n    layouts:\n      - name: hk\n        disabled: true\n      - name: new\n")
	b.Reset()
	if err := WriteEffective(&b, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"feeds: # removed: zaobao-china, zaobao-singapore, zaobao-finance\n  # default, changed: type, url, ",
		"\n  - name: zaobao-world\n",
		"    layouts: # removed: hk\n",
		"      # added\n      - name: new\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
