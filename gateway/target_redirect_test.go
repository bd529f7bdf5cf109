package gateway

import (
	"fmt"
	"testing"
)

// TestHTTPSRedirectUsesNormalisedPath checks that redirect_https sends a
// client to the normalised path, escapes and all, and not to the path as
// net/url re-escapes it, which turned %2F into a slash beside a raw brace.
func TestHTTPSRedirectUsesNormalisedPath(t *testing.T) {
	tg := tlsGateway(t, newTestCA(t))
	base := "https://shop.example.com:" + port(tg.Addr("edge"))
	for i, tt := range []struct{ target, location string }{
		{"/x?y=1", "/x?y=1"},
		{"/a/{%2F../b?q", "/a/%7B%2F../b?q"},
		{"/a/./b/../c%2e%2E/\xc3\xa9", "/a/c../%C3%A9"},
		{"http://shop.example.com/a/../b", "/b"},
		{"/a#frag", ""},
	} {
		status, h := sendRawHeader(t, tg.Addr("redirect").String(), tt.target, "shop.example.com", fmt.Sprint("redirect-", i))
		want := 301
		if tt.location == "" {
			want = 400
		}
		if status != want || want == 301 && h.Get("Location") != base+tt.location {
			t.Errorf("GET %q: got %d to %q, want %d to %q", tt.target, status, h.Get("Location"), want, base+tt.location)
		}
	}
}
