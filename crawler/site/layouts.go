package site

import "slices"

// Layouts are the names of the site's layouts, in the order they are
// tried. The runner names its per-layout metrics with them before any
// page is seen, so that an alert finds them at zero rather than absent.
func (s *Site) Layouts() []string {
	names := make([]string, len(s.layouts))
	for i, l := range s.layouts {
		names[i] = l.cfg.Name
	}
	return names
}

// LayoutFields are the article fields the named layout has rules for
// ("author", "image", "keywords"...), sorted; "section" is among them
// when the site's section pattern can fill it from the URL. A story
// extracted by the layout without one of them may mean the rule no
// longer matches the site's pages. Nil for an unknown layout.
func (s *Site) LayoutFields(name string) []string {
	i := slices.IndexFunc(s.layouts, func(l layout) bool { return l.cfg.Name == name })
	if i < 0 {
		return nil
	}
	var fields []string
	for f, srcs := range s.layouts[i].fields {
		if len(srcs) > 0 {
			fields = append(fields, f)
		}
	}
	if s.section != nil && !slices.Contains(fields, "section") {
		fields = append(fields, "section")
	}
	slices.Sort(fields)
	return fields
}
