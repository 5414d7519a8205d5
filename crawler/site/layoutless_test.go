package site

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/newsmd/newsmd/internal/config"
)

// layoutless compiles the shipped sites and one more named by its hosts
// alone, as a user adds it: "- name: lemonde / hosts: [lemonde.fr]".
func layoutless(t *testing.T, extra config.Site) []*Site {
	t.Helper()
	sites := testSites(t)
	more, errs := Compile("sites", []config.Site{extra})
	if len(errs) > 0 {
		t.Fatalf("compile %+v: %v", extra, errs)
	}
	return append(sites, more...)
}

// TestCompileSiteWithoutLayouts: name and hosts are enough; the title
// defaults to the name, the time zone to Asia/Singapore.
func TestCompileSiteWithoutLayouts(t *testing.T) {
	sites, errs := Compile("sites", []config.Site{{Name: "rfi", Hosts: []string{"rfi.fr"}}})
	if len(errs) > 0 {
		t.Fatalf("got errors %v, want none", errs)
	}
	s := sites[0]
	if s.Title() != "rfi" || s.Location().String() != "Asia/Singapore" || len(s.Layouts()) != 0 {
		t.Errorf("got title %q, zone %s, layouts %q; want rfi, Asia/Singapore, none", s.Title(), s.Location(), s.Layouts())
	}
	sites, _ = Compile("sites", []config.Site{{Name: "rfi", Title: "RFI 法广", Hosts: []string{"rfi.fr"}}})
	if sites[0].Title() != "RFI 法广" {
		t.Errorf("title: got %q, want the configured one", sites[0].Title())
	}
}

// TestCompileSiteHostErrors: the mistakes of a two-line site entry are
// reported at their path, saying what to write.
func TestCompileSiteHostErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sites []config.Site
		path  string
		want  string
	}{
		{"no hosts", []config.Site{{Name: "rfi"}}, "sites[0].hosts", "such as [rfi.fr]"},
		{"URL", []config.Site{{Name: "rfi", Hosts: []string{"https://www.rfi.fr/cn/"}}}, "sites[0].hosts[0]", "without scheme or path"},
		{"path", []config.Site{{Name: "rfi", Hosts: []string{"rfi.fr/cn"}}}, "sites[0].hosts[0]", "without scheme or path"},
		{"upper case", []config.Site{{Name: "rfi", Hosts: []string{"RFI.fr"}}}, "sites[0].hosts[0]", "lowercase"},
		{"no name", []config.Site{{Hosts: []string{"rfi.fr"}}}, "sites[0].name", "required"},
		{"host of two sites", []config.Site{{Name: "rfi", Hosts: []string{"rfi.fr"}}, {Name: "rfi-cn", Hosts: []string{"rfi.fr"}}},
			"sites[1].hosts[0]", `already a host of site "rfi"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := Compile("sites", tc.sites)
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want 1", len(errs), errs)
			}
			var fe *config.FieldError
			if !errors.As(errs[0], &fe) || fe.Path != tc.path || !strings.Contains(fe.Error(), tc.want) {
				t.Errorf("got %v, want an error at %s saying %q", errs[0], tc.path, tc.want)
			}
		})
	}
}

// TestExtractSiteWithoutLayouts: a page of a site named without layouts
// goes straight to the generic extractor, which is then plain "generic"
// (no fallback to report), with the site's title and canonical URL.
func TestExtractSiteWithoutLayouts(t *testing.T) {
	sites := layoutless(t, config.Site{Name: "lemonde", Title: "Le Monde", Hosts: []string{"lemonde.fr"}})
	page, err := os.ReadFile("testdata/generic/lemonde-1.html")
	if err != nil {
		t.Fatal(err)
	}
	const raw = "http://www.lemonde.fr/pixels/article/2015/05/04/que-contient-la-loi-sur-le-renseignement_4627068_4408996.html?utm_source=x#c"
	a, err := Extract(page, raw, sites)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://www.lemonde.fr/pixels/article/2015/05/04/que-contient-la-loi-sur-le-renseignement_4627068_4408996.html"
	if a.Extractor != "generic" || a.Site != "Le Monde" || a.URL != want || a.StoryID != "" {
		t.Errorf("got extractor %q site %q URL %q story id %q; want generic, Le Monde, %s, none", a.Extractor, a.Site, a.URL, a.StoryID, want)
	}
	if a.Published.IsZero() || !strings.Contains(a.HTML(), "438 contre 86") {
		t.Errorf("got published %v, body %.200q", a.Published, a.HTML())
	}

	d := Diagnose(page, raw, sites)
	if d.Err != nil || d.Site != "lemonde" || d.Extractor != "generic" || len(d.Layouts) != 0 {
		t.Errorf("diagnose: got site %q extractor %q layouts %d err %v; want lemonde, generic, 0, nil", d.Site, d.Extractor, len(d.Layouts), d.Err)
	}
}

// TestIdentifySiteWithoutStoryID: the canonical URL is the site's
// (https, canonical host), without a site key; since no story_id says
// which part names the story, the query stays, less tracking parameters.
func TestIdentifySiteWithoutStoryID(t *testing.T) {
	sites := layoutless(t, config.Site{Name: "cdt", Hosts: []string{"chinadigitaltimes.net"}, CanonicalHost: "chinadigitaltimes.net"})
	for _, tc := range []struct{ raw, want string }{
		{"http://www.chinadigitaltimes.net/chinese/2024/01/a-story/", "https://chinadigitaltimes.net/chinese/2024/01/a-story"},
		{"https://chinadigitaltimes.net/?p=701234&utm_source=rss&utm_medium=rss", "https://chinadigitaltimes.net/?p=701234"},
		{"https://chinadigitaltimes.net/?p=701235#comments", "https://chinadigitaltimes.net/?p=701235"},
	} {
		id, s, err := Identify(sites, tc.raw)
		if err != nil || s == nil || s.Name() != "cdt" || id.URL != tc.want || id.SiteKey != "" {
			t.Errorf("Identify(%s): got %+v, site %v, err %v; want URL %s, site cdt, no key", tc.raw, id, s, err, tc.want)
		}
	}
	// A site with a story_id drops the query, as before.
	id, _, err := Identify(sites, "https://www.zaobao.com.sg/realtime/world/story20150504-1000001?p=2")
	if err != nil || id.URL != "https://www.zaobao.com/realtime/world/story20150504-1000001" || id.SiteKey != "zaobao:1000001" {
		t.Errorf("zaobao: got %+v, %v", id, err)
	}
}

// TestFindByPort: two sites on one host name and different ports (test
// mirrors) are two sites; a port neither allows is the first one's, whose
// rule Identify then refuses.
func TestFindByPort(t *testing.T) {
	sites, errs := Compile("sites", []config.Site{
		{Name: "a", Hosts: []string{"127.0.0.1:8080"}},
		{Name: "b", Hosts: []string{"127.0.0.1:9090"}},
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for raw, want := range map[string]string{"http://127.0.0.1:8080/x": "a", "http://127.0.0.1:9090/x": "b"} {
		if _, s, err := Identify(sites, raw); err != nil || s == nil || s.Name() != want {
			t.Errorf("Identify(%s): got %v, %v; want site %s", raw, s, err, want)
		}
	}
	if _, _, err := Identify(sites, "http://127.0.0.1:7070/x"); !errors.Is(err, ErrNoSiteRule) {
		t.Errorf("a port no site allows: got %v, want ErrNoSiteRule", err)
	}
}
