package crawler

import (
	"errors"
	"net/http"
	"testing"

	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
)

// TestInScope: backfill's rule is the feeds' rule over all the feeds: a
// host a site names, or a feed's own host and port.
func TestInScope(t *testing.T) {
	r, _, _, srv := testRunner(t, http.NotFoundHandler(), config.Feed{Name: "own", URL: "/rss"})
	for _, tc := range []struct {
		raw       string
		wantSite  string
		wantError error
	}{
		{"https://www.zaobao.com.sg/realtime/china/story20240301-1", "zaobao", nil},
		{srv.URL + "/a/story", "", nil}, // the feed's own host and port
		{"https://www.rfi.fr/cn/a", "", ErrUnnamedHost},
		{"https://www.zaobao.com.sg:8443/realtime/china/story20240301-1", "", site.ErrNoSiteRule},
		{"ftp://example.com/a", "", site.ErrBadURL},
	} {
		rules, err := r.InScope(tc.raw)
		name := ""
		if rules != nil {
			name = rules.Name()
		}
		if name != tc.wantSite || !errors.Is(err, tc.wantError) {
			t.Errorf("InScope(%s): got site %q, error %v; want %q, %v", tc.raw, name, err, tc.wantSite, tc.wantError)
		}
	}
}
