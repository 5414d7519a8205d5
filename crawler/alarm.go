package crawler

import (
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/feed"
	"github.com/newsmd/newsmd/crawler/site"
)

// The alarms: what newsmd says the day a site changes under it, so that
// an archive left running for months does not silently stop growing or
// fill with thin posts. Each is a metric, present at zero from the start
// (register), and one WARN line with a hint when a streak crosses its
// threshold, not one per poll or story.
//
// The thresholds are constants: they count polls and stories, not time,
// and one value suits every feed interval a user is likely to set.
const (
	// emptyPollsAlarm: polls in a row that read a feed and find no story
	// in scope. An RSS feed or listing always lists its latest stories, so
	// even one empty read is odd; three rule out a passing glitch.
	emptyPollsAlarm = 3
	// failedPollsAlarm: polls in a row that fail. Each poll has already
	// retried (fetch.retries), so three are a feed that is down or moved,
	// not a blip.
	failedPollsAlarm = 3
	// missingFieldAlarm: stories in a row that a layout extracts without
	// a field it found on an earlier story. Some stories lack a byline or
	// an image; five in a row after finding one means the rule broke.
	missingFieldAlarm = 5
)

// watchedFields are the fields counted in
// newsmd_articles_missing_field_total when the layout has rules for them:
// a zaobao story normally has a byline, tags, a section and a lead image,
// so a run of stories without one is a rule that no longer matches.
// title, published and body are required (a layout without them does not
// match at all); modified and image_caption are often absent from sound
// pages (a story never updated, an image without a caption), and would
// only be noise.
var watchedFields = []string{"author", "image", "keywords", "section"}

// alarms is the runner's streaks, for logging each alarm once.
type alarms struct {
	mu       sync.Mutex
	feeds    map[string]*feedStreak // by feed name
	fallback map[string]int         // site → stories in a row that fell to generic
	fields   map[fieldKey]*fieldStreak
}

type feedStreak struct{ empty, failed int }

type fieldKey struct{ site, layout, field string }

type fieldStreak struct {
	found   bool // a story of the layout had the field
	missing int  // stories in a row without it
}

func (a *alarms) feed(name string) *feedStreak {
	if a.feeds == nil {
		a.feeds = map[string]*feedStreak{}
	}
	s := a.feeds[name]
	if s == nil {
		s = &feedStreak{}
		a.feeds[name] = s
	}
	return s
}

// register puts every alarm series in the metrics at zero, for every
// feed, site, layout and watched field of the configuration, so that an
// alert sees 0 rather than nothing before the first poll.
func (r *Runner) register() {
	m := r.dep.Metrics
	if m == nil {
		return
	}
	unruled := false
	for _, f := range r.dep.Feeds {
		m.set("newsmd_feed_items", 0, "feed", f.Name())
		m.set("newsmd_feed_consecutive_empty_polls", 0, "feed", f.Name())
		m.set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
		if u, err := url.Parse(f.URL()); err == nil && site.Find(r.dep.Sites, u) == nil {
			unruled = true // its own stories are written without rules
		}
	}
	for _, s := range r.dep.Sites {
		for _, l := range s.Layouts() {
			m.add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", s.Name()+"/"+l)
			for _, f := range s.LayoutFields(l) {
				if slices.Contains(watchedFields, f) {
					m.add("newsmd_articles_missing_field_total", 0, "site", s.Name(), "layout", l, "field", f)
				}
			}
		}
		m.add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", "generic")
		m.add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", "feed")
		m.add("newsmd_generic_fallback_total", 0, "site", s.Name())
		m.add("newsmd_articles_truncated_total", 0, "site", s.Name())
	}
	if unruled {
		m.add("newsmd_articles_written_total", 0, "site", "", "extractor", "generic")
		m.add("newsmd_articles_written_total", 0, "site", "", "extractor", "feed")
		m.add("newsmd_articles_truncated_total", 0, "site", "")
	}
}

// feedRead notes a poll that read feed f and kept n stories in scope.
func (r *Runner) feedRead(f *feed.Feed, n int) {
	r.alarm.mu.Lock()
	s := r.alarm.feed(f.Name())
	failed, empty := s.failed, s.empty
	s.failed = 0
	if n == 0 {
		s.empty++
	} else {
		s.empty = 0
	}
	now := s.empty
	r.alarm.mu.Unlock()

	m := r.dep.Metrics
	m.set("newsmd_feed_items", float64(n), "feed", f.Name())
	m.set("newsmd_feed_consecutive_empty_polls", float64(now), "feed", f.Name())
	m.set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
	switch {
	case now == emptyPollsAlarm:
		r.dep.Log.Warn("feed lists no story, poll after poll", "feed", f.Name(), "feed_url", f.URL(), "polls", now,
			"hint", "the feed answers but lists nothing newsmd may fetch: its address or layout may have changed; run `newsmd doctor --feed "+f.Name()+"`, then fix feeds[].url or feeds[].links")
	case n > 0 && empty >= emptyPollsAlarm:
		r.dep.Log.Info("feed lists stories again", "feed", f.Name(), "feed_url", f.URL(), "empty_polls", empty)
	}
	if failed >= failedPollsAlarm {
		r.dep.Log.Info("feed answers again", "feed", f.Name(), "feed_url", f.URL(), "failed_polls", failed)
	}
}

