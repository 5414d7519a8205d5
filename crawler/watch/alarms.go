package watch

import (
	"log/slog"
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
// (NewAlarms), and one WARN line with a hint when a streak crosses its
// threshold, not one per poll or story.
//
// The thresholds are constants: they count polls and stories, not time,
// and one value suits every feed interval a user is likely to set.
const (
	// EmptyPollsAlarm is the polls in a row that read a feed and find no story
	// in scope. An RSS feed or listing always lists its latest stories, so
	// even one empty read is odd; three rule out a passing glitch.
	EmptyPollsAlarm = 3
	// FailedPollsAlarm is the polls in a row that fail. Each poll has already
	// retried (fetch.retries), so three are a feed that is down or moved,
	// not a blip.
	FailedPollsAlarm = 3
	// MissingFieldAlarm is the stories in a row that a layout extracts without
	// a field it found on an earlier story. Some stories lack a byline or
	// an image; five in a row after finding one means the rule broke.
	MissingFieldAlarm = 5
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

// Alarms keeps the streaks of a runner's feeds, sites and layouts, sets
// their series in Metrics and logs each alarm once. The runner calls
// FeedRead, FeedUnchanged or FeedFailed after each poll, and
// ArticleWritten after each post. It is safe for concurrent use.
type Alarms struct {
	m   *Metrics
	log *slog.Logger

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

func (a *Alarms) feed(name string) *feedStreak {
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

// NewAlarms returns the alarms of the feeds and sites of a
// configuration, counting in m (nil: none) and logging to log. It puts
// every alarm series in m at zero, for every feed, site, layout and
// watched field, so that an alert sees 0 rather than nothing before the
// first poll.
func NewAlarms(m *Metrics, log *slog.Logger, sites []*site.Site, feeds []*feed.Feed) *Alarms {
	a := &Alarms{m: m, log: log}
	if m == nil {
		return a
	}
	unruled := false
	for _, f := range feeds {
		m.Set("newsmd_feed_items", 0, "feed", f.Name())
		m.Set("newsmd_feed_consecutive_empty_polls", 0, "feed", f.Name())
		m.Set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
		m.Set("newsmd_feed_last_success_timestamp_seconds", 0, "feed", f.Name())
		m.Set("newsmd_feed_last_new_item_timestamp_seconds", 0, "feed", f.Name())
		if u, err := url.Parse(f.URL()); err == nil && site.Find(sites, u) == nil {
			unruled = true // its own stories are written without rules
		}
	}
	for _, s := range sites {
		for _, l := range s.Layouts() {
			m.Add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", s.Name()+"/"+l)
			for _, f := range s.LayoutFields(l) {
				if slices.Contains(watchedFields, f) {
					m.Add("newsmd_articles_missing_field_total", 0, "site", s.Name(), "layout", l, "field", f)
				}
			}
		}
		m.Add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", "generic")
		m.Add("newsmd_articles_written_total", 0, "site", s.Name(), "extractor", "feed")
		if len(s.Layouts()) > 0 {
			// A site without layouts is read by the generic extractor: it
			// has nothing to fall back from.
			m.Add("newsmd_generic_fallback_total", 0, "site", s.Name())
		}
		m.Add("newsmd_articles_truncated_total", 0, "site", s.Name())
	}
	if unruled {
		m.Add("newsmd_articles_written_total", 0, "site", "", "extractor", "generic")
		m.Add("newsmd_articles_written_total", 0, "site", "", "extractor", "feed")
		m.Add("newsmd_articles_truncated_total", 0, "site", "")
	}
	return a
}

// FeedRead notes a poll that read feed f and kept n stories in scope.
func (a *Alarms) FeedRead(f *feed.Feed, n int) {
	a.mu.Lock()
	s := a.feed(f.Name())
	failed, empty := s.failed, s.empty
	s.failed = 0
	if n == 0 {
		s.empty++
	} else {
		s.empty = 0
	}
	now := s.empty
	a.mu.Unlock()

	m := a.m
	m.Set("newsmd_feed_items", float64(n), "feed", f.Name())
	m.Set("newsmd_feed_consecutive_empty_polls", float64(now), "feed", f.Name())
	m.Set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
	switch {
	case now == EmptyPollsAlarm:
		a.log.Warn("feed lists no story, poll after poll", "feed", f.Name(), "feed_url", f.URL(), "polls", now,
			"hint", "the feed answers but lists nothing newsmd may fetch: its address or layout may have changed; run `newsmd doctor --feed "+f.Name()+"`, then fix feeds[].url or feeds[].links")
	case n > 0 && empty >= EmptyPollsAlarm:
		a.log.Info("feed lists stories again", "feed", f.Name(), "feed_url", f.URL(), "empty_polls", empty)
	}
	if failed >= FailedPollsAlarm {
		a.log.Info("feed answers again", "feed", f.Name(), "feed_url", f.URL(), "failed_polls", failed)
	}
}

// FeedUnchanged notes a poll that found feed f not modified: it
// answered, and lists what it listed before.
func (a *Alarms) FeedUnchanged(f *feed.Feed) {
	a.mu.Lock()
	s := a.feed(f.Name())
	failed := s.failed
	s.failed = 0
	a.mu.Unlock()
	a.m.Set("newsmd_feed_consecutive_failures", 0, "feed", f.Name())
	if failed >= FailedPollsAlarm {
		a.log.Info("feed answers again", "feed", f.Name(), "feed_url", f.URL(), "failed_polls", failed)
	}
}

// FeedFailed notes a failed poll of feed f, for reason (the runner's
// classification of err).
func (a *Alarms) FeedFailed(f *feed.Feed, reason string, err error) {
	a.mu.Lock()
	s := a.feed(f.Name())
	s.failed++
	now := s.failed
	a.mu.Unlock()
	a.m.Set("newsmd_feed_consecutive_failures", float64(now), "feed", f.Name())
	if now == FailedPollsAlarm {
		a.log.Warn("feed keeps failing", "feed", f.Name(), "feed_url", f.URL(), "polls", now, "reason", reason, "error", err,
			"hint", "run `newsmd doctor --feed "+f.Name()+"`; if the feed or listing moved, fix feeds[].url")
	}
}

// ExtractorLabel is the extractor of a written article as metrics and the
// summary name it: the site's layout ("zaobao/hk"), "generic" (also when
// a site's layouts all failed) or "feed".
func ExtractorLabel(extractor string) string {
	if strings.HasPrefix(extractor, "generic") {
		return "generic"
	}
	return extractor
}

// ArticleWritten counts article art, written from the story at
// articleURL under the rules of its site (nil for a site without rules),
// by site and extractor, and raises the alarms of a site whose rules no
// longer match its pages: a story that fell to the generic extractor, and
// a layout that stopped finding a field.
func (a *Alarms) ArticleWritten(articleURL string, rules *site.Site, art converter.Article) {
	name := ""
	if rules != nil {
		name = rules.Name()
	}
	m := a.m
	ext := ExtractorLabel(art.Extractor)
	m.Add("newsmd_articles_written_total", 1, "site", name, "extractor", ext)
	if art.Truncated {
		m.Add("newsmd_articles_truncated_total", 1, "site", name)
	}
	if rules == nil || ext == "feed" || len(rules.Layouts()) == 0 {
		return // no layouts whose fall or lost fields to watch
	}
	if ext == "generic" {
		m.Add("newsmd_generic_fallback_total", 1, "site", name)
		a.mu.Lock()
		if a.fallback == nil {
			a.fallback = map[string]int{}
		}
		a.fallback[name]++
		n := a.fallback[name]
		a.mu.Unlock()
		if n == 1 {
			a.log.Warn("story written by the generic extractor: no layout of its site matched", "site", name, "article_url", articleURL,
				"hint", "the site's layout no longer matches: run `newsmd doctor --url "+articleURL+"` and fix sites[].layouts of "+name)
		}
		return
	}
	layoutName, ok := strings.CutPrefix(ext, name+"/")
	if !ok {
		return // another site's rules (a redirect across sites): not this site's layout
	}
	var missing []string
	a.mu.Lock()
	fell := a.fallback[name]
	delete(a.fallback, name)
	var lost, back []string // fields whose alarm is raised, or cleared
	for _, f := range rules.LayoutFields(layoutName) {
		if !slices.Contains(watchedFields, f) {
			continue
		}
		if a.fields == nil {
			a.fields = map[fieldKey]*fieldStreak{}
		}
		key := fieldKey{name, layoutName, f}
		s := a.fields[key]
		if s == nil {
			s = &fieldStreak{}
			a.fields[key] = s
		}
		if fieldEmpty(art, f) {
			missing = append(missing, f)
			s.missing++
			if s.found && s.missing == MissingFieldAlarm {
				lost = append(lost, f)
			}
			continue
		}
		if s.found && s.missing >= MissingFieldAlarm {
			back = append(back, f)
		}
		s.found, s.missing = true, 0
	}
	a.mu.Unlock()

	for _, f := range missing {
		m.Add("newsmd_articles_missing_field_total", 1, "site", name, "layout", layoutName, "field", f)
	}
	if fell > 0 {
		a.log.Info("a layout of the site matches again", "site", name, "layout", layoutName, "generic_stories", fell)
	}
	for _, f := range lost {
		a.log.Warn("layout no longer finds a field it used to find", "site", name, "layout", layoutName, "field", f,
			"stories", MissingFieldAlarm, "article_url", articleURL,
			"hint", "run `newsmd doctor --url "+articleURL+"` and fix the "+f+" sources of layout "+layoutName+" in sites[].layouts of "+name)
	}
	for _, f := range back {
		a.log.Info("layout finds the field again", "site", name, "layout", layoutName, "field", f)
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
