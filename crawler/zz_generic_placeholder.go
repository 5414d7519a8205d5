package crawler

// PLACEHOLDER until generic.go lands; delete then.

import (
	"errors"
	"net/url"
	"time"
)

type genericResult struct {
	Title, Byline, ContentHTML, ImageURL string
	Published, Modified                  time.Time
	SiteName, Language                   string
}

var errNoContent = errors.New("no article content found")

func extractGeneric(page []byte, pageURL *url.URL) (genericResult, error) {
	return genericResult{}, errNoContent
}
