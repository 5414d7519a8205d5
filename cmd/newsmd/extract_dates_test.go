package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExtractUndatedSavedPage: a saved page (--html) with an article and
// no date anywhere is extracted, dated by the time it is extracted, with
// date_source "fetched".
func TestExtractUndatedSavedPage(t *testing.T) {
	page := filepath.Join(t.TempDir(), "page.html")
	body := `<html><head><title>Undated</title></head><body><h1>Undated</h1><article><p>` +
		strings.Repeat("A sentence of the story, long enough to count as its text. ", 30) + `</p></article></body></html>`
	if err := os.WriteFile(page, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	code, out, errOut := run(t, "extract", "--config", "../../config.yaml", "--html", page, "--url", "https://example.com/news/undated", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Published  time.Time `json:"published"`
		DateSource string    `json:"date_source"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if got.DateSource != "fetched" || got.Published.Before(before) || got.Published.After(time.Now().Add(time.Second)) {
		t.Errorf("got published %v from %q, want now from \"fetched\"", got.Published, got.DateSource)
	}
}
