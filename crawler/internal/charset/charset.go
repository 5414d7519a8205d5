package charset

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// xmlDeclaration matches the encoding in an XML declaration.
var xmlDeclaration = regexp.MustCompile(`^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// ToUTF8 is the charset decoder of pages and feeds: it returns body as
// UTF-8. The charset is the first of: a byte order mark, the charset of
// contentType (a Content-Type header), an XML declaration, an HTML <meta>
// in the first 1024 bytes. A body that names none is UTF-8 when its first
// 1024 bytes are valid UTF-8, else windows-1252, as browsers do. Bytes
// that are not valid in the charset become U+FFFD (in UTF-8, each run of
// them becomes one).
func ToUTF8(body []byte, contentType string) []byte {
	enc, name, certain := htmlcharset.DetermineEncoding(body, contentType)
	if !certain {
		// A byte order mark or the header overrule the declaration, and
		// the declaration a <meta>; DetermineEncoding does not read it.
		if m := xmlDeclaration.FindSubmatch(body); m != nil {
			if e, n := htmlcharset.Lookup(string(m[1])); e != nil {
				enc, name = e, n
			}
		} else if e, n := lateMeta(body); e != nil {
			enc, name = e, n
		}
	}
	if enc == encoding.Nop || name == "utf-8" {
		if utf8.Valid(body) {
			return body
		}
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return out
}

// DeclareUTF8 rewrites the encoding of body's XML declaration, if it has
// one, to UTF-8: body has been decoded, and a feed parser that believed the
// declaration would decode it again.
func DeclareUTF8(body []byte) []byte {
	if m := xmlDeclaration.FindSubmatchIndex(body); m != nil && !strings.EqualFold(string(body[m[2]:m[3]]), "utf-8") {
		return bytes.Join([][]byte{body[:m[2]], []byte("UTF-8"), body[m[3]:]}, nil)
	}
	return body
}

// Decoded is page, an HTML page or listing, as UTF-8. Pages come from the
// fetcher decoded, their <meta charset> left in place, so valid UTF-8 is
// taken as it is; other bytes are a page saved as its site sent it
// (newsmd extract --html), decoded by ToUTF8.
func Decoded(page []byte) []byte {
	if utf8.Valid(page) {
		return page
	}
	return ToUTF8(page, "")
}

// metaCharset matches the charset of a <meta charset> or <meta
// http-equiv="Content-Type" content="…; charset=…">.
var metaCharset = regexp.MustCompile(`(?i)<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)`)

// lateScan is how far lateMeta looks for a <meta> charset.
const lateScan = 16 << 10

// lateMeta is the charset a <meta> declares after the first 1024 bytes,
// where DetermineEncoding stops looking, and before lateScan bytes: pages
// saved by web archives and pages with long inline scripts in their head
// declare it there. It is nil when the first 1024 bytes declare one
// (DetermineEncoding read it) or no <meta> in reach does.
func lateMeta(body []byte) (encoding.Encoding, string) {
	if metaCharset.Match(body[:min(len(body), 1024)]) {
		return nil, ""
	}
	head := body[:min(len(body), lateScan)]
	if i := bytes.Index(bytes.ToLower(head), []byte("</head")); i >= 0 {
		head = head[:i]
	}
	m := metaCharset.FindSubmatch(head)
	if m == nil {
		return nil, ""
	}
	return htmlcharset.Lookup(string(m[1]))
}
