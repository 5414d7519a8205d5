package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A config file is merged over the defaults on YAML nodes, guided by the
// Go types, so that every field merges the same way, those added later
// included:
//
//   - A mapping merges key by key: a key the file leaves out, or leaves
//     empty ("key:" or null), keeps its default.
//   - A list of entries with a name (feeds, sites, a site's layouts) merges
//     by name: an entry named like a default one overrides only the keys it
//     sets, "disabled: true" removes the default entry, and an entry with a
//     new name is added after the defaults, in the file's order. Tagged
//     !replace ("feeds: !replace"), the file's list is taken alone.
//   - Any other list (hosts, remove, a layout's sources, image_rewrites)
//     replaces the default list, since the order of its items matters;
//     tagged !append ("remove: !append ['.ad']"), its items are added after
//     the default's.

const (
	// TagReplace on a list of named entries takes the file's list alone,
	// without the default entries.
	TagReplace = "!replace"
	// TagAppend on a list of values adds its items after the default's.
	TagAppend = "!append"
	// KeyDisabled, set to true on an entry of a named list, removes the
	// default entry of that name. It is a word of the merge, not a field.
	KeyDisabled = "disabled"
	keyName     = "name"
)

// yamlFields are the fields of a struct type by their YAML key, and the
// keys in the order of the fields.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
			names = append(names, name)
		}
	}
	return fields, names
}

// namedList reports whether t is a list merged by name: a slice of
// structs that have a name field.
func namedList(t reflect.Type) bool {
	if t.Kind() != reflect.Slice {
		return false
	}
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	if e.Kind() != reflect.Struct {
		return false
	}
	fields, _ := yamlFields(e)
	return fields[keyName] != nil
}

// customTag reports whether tag is one written in the file ("!replace"),
// not one YAML resolves ("!!str").
func customTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

// merger merges a config file's node over the defaults' node, and keeps
// what it removed and the problems it found, each at its path in the file.
type merger struct {
	errs []error
	// removed are the entries "disabled: true" took out: the list's path
	// in the file ("sites"), then the entry's name and path.
	removed map[string]map[string]string
}

// merge is src over dst, both of Go type t; dst may be nil (no default).
// The nodes given are not changed: the result shares their unchanged parts.
func (m *merger) merge(dst, src *yaml.Node, t reflect.Type, path string) *yaml.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	src, dst = resolve(src), resolve(dst)
	if src.Kind == yaml.ScalarNode && customTag(src.Tag) && src.Value == "" {
		// "feeds: !replace" with nothing after it: no entries at all;
		// "remove: !append" alone: nothing added.
		if src.Tag == TagAppend && dst != nil {
			return dst
		}
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: src.Line, Column: src.Column}
	}
	if src.Kind == yaml.ScalarNode && src.Tag == "!!null" && dst != nil {
		return dst
	}
	switch {
	case t.Kind() == reflect.Struct && src.Kind == yaml.MappingNode:
		fields, _ := yamlFields(t)
		return m.mapping(dst, src, func(k string) reflect.Type { return fields[k] }, path)
	case t.Kind() == reflect.Map && src.Kind == yaml.MappingNode:
		return m.mapping(dst, src, func(string) reflect.Type { return t.Elem() }, path)
	case namedList(t) && src.Kind == yaml.SequenceNode:
		return m.named(dst, src, t.Elem(), path)
	case t.Kind() == reflect.Slice && src.Kind == yaml.SequenceNode:
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: src.Style, Line: src.Line, Column: src.Column}
		if src.Tag == TagAppend && dst != nil && dst.Kind == yaml.SequenceNode {
			out.Content = append(out.Content, dst.Content...)
		}
		for i, e := range src.Content {
			out.Content = append(out.Content, m.merge(nil, e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	}
	return src
}

// mapping merges src over dst key by key; fieldType gives the Go type
// under a key, nil for keys that are not fields (disabled).
func (m *merger) mapping(dst, src *yaml.Node, fieldType func(string) reflect.Type, path string) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: src.Line, Column: src.Column}
	if dst != nil && dst.Kind == yaml.MappingNode {
		out.Content = slices.Clone(dst.Content)
	}
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		ft := fieldType(k.Value)
		if ft == nil {
			continue
		}
		j := keyIndex(out, k.Value)
		if j < 0 {
			out.Content = append(out.Content, k, m.merge(nil, v, ft, joinPath(path, k.Value)))
			continue
		}
		out.Content[j+1] = m.merge(out.Content[j+1], v, ft, joinPath(path, k.Value))
	}
	return out
}