// feedUnchanged notes a poll that found feed f not modified: it answered,
// and lists what it listed before.
func (r *Runner) feedUnchanged(f *feed.Feed) {
	r.alarm.mu.Lock()
	s := r.alarm.feed(f.Name())
	failed := s.failed
	s.failed = 0
	r.alarm.mu.Unlock()
	r.dep.Metrics.set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
	if failed >= failedPollsAlarm {
		r.dep.Log.Info("feed answers again", "feed", f.Name(), "feed_url", f.URL(), "failed_polls", failed)
	}
}

// feedFailed notes a failed poll of feed f.
func (r *Runner) feedFailed(f *feed.Feed, reason string, err error) {
	r.alarm.mu.Lock()
	s := r.alarm.feed(f.Name())
	s.failed++
	now := s.failed
	r.alarm.mu.Unlock()
	r.dep.Metrics.set("newsmd_feed_consecutive_failures", float64(now), "feed", f.Name())
	if now == failedPollsAlarm {
		r.dep.Log.Warn("feed keeps failing", "feed", f.Name(), "feed_url", f.URL(), "polls", now, "reason", reason, "error", err,
			"hint", "run `newsmd doctor --feed "+f.Name()+"`; if the feed or listing moved, fix feeds[].url")
	}
}

// extractorLabel is the extractor of a written article as metrics and the
// summary name it: the site's layout ("zaobao/hk"), "generic" (also when
// a site's layouts all failed) or "feed".
func extractorLabel(extractor string) string {
	if strings.HasPrefix(extractor, "generic") {
		return "generic"
	}
	return extractor
}

// articleWritten counts a written article by site and extractor, and
// raises the alarms of a site whose rules no longer match its pages: a
// story that fell to the generic extractor, and a layout that stopped
// finding a field.
func (r *Runner) articleWritten(k Key, a converter.Article) {
	_, rules, _ := r.Identify(k.URL)
	name := ""
	if rules != nil {
		name = rules.Name()
	}
	m := r.dep.Metrics
	ext := extractorLabel(a.Extractor)
	m.add("newsmd_articles_written_total", 1, "site", name, "extractor", ext)
	if a.Truncated {
		m.add("newsmd_articles_truncated_total", 1, "site", name)
	}
	if rules == nil || ext == "feed" {
		return
	}
	if ext == "generic" {
		m.add("newsmd_generic_fallback_total", 1, "site", name)
		r.alarm.mu.Lock()
		if r.alarm.fallback == nil {
			r.alarm.fallback = map[string]int{}
		}
		r.alarm.fallback[name]++
		n := r.alarm.fallback[name]
		r.alarm.mu.Unlock()
		if n == 1 {
			r.dep.Log.Warn("story written by the generic extractor: no layout of its site matched", "site", name, "article_url", k.URL,
				"hint", "the site's layout no longer matches: run `newsmd doctor --url "+k.URL+"` and fix sites[].layouts of "+name)
		}
		return
	}
	layoutName, ok := strings.CutPrefix(ext, name+"/")
	if !ok {
		return // another site's rules (a redirect across sites): not this site's layout
	}
	var missing []string
	r.alarm.mu.Lock()
	fell := r.alarm.fallback[name]
	delete(r.alarm.fallback, name)
	var lost, back []string // fields whose alarm is raised, or cleared
	for _, f := range rules.LayoutFields(layoutName) {
		if !slices.Contains(watchedFields, f) {
			continue
		}
		if r.alarm.fields == nil {
			r.alarm.fields = map[fieldKey]*fieldStreak{}
		}
		key := fieldKey{name, layoutName, f}
		s := r.alarm.fields[key]
		if s == nil {
			s = &fieldStreak{}
			r.alarm.fields[key] = s
		}
		if fieldEmpty(a, f) {
			missing = append(missing, f)
			s.missing++
			if s.found && s.missing == missingFieldAlarm {
				lost = append(lost, f)
			}
			continue
		}
		if s.found && s.missing >= missingFieldAlarm {
			back = append(back, f)
		}
		s.found, s.missing = true, 0
	}
	r.alarm.mu.Unlock()

	for _, f := range missing {
		m.add("newsmd_articles_missing_field_total", 1, "site", name, "layout", layoutName, "field", f)
	}
	if fell > 0 {
		r.dep.Log.Info("a layout of the site matches again", "site", name, "layout", layoutName, "generic_stories", fell)
	}
	for _, f := range lost {
		r.dep.Log.Warn("layout no longer finds a field it used to find", "site", name, "layout", layoutName, "field", f,
			"stories", missingFieldAlarm, "article_url", k.URL,
			"hint", "run `newsmd doctor --url "+k.URL+"` and fix the "+f+" sources of layout "+layoutName+" in sites[].layouts of "+name)
	}
	for _, f := range back {
		r.dep.Log.Info("layout finds the field again", "site", name, "layout", layoutName, "field", f)
	}
}

// fieldEmpty reports whether article a lacks field f.
func fieldEmpty(a converter.Article, f string) bool {
	switch f {
	case "author":
		return a.Author == ""
	case "image":
		return a.Image.URL == ""
	case "keywords":
		return len(a.Keywords) == 0
	case "section":
		return a.Section == ""
	}
	return false
}
