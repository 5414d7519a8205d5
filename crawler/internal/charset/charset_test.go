package charset

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// TestToUTF8: the charset is the first of a byte order mark, the header,
// an XML declaration and a <meta>; a body that names none is UTF-8 when it
// is valid UTF-8, windows-1252 otherwise; what is not valid becomes U+FFFD.
func TestToUTF8(t *testing.T) {
	const text = "联合早报：台湾选举"
	encode := func(e encoding.Encoding, s string) string {
		b, err := e.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	long := strings.Repeat("中文", 400) // past the 1024 bytes that are sniffed
	tests := []struct {
		name, contentType, body, want string
	}{
		{"UTF-8, named by nothing", "", "<p>" + text, "<p>" + text},
		{"GBK from meta", "", encode(simplifiedchinese.GBK, `<meta charset="gbk"><p>`+text), `<meta charset="gbk"><p>` + text},
		{"GBK from the XML declaration", "", encode(simplifiedchinese.GBK, `<?xml version="1.0" encoding="GBK"?><title>`+text), `<?xml version="1.0" encoding="GBK"?><title>` + text},
		{"declaration over meta", "", encode(simplifiedchinese.GBK, `<?xml version="1.0" encoding="gbk"?><meta charset="utf-8"><p>`+text), `<?xml version="1.0" encoding="gbk"?><meta charset="utf-8"><p>` + text},
		{"header over declaration", "application/xml; charset=big5", encode(traditionalchinese.Big5, `<?xml version="1.0" encoding="gbk"?><title>聯合早報`), `<?xml version="1.0" encoding="gbk"?><title>聯合早報`},
		{"byte order mark over header", "text/html; charset=gbk", "\xef\xbb\xbf<p>" + text, "\xef\xbb\xbf<p>" + text},
		{"windows-1252 when not UTF-8", "", encode(charmap.Windows1252, "<p>café “x”"), "<p>café “x”"},
		{"broken UTF-8 named by meta", "", "<meta charset=utf-8><p>a\xff\xfeb", "<meta charset=utf-8><p>a\uFFFDb"},
		{"broken UTF-8 past the sniffed bytes", "", "<p>" + long + "\xe7</p>", "<p>" + long + "\uFFFD</p>"},
		{"GB2312 from a meta after a long head", "", encode(simplifiedchinese.GBK, `<head><script>`+strings.Repeat("x", 1200)+`</script><meta http-equiv="Content-Type" content="text/html; charset=gb2312"/></head><p>`+text), `<head><script>` + strings.Repeat("x", 1200) + `</script><meta http-equiv="Content-Type" content="text/html; charset=gb2312"/></head><p>` + text},
		{"a meta in the body is not read", "", encode(charmap.Windows1252, `<head><script>`+strings.Repeat("x", 1200)+`</script></head><p>café</p><meta charset="gbk">`), `<head><script>` + strings.Repeat("x", 1200) + `</script></head><p>café</p><meta charset="gbk">`},
		{"the first meta wins", "", encode(charmap.Windows1252, `<meta charset="windows-1252">`+strings.Repeat("x", 1200)+`<meta charset="gbk"><p>café`), `<meta charset="windows-1252">` + strings.Repeat("x", 1200) + `<meta charset="gbk"><p>café`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(ToUTF8([]byte(tt.body), tt.contentType))
			if !utf8.ValidString(got) {
				t.Fatalf("got invalid UTF-8 %q", got)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeclareUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<?xml version="1.0" encoding="GBK"?><rss/>`, `<?xml version="1.0" encoding="UTF-8"?><rss/>`},
		{`<?xml version='1.0' encoding='gb18030'?><rss/>`, `<?xml version='1.0' encoding='UTF-8'?><rss/>`},
		{`<?xml version="1.0" encoding="utf-8"?><rss/>`, `<?xml version="1.0" encoding="utf-8"?><rss/>`},
		{`<html><p>encoding="gbk"</p></html>`, `<html><p>encoding="gbk"</p></html>`},
	}
	for _, tt := range tests {
		if got := string(DeclareUTF8([]byte(tt.in))); got != tt.want {
			t.Errorf("DeclareUTF8(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
