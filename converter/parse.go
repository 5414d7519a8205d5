package converter

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// PostInfo is what an archived post says about its story.
type PostInfo struct {
	// Source is the story's URL: front matter "from" (jekyll) or
	// "source" (hugo).
	Source string
	Title  string
	// Date is the front matter date, or the <!--ms--> marker when the date
	// is missing or unreadable; zero when neither is there.
	Date time.Time
	// StoryID is the story_id extra, when the post has it.
	StoryID string
	// Lenient reports that the front matter was not valid YAML and the
	// fields were read line by line (the old archive script wrote titles
	// with unescaped quotes).
	Lenient bool
}

// ErrNotPost is returned for a file that has no front matter or no
// source URL.
var ErrNotPost = errors.New("not a post: no front matter with a from or source URL")

var (
	markerLine = regexp.MustCompile(`(?m)^<!--(\d{10,14})-->\s*$`)
	fmLine     = regexp.MustCompile(`(?m)^(from|source|title|date|story_id):[ \t]*(.*?)[ \t]*$`)
)

// ReadPost reads the front matter of an archived post, written by newsmd
// or by the old archive script, whose broken YAML it tolerates.
func ReadPost(data []byte) (PostInfo, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return PostInfo{}, ErrNotPost
	}
	fm, rest, ok := bytes.Cut(data[4:], []byte("\n---"))
	if !ok {
		return PostInfo{}, fmt.Errorf("%w (front matter is not closed by ---)", ErrNotPost)
	}
	var info PostInfo
	var m struct {
		From    string `yaml:"from"`
		Source  string `yaml:"source"`
		Title   string `yaml:"title"`
		Date    string `yaml:"date"`
		StoryID string `yaml:"story_id"`
	}
	if err := yaml.Unmarshal(fm, &m); err == nil {
		info = PostInfo{Source: cmp.Or(strings.TrimSpace(m.From), sourceURL(m.Source)), Title: m.Title, StoryID: m.StoryID}
		info.Date, _ = frontMatterDate(m.Date)
	} else {
		info.Lenient = true
		for _, l := range fmLine.FindAllSubmatch(fm, -1) {
			v := string(l[2])
			switch string(l[1]) {
			case "from":
				info.Source = strings.Trim(v, `"'`)
			case "source":
				info.Source = cmp.Or(strings.TrimSpace(info.Source), sourceURL(strings.Trim(v, `"'`)))
			case "title":
				info.Title = unquoteLoose(v)
			case "date":
				info.Date, _ = frontMatterDate(strings.Trim(v, `"'`))
			case "story_id":
				info.StoryID = strings.Trim(v, `"'`)
			}
		}
	}
	if info.Date.IsZero() {
		if mk := markerLine.FindSubmatch(rest); mk != nil {
			if ms, err := strconv.ParseInt(string(mk[1]), 10, 64); err == nil {
				info.Date = time.UnixMilli(ms)
			}
		}
	}
	if info.Source == "" {
		return info, ErrNotPost
	}
	return info, nil
}

// sourceURL is a "source" value, trimmed, when it names a URL: Hugo posts
// keep the story's URL there, while Jekyll posts written from a feed's
// copy say "source: feed" beside their "from" URL.
func sourceURL(v string) string {
	if strings.Contains(v, "://") {
		return strings.TrimSpace(v)
	}
	return ""
}

// frontMatterDate reads the date of a post's front matter, in the layouts
// newsmd and the old archive script write it. It is not the crawler's
// parser of the dates of pages and feeds, which also reads Chinese dates,
// zone names and Unix times: a post's date that is none of these layouts
// is a damaged file, and ReadPost then takes the <!--ms--> marker instead.
func frontMatterDate(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date %q", s)
}

// unquoteLoose takes the text between a title's outer quotes, undoing
// \" escapes, as the old script meant it.
func unquoteLoose(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return strings.ReplaceAll(v, `\"`, `"`)
}
