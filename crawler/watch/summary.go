package watch

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Outcome is what became of one story.
type Outcome string

// Outcomes of a story.
const (
	Written   Outcome = "written"
	Duplicate Outcome = "duplicate" // already written, or failed for good
	Elsewhere Outcome = "elsewhere" // being worked on by another live worker
	Waiting   Outcome = "waiting"   // failed before; its retry time has not come
	Failed    Outcome = "failed"
)

// Result is one story's outcome.
type Result struct {
	URL     string
	Outcome Outcome
	Path    string
	Reason  string // for Failed: a short, stable reason ("http_404", "timeout", "extract"); see crawler's classify
	Err     error
	// Extractor is what extracted a Written story: the site's layout
	// ("zaobao/hk"), "generic" or "feed".
	Extractor string
}

// Summary counts what a run did.
type Summary struct {
	FeedsPolled, FeedsNotModified, FeedsFailed int
	// FeedsHeld counts feeds another live worker was polling.
	FeedsHeld int
	// OutOfScope counts feed items no site rule allows; they are dropped.
	OutOfScope                                  int
	New, Written, Duplicate, Elsewhere, Waiting int
	Failed                                      int
	FailedBy                                    map[string]int
	// Layouts counts written stories by extractor (Result.Extractor).
	Layouts map[string]int
	// Rewritten counts posts a paywall had cut short, rewritten in place
	// from a re-fetch that found the full text or a longer copy.
	Rewritten int
	// Refused counts the lines of a backfill's URL list that were not
	// taken: not a URL, or a host no site or feed names.
	Refused int
}

// Add counts story result r.
func (s *Summary) Add(r Result) {
	switch r.Outcome {
	case Written:
		s.Written++
		if s.Layouts == nil {
			s.Layouts = map[string]int{}
		}
		s.Layouts[r.Extractor]++
	case Duplicate:
		s.Duplicate++
	case Elsewhere:
		s.Elsewhere++
	case Waiting:
		s.Waiting++
	case Failed:
		s.Failed++
		if s.FailedBy == nil {
			s.FailedBy = map[string]int{}
		}
		s.FailedBy[r.Reason]++
	}
}

// Merge adds the story counts of o to s.
func (s *Summary) Merge(o Summary) {
	s.New += o.New
	s.Written += o.Written
	s.Duplicate += o.Duplicate
	s.Elsewhere += o.Elsewhere
	s.Waiting += o.Waiting
	s.Failed += o.Failed
	s.Rewritten += o.Rewritten
	for k, v := range o.FailedBy {
		if s.FailedBy == nil {
			s.FailedBy = map[string]int{}
		}
		s.FailedBy[k] += v
	}
	for k, v := range o.Layouts {
		if s.Layouts == nil {
			s.Layouts = map[string]int{}
		}
		s.Layouts[k] += v
	}
}

// Unfinished reports whether the run left work undone: a failed feed or
// story, a feed or story another worker still holds, a story waiting for
// its retry time, or a refused line of a backfill's list.
func (s Summary) Unfinished() bool {
	return s.FeedsFailed+s.FeedsHeld+s.Failed+s.Elsewhere+s.Waiting+s.Refused > 0
}

// String is the summary line printed after a run: the feeds, then
// Stories. Counts that are most often zero (held feeds, items out of
// scope) are shown only when they are not.
func (s Summary) String() string {
	feeds := fmt.Sprintf("feeds: %d polled, %d not modified, %d failed", s.FeedsPolled, s.FeedsNotModified, s.FeedsFailed)
	if s.FeedsHeld > 0 {
		feeds += fmt.Sprintf(", %d held by another worker", s.FeedsHeld)
	}
	if s.OutOfScope > 0 {
		feeds += fmt.Sprintf(", %d items out of scope", s.OutOfScope)
	}
	return feeds + "; " + s.Stories()
}

// Stories is the stories' part of String, all of a backfill's summary.
// Counts that are most often zero (stories elsewhere or waiting,
// truncated posts rewritten, refused lines) are shown only when they are
// not. The written stories are counted by layout ("layouts:
// sg-hydration=12 hk=3 generic=1"), named without their site when all
// come from one site's rules.
func (s Summary) Stories() string {
	var reasons []string
	for r, n := range s.FailedBy {
		reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(reasons)
	f := ""
	if len(reasons) > 0 {
		f = " (" + strings.Join(reasons, " ") + ")"
	}
	stories := fmt.Sprintf("stories: %d new, %d written, %d duplicate", s.New, s.Written, s.Duplicate)
	if s.Elsewhere > 0 {
		stories += fmt.Sprintf(", %d in progress elsewhere", s.Elsewhere)
	}
	if s.Waiting > 0 {
		stories += fmt.Sprintf(", %d waiting for retry", s.Waiting)
	}
	if s.Rewritten > 0 {
		stories += fmt.Sprintf(", %d truncated rewritten", s.Rewritten)
	}
	line := fmt.Sprintf("%s, %d failed%s", stories, s.Failed, f)
	if s.Refused > 0 {
		line += fmt.Sprintf(", %d lines refused", s.Refused)
	}
	if l := s.layouts(); l != "" {
		line += "; layouts: " + l
	}
	return line
}

// layouts is the Layouts part of String: "sg-hydration=12 hk=3", most
// used first, then by name.
func (s Summary) layouts() string {
	sites := map[string]bool{}
	for k := range s.Layouts {
		if site, _, ok := strings.Cut(k, "/"); ok {
			sites[site] = true
		}
	}
	counts := map[string]int{}
	for k, n := range s.Layouts {
		if _, layout, ok := strings.Cut(k, "/"); ok && len(sites) == 1 {
			k = layout
		}
		if k == "" {
			k = "unknown"
		}
		counts[k] += n
	}
	names := slices.Collect(maps.Keys(counts))
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(counts[b]-counts[a], strings.Compare(a, b))
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%d", k, counts[k])
	}
	return strings.Join(parts, " ")
}
