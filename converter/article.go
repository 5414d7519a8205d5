package converter

import (
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Article is one news story as extracted from its page or feed item.
// The crawler fills it; Render turns it into a post.
type Article struct {
	// Title is the headline, as plain text.
	Title string `json:"title"`
	// URL is the canonical address of the story.
	URL string `json:"url"`
	// StoryID is the site's stable identity of the story (zaobao: the
	// number after "story<date>-"), or "" when the site gives none.
	StoryID string `json:"story_id,omitempty"`
	// Site is the human name of the publication (联合早报).
	Site string `json:"site,omitempty"`
	// Section is the site section path, such as "realtime/world".
	Section string `json:"section,omitempty"`
	// Published is the publication instant, carrying the page's UTC offset.
	Published time.Time `json:"published"`
	// DateSource says where Published came from when the generic extractor
	// had to look for it: "ldjson", "microdata", "meta", "time", "url",
	// "text" (printed near the title), or an estimate: "feed" (the feed
	// item's date), "last-modified" (the HTTP header) or "fetched" (the
	// fetch time). "" for a site's layout rules and feed copies.
	DateSource string `json:"date_source,omitempty"`
	// Modified is the last update instant, or the zero time when unknown.
	Modified time.Time `json:"modified,omitzero"`
	// Author is the byline, or "" when the page names none.
	Author string `json:"author,omitempty"`
	// Language is the page's language as a BCP 47 tag ("de-DE",
	// "zh-Hant"), as the page declares it; "" when it does not or the
	// site's layout rules do not read it.
	Language string `json:"lang,omitempty"`
	// Keywords are the page's tags, in page order, without duplicates.
	Keywords []string `json:"keywords,omitempty"`
	// Image is the lead image, shown above the body.
	Image Image `json:"image,omitzero"`
	// Images are every image of the story, with its caption, in page
	// order; the lead image may be among them. Render leaves those the body
	// shows where they are, giving them their caption when the body shows
	// none, and shows the others after the body, as a gallery.
	Images []Image `json:"images,omitempty"`
	// Body is the cleaned article body as a parsed tree, noise removed, in
	// reading order: the nodes under Body (an element whose own tag does
	// not count). Extraction hands it over so that a page is parsed once.
	// Render reads it and leaves it as it was. When nil, BodyHTML is the
	// body.
	Body *html.Node `json:"-"`
	// BodyHTML is the body as HTML, for articles made from text (a feed
	// item, a test); see HTML for the body of either kind.
	BodyHTML string `json:"body_html"`
	// Truncated reports that a paywall cut the body short.
	Truncated bool `json:"truncated,omitempty"`
	// Extractor names the rule that produced the article ("zaobao/hk",
	// "generic"), for debugging rules.
	Extractor string `json:"extractor,omitempty"`
	// FromFeed reports that the body is the feed's copy of the story, not
	// its page's (the page was gone, or kept failing): the post says so in
	// its front matter (Jekyll "source: feed", Hugo "body_source: feed").
	FromFeed bool `json:"from_feed,omitempty"`
}

// Image is a picture with its caption.
type Image struct {
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
}

// HTML is the article's body as HTML: Body serialised when it is set,
// else BodyHTML. newsmd extract --json shows it.
func (a Article) HTML() string {
	if a.Body == nil {
		return a.BodyHTML
	}
	var b strings.Builder
	for c := a.Body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return a.BodyHTML
		}
	}
	return strings.TrimSpace(b.String())
}
