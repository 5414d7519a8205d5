package feedpoll

import (
	"testing"
	"time"

	"github.com/newsmd/newsmd/crawler/feed"
)

func TestFeedTTLAndMaxAge(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`<rss><channel><title>x</title><ttl>5</ttl><item></item></channel></rss>`: 5 * time.Minute,
		`<rss><channel><ttl> 120 </ttl></channel></rss>`:                          2 * time.Hour,
		`<rss><channel><title>no ttl</title></channel></rss>`:                     0,
		`<rss><channel><ttl>-3</ttl></channel></rss>`:                             0,
		`<feed xmlns="http://www.w3.org/2005/Atom"></feed>`:                       0,
	} {
		if got := feed.TTL([]byte(body)); got != want {
			t.Errorf("feed.TTL(%s): got %v, want %v", body, got, want)
		}
	}
	for cc, want := range map[string]time.Duration{
		"max-age=300":                   5 * time.Minute,
		"public, max-age=3600, private": time.Hour,
		"no-cache":                      0,
		"max-age=abc":                   0,
		"":                              0,
	} {
		if got := maxAge(cc); got != want {
			t.Errorf("maxAge(%q): got %v, want %v", cc, got, want)
		}
	}
	for range 100 {
		if j := jitter(10 * time.Minute); j < 9*time.Minute || j > 11*time.Minute {
			t.Fatalf("jitter(10m) = %v, want within ±10%%", j)
		}
	}
}
