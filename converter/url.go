package converter

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ResolveURL resolves ref, a URL as a page, feed or article body writes
// it, against base, the URL of the document it is in, and returns the
// absolute URL, or "" when ref names nothing a post may link to or the
// crawler may fetch. It is the one rule for such URLs: the crawler resolves
// feed items, listing links and lead images with it, and the converter the
// links and images of a body, so a story's URL and the URLs in its post
// never disagree. It lives here because the converter imports none of
// newsmd's packages and the crawler imports this one.
//
//   - White space around ref is ignored.
//   - A relative ref is resolved against base. Without a base, only a
//     protocol-relative ref ("//host/path") is taken, as https.
//   - Only http and https URLs with a host are kept: not data:,
//     javascript: or mailto:, not "http:///path", and not URLs with user
//     information ("https://www.zaobao.com@example.net/"), which hides the
//     real host from a reader and may carry a password.
//   - Bytes that are not UTF-8 are percent-encoded, as url.URL.String
//     already encodes them in the path: the URL names the same resource
//     and is valid UTF-8, as posts and the store's keys must be. Dropping
//     the bytes would name another resource.
func ResolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) >= 5 && strings.EqualFold(ref[:5], "data:") {
		// Cheap: data: placeholders may be long.
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme == "" && strings.HasPrefix(ref, "//") {
		u.Scheme = "https"
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return escapeInvalidUTF8(u.String())
}

// escapeInvalidUTF8 percent-encodes the bytes of s that are not UTF-8.
func escapeInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// ImageKey is what the URLs of one picture have in common: the absolute
// URL u after the site's rewrites, without its query and fragment, where
// sizes and tokens differ between a page's copies of an image. The
// converter uses it to tell whether the body already shows the lead image,
// and the crawler to find the lead image's caption in the body, so both
// take the same picture for the lead image.
func ImageKey(u string, rewrites []Rewrite) string {
	return (&rewriter{rules: rewrites}).key(u)
}
