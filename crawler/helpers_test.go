package crawler

import (
	"os"
	"testing"

	"github.com/newsmd/newsmd/converter"
	"github.com/newsmd/newsmd/crawler/site"
	"github.com/newsmd/newsmd/internal/config"
	"go.yaml.in/yaml/v3"
)

// testSites compiles the site rules of the project's config.yaml, so the
// tests check the rules users actually get.
func testSites(t testing.TB) []*site.Site {
	t.Helper()
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Sites []config.Site `yaml:"sites"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	sites, errs := site.Compile("sites", cfg.Sites)
	if len(errs) > 0 {
		t.Fatalf("config.yaml sites: %v", errs)
	}
	return sites
}

// testConverter is a converter with the default options and the sites'
// image rewrites, as cmd/newsmd builds it.
func testConverter(t testing.TB, sites []*site.Site, profile string) *converter.Converter {
	t.Helper()
	opts := converter.DefaultOptions()
	opts.Profile = profile
	for _, s := range sites {
		opts.Rewrites = append(opts.Rewrites, s.ImageRewrites()...)
	}
	c, err := converter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