// named merges a list of named entries: by name, or the file's list alone
// when tagged !replace.
func (m *merger) named(dst, src *yaml.Node, elem reflect.Type, path string) *yaml.Node {
	var out []*yaml.Node
	if dst != nil && dst.Kind == yaml.SequenceNode && src.Tag != TagReplace {
		out = slices.Clone(dst.Content)
	}
	defaults := entryNames(out)
	if len(src.Content) == 0 && len(out) > 0 {
		// Once the way to say "none", now a no-op: say what to write.
		key := path[strings.LastIndex(path, ".")+1:]
		m.errs = append(m.errs, fmt.Errorf("%s: an empty list changes nothing, as entries merge with the default ones by name (line %d): write %q for none at all, or leave the key out", path, src.Line, key+": "+TagReplace+" []"))
	}
	seen := map[string]string{}
	for i, e := range src.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		e = resolve(e)
		name, disabled := entryName(e), entryDisabled(e)
		if name != "" {
			if first, dup := seen[name]; dup {
				BadField(&m.errs, p+".name", "%q is also %s: give each name once, with all its changes", name, first)
				continue
			}
			seen[name] = p
		}
		at := slices.IndexFunc(out, func(d *yaml.Node) bool { return name != "" && entryName(d) == name })
		switch {
		case disabled && name == "":
			BadField(&m.errs, p+"."+KeyDisabled, "needs the name of the entry to remove")
		case disabled && at < 0:
			BadField(&m.errs, p+"."+KeyDisabled, "there is no default entry %q to remove (%s): check the name, or delete this entry", name, namesHint(defaults, src.Tag))
		case disabled:
			out = slices.Delete(out, at, at+1)
			if m.removed == nil {
				m.removed = map[string]map[string]string{}
			}
			if m.removed[path] == nil {
				m.removed[path] = map[string]string{}
			}
			m.removed[path][name] = p
		case at >= 0:
			out[at] = m.merge(out[at], e, elem, p)
		default:
			out = append(out, m.merge(nil, e, elem, p))
		}
	}
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: out, Line: src.Line, Column: src.Column}
}

