package converter

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// dateLayout is RFC 3339 to the millisecond, the precision of the marker;
// whole seconds are written without a fraction.
const dateLayout = "2006-01-02T15:04:05.999Z07:00"

// frontMatter writes the YAML mapping with the yaml v3 encoder, keys in
// the profile's order.
// noLiquid adds "render_with_liquid: false" for bodies that Liquid would
// garble.
func (c *Converter) frontMatter(a Article, base *url.URL, title string, noLiquid bool, rw *rewriter) ([]byte, error) {
	o := c.opts
	date := a.Published.In(o.Location).Format(dateLayout)
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	}
	site := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			out = appendUnique(out, strings.ReplaceAll(v, SiteVar, a.Site))
		}
		return out
	}
	author := strings.ReplaceAll(o.Author, SiteVar, a.Site)
	if author == "" {
		author = cmp.Or(strings.TrimSpace(a.Site), strings.TrimSpace(a.Author))
	}
	tags := site(o.Tags)
	categories := site(o.Categories)
	if o.KeywordTags {
		tags = appendUnique(tags, a.Keywords...)
	}
	switch o.Profile {
	case ProfileHugo:
		add("title", quoted(title))
		add("date", plain(date, "!!timestamp"))
		if !a.Modified.IsZero() {
			add("lastmod", plain(a.Modified.In(o.Location).Format(dateLayout), "!!timestamp"))
		}
		if author != "" {
			add("author", str(author))
		}
		add("tags", flowList(tags))
		add("categories", flowList(categories))
		add("source", str(a.URL))
		if a.FromFeed {
			add("body_source", str("feed"))
		}
	default:
		add("layout", str(o.Layout))
		add("title", quoted(title))
		add("date", plain(date, "!!timestamp"))
		add("author", str(author))
		add("from", str(a.URL))
		if a.FromFeed {
			add("source", str("feed"))
		}
		add("tags", flowList(tags))
		if o.Comments {
			add("comments", plain("true", "!!bool"))
		}
		add("categories", flowList(categories))
	}
	for _, e := range ExtraFields {
		if !slices.Contains(o.Extra, e) {
			continue
		}
		switch e {
		case "story_id":
			if a.StoryID != "" {
				add(e, str(a.StoryID))
			}
		case "section":
			if a.Section != "" {
				add(e, str(a.Section))
			}
		case "updated":
			if !a.Modified.IsZero() {
				add(e, plain(a.Modified.In(o.Location).Format(dateLayout), "!!timestamp"))
			}
		case "byline":
			if a.Author != "" {
				add(e, str(CleanText(a.Author)))
			}
		case "keywords":
			if len(a.Keywords) > 0 {
				add(e, flowList(a.Keywords))
			}
		case "image":
			if u := normalizeImageURL(base, a.Image.URL, rw); u != "" {
				add(e, str(u))
			}
		case "image_caption":
			if cap := CleanText(a.Image.Caption); cap != "" {
				add(e, str(cap))
			}
		case "truncated":
			// Written on the posts a paywall cut short only: like the
			// other extras, absent means there is nothing to say.
			if a.Truncated {
				add(e, plain("true", "!!bool"))
			}
		case "date_source":
			// Where the date came from, so that an estimated one shows.
			if a.DateSource != "" {
				add(e, str(a.DateSource))
			}
		case "lang":
			// The page's language, as the generic extractor read it.
			if a.Language != "" {
				add(e, str(a.Language))
			}
		}
	}
	if noLiquid {
		add("render_with_liquid", plain("false", "!!bool"))
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode front matter of %s: %w", a.URL, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode front matter of %s: %w", a.URL, err)
	}
	return b.Bytes(), nil
}

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: CleanText(v)}
}

// quoted is a string written in double quotes, as the legacy archive
// writes titles.
func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.DoubleQuotedStyle}
}

func plain(v, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}

func flowList(vs []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, v := range vs {
		if v = CleanText(v); v != "" {
			n.Content = append(n.Content, str(v))
		}
	}
	return n
}

func appendUnique(list []string, vs ...string) []string {
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		seen[v] = true
	}
	for _, v := range vs {
		if v = CleanText(v); v != "" && !seen[v] {
			seen[v] = true
			list = append(list, v)
		}
	}
	return list
}
