package httpurl

import (
	"errors"
	"net/url"
	"strings"
)

// ErrBadURL is the error of a story, page or feed URL that is not an
// absolute http or https URL.
var ErrBadURL = errors.New("URL must be an absolute http or https URL")

// Parse parses s as an absolute http or https URL with a host, the only
// URLs newsmd fetches or writes.
func Parse(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// SplitPort splits "host:port" into its host and port; a host without a
// port has port "".
func SplitPort(h string) (host, port string) {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i+1:], "]") {
		return h[:i], h[i+1:]
	}
	return h, ""
}

// EffectivePort is u's port, or its scheme's default.
func EffectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}