func namesHint(names []string, tag string) string {
	switch {
	case tag == TagReplace:
		return "the list is tagged " + TagReplace + ", so it has no default entries"
	case len(names) == 0:
		return "the list has no default entries"
	}
	return "the default names are " + strings.Join(names, ", ")
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func keyIndex(mapping *yaml.Node, key string) int {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// entryName is the name of an entry of a named list, "" when it has none.
func entryName(e *yaml.Node) string {
	e = resolve(e)
	if e == nil || e.Kind != yaml.MappingNode {
		return ""
	}
	if i := keyIndex(e, keyName); i >= 0 {
		if v := resolve(e.Content[i+1]); v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func entryNames(entries []*yaml.Node) []string {
	var names []string
	for _, e := range entries {
		if n := entryName(e); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// entryDisabled reports whether an entry says "disabled: true"; checkKeys
// has made sure the value is a boolean.
func entryDisabled(e *yaml.Node) bool {
	if e == nil || e.Kind != yaml.MappingNode {
		return false
	}
	i := keyIndex(e, KeyDisabled)
	if i < 0 {
		return false
	}
	var b bool
	return resolve(e.Content[i+1]).Decode(&b) == nil && b
}

// checkRemovedSites reports the feeds of c that use a site the file
// removed: without the site they would be extracted by host, or not at
// all, which is not what the file's author asked for.
func (m *merger) checkRemovedSites(c *Config) {
	for _, f := range c.Feeds {
		if p, ok := m.removed["sites"][f.Site]; ok && f.Site != "" {
			BadField(&m.errs, p+"."+KeyDisabled, "feed %q uses site %q: remove that feed too (- name: %s, %s: true) or set its site to another one", f.Name, f.Site, f.Name, KeyDisabled)
		}
	}
}

// Locate names the entries of the merged lists in the paths of errs: a
// path such as "sites[0].layouts[4].when" counts the merged list, which the
// file's author does not see, so "(site "zaobao", layout "sg-ldjson")" is
// added to the message, and "a new entry" when no default has that name,
// which is often a misspelt name meant to change a default entry. Errors
// other than FieldErrors, and paths outside the named lists, are kept as
// they are.
func (c *Config) Locate(errs []error) []error {
	def := reflect.ValueOf(Default()).Elem()
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		fe, ok := err.(*FieldError)
		if !ok {
			out = append(out, err)
			continue
		}
		if where := locate(reflect.ValueOf(c).Elem(), def, fe.Path); where != "" {
			err = &FieldError{Path: fe.Path, Err: fmt.Errorf("%w (%s)", fe.Err, where)}
		}
		out = append(out, err)
	}
	return out
}

// locate walks path ("sites[0].layouts[4].when") down v, and down def by
// the entries' names, and describes the named entries on the way.
func locate(v, def reflect.Value, path string) string {
	var parts []string
	for seg := range strings.SplitSeq(path, ".") {
		key, index, hasIndex := strings.Cut(strings.TrimSuffix(seg, "]"), "[")
		if v.Kind() != reflect.Struct {
			break
		}
		v = fieldByKey(v, key)
		if def.IsValid() {
			def = fieldByKey(def, key)
		}
		if !v.IsValid() || !hasIndex {
			break
		}
		var i int
		if _, err := fmt.Sscan(index, &i); err != nil || v.Kind() != reflect.Slice || i < 0 || i >= v.Len() {
			break
		}
		named := namedList(v.Type())
		v = reflect.Indirect(v.Index(i))
		if !named {
			def = reflect.Value{}
			continue
		}
		name := fieldByKey(v, keyName).String()
		if name == "" {
			parts = append(parts, "a "+strings.TrimSuffix(key, "s")+" with no name")
			def = reflect.Value{}
			continue
		}
		noun := strings.TrimSuffix(key, "s")
		part := fmt.Sprintf("%s %q", noun, name)
		found := reflect.Value{}
		var names []string
		for j := 0; def.IsValid() && def.Kind() == reflect.Slice && j < def.Len(); j++ {
			e := reflect.Indirect(def.Index(j))
			names = append(names, fieldByKey(e, keyName).String())
			if names[j] == name {
				found = e
			}
		}
		if def.IsValid() && !found.IsValid() {
			part += ", new: no default " + noun + " has that name"
			if len(names) > 0 {
				part += " (" + strings.Join(names, ", ") + ")"
			}
		}
		parts = append(parts, part)
		def = found
	}
	return strings.Join(parts, ", ")
}

// fieldByKey is the field of struct v under a YAML key, or the zero Value.
func fieldByKey(v reflect.Value, key string) reflect.Value {
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	t := v.Type()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == key {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// annotate marks the entries of the named lists of n, the encoded
// effective configuration of type t, against def, the encoded defaults:
// "default", "default, changed: interval" or "added", and the removed
// default entries by name on the list's key.
func annotate(n, def *yaml.Node, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n, def = resolve(n), resolve(def)
	if n == nil || def == nil {
		return
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode && def.Kind == yaml.MappingNode:
		fields, _ := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft := fields[k.Value]
			j := keyIndex(def, k.Value)
			if ft == nil || j < 0 {
				continue
			}
			if namedList(ft) {
				if removed := missing(entryNames(def.Content[j+1].Content), entryNames(n.Content[i+1].Content)); len(removed) > 0 {
					k.LineComment = "removed: " + strings.Join(removed, ", ")
				}
			}
			annotate(n.Content[i+1], def.Content[j+1], ft)
		}
	case namedList(t) && n.Kind == yaml.SequenceNode && def.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			name := entryName(e)
			at := slices.IndexFunc(def.Content, func(d *yaml.Node) bool { return name != "" && entryName(d) == name })
			if at < 0 {
				e.HeadComment = "added"
				continue
			}
			d := resolve(def.Content[at])
			var changed []string
			for i := 0; i+1 < len(e.Content); i += 2 {
				j := keyIndex(d, e.Content[i].Value)
				if j < 0 || !sameNode(e.Content[i+1], d.Content[j+1]) {
					changed = append(changed, e.Content[i].Value)
				}
			}
			e.HeadComment = "default"
			if len(changed) > 0 {
				e.HeadComment += ", changed: " + strings.Join(changed, ", ")
			}
			annotate(e, d, t.Elem())
		}
	}
}

// missing are the names of want not in have.
func missing(want, have []string) []string {
	var out []string
	for _, n := range want {
		if !slices.Contains(have, n) {
			out = append(out, n)
		}
	}
	return out
}

// sameNode reports whether two encoded values are equal.
func sameNode(a, b *yaml.Node) bool {
	a, b = resolve(a), resolve(b)
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}
