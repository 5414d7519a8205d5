package main

import (
	"encoding/json"
	"testing"
)

// TestExtractJSONImages: extract --json shows every image of a story with
// its caption, and whether a paywall cut it.
func TestExtractJSONImages(t *testing.T) {
	for _, tt := range []struct {
		page, url string
		images    int
		truncated bool
	}{
		{"sg-2025-hydration", "https://www.zaobao.com.sg/realtime/world/story20251118-7712345", 4, false},
		{"sg-2025-paywall", "https://www.zaobao.com.sg/realtime/singapore/story20251120-7718800", 1, true},
	} {
		code, out, errOut := run(t, "extract", "--config", "../../config.yaml", "--html", "../../crawler/site/testdata/pages/"+tt.page+".html", "--url", tt.url, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.page, code, errOut)
		}
		var got struct {
			Images []struct {
				URL     string `json:"url"`
				Caption string `json:"caption"`
			} `json:"images"`
			Truncated bool `json:"truncated"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: --json output: %v", tt.page, err)
		}
		if len(got.Images) != tt.images || got.Truncated != tt.truncated {
			t.Errorf("%s: got %d images, truncated %v; want %d, %v", tt.page, len(got.Images), got.Truncated, tt.images, tt.truncated)
		}
		for _, im := range got.Images {
			if im.URL == "" || im.Caption == "" {
				t.Errorf("%s: image without URL or caption: %+v", tt.page, im)
			}
		}
	}
}
