package converter_test

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/newsmd/newsmd/converter"
)

func TestResolveURL(t *testing.T) {
	base, err := url.Parse("https://www.zaobao.com/realtime/china/story20211118-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		base *url.URL
		want string
	}{
		{"/a.jpg", base, "https://www.zaobao.com/a.jpg"},
		{"b.jpg", base, "https://www.zaobao.com/realtime/china/b.jpg"},
		{"  https://cdn.example.net/c.jpg \n", base, "https://cdn.example.net/c.jpg"},
		{"//cdn.example.net/d.jpg", base, "https://cdn.example.net/d.jpg"},
		{"//cdn.example.net/d.jpg", nil, "https://cdn.example.net/d.jpg"},
		{"/a.jpg", nil, ""},
		{"http://example.com/a?q=中文", base, "http://example.com/a?q=中文"},
		// Bytes that are not UTF-8 are percent-encoded, in the path as in
		// the query, never dropped.
		{"/a\xffb.jpg", base, "https://www.zaobao.com/a%FFb.jpg"},
		{"/p?q=\xe4\xb8&r=1", base, "https://www.zaobao.com/p?q=%E4%B8&r=1"},
		{"", base, ""},
		{"data:image/gif;base64,R0lGODlhAQABAAAAACw=", base, ""},
		{"DATA:,x", base, ""},
		{"javascript:alert(1)", base, ""},
		{"mailto:news@zaobao.com", base, ""},
		{"ftp://example.com/a", base, ""},
		{"http:///a", base, ""},
		{"http:foo", base, ""},
		{"https://user:pass@example.com/a", base, ""},
		{"https://www.zaobao.com@example.net/", base, ""},
		{"ht\xfftp://example.com/x", base, ""},
	}
	for _, tt := range tests {
		if got := converter.ResolveURL(tt.base, tt.ref); got != tt.want {
			t.Errorf("ResolveURL(%v, %q): got %q, want %q", tt.base, tt.ref, got, tt.want)
		}
	}
}

func TestImageKey(t *testing.T) {
	rewrites := []converter.Rewrite{{Pattern: regexp.MustCompile(`_Medium\.`), Replace: "."}}
	tests := []struct{ in, want string }{
		{"https://cdn.example.net/a_Medium.jpg?itok=1#x", "https://cdn.example.net/a.jpg"},
		{"https://cdn.example.net/a.jpg", "https://cdn.example.net/a.jpg"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := converter.ImageKey(tt.in, rewrites); got != tt.want {
			t.Errorf("ImageKey(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
