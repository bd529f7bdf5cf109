package jwt

import (
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// TestTokenParamRemoved takes a verified token's query parameter out of the
// query forwarded, as Envoy does, keeping the rest of the query byte for
// byte, unless the rule forwards the original token.
func TestTokenParamRemoved(t *testing.T) {
	es := keyFor(jose.ES256)
	tok := sign(t, es, claims(), nil)
	def := handlerFor(t, Options{}, inlineSpec(t, "", es))
	custom := handlerFor(t, Options{}, inlineSpec(t, "fromParams: [token]", es))
	fwd := handlerFor(t, Options{}, inlineSpec(t, "forwardOriginalToken: true", es))
	tests := []struct {
		name  string
		h     *Handler
		query string
		want  string
	}{
		{"default access_token alone", def, "access_token=" + tok, ""},
		{"default, the rest kept as sent", def, "a=%E2%82%AC&access_token=" + tok + "&b=%zz&c=x+y&d", "a=%E2%82%AC&b=%zz&c=x+y&d"},
		{"first", def, "access_token=" + tok + "&z=1", "z=1"},
		{"every pair of the parameter", def, "access_token=" + tok + "&x=1&access_token=other", "x=1"},
		{"escaped key", def, "%61ccess_token=" + tok + "&x=1", "x=1"},
		{"empty pairs kept", def, "a=1&&access_token=" + tok + "&&b", "a=1&&&b"},
		{"a name that only starts alike stays", def, "x=1&access_token=" + tok + "&access_token_hint=2", "x=1&access_token_hint=2"},
		{"fromParams", custom, "token=" + tok + "&access_token=keep", "access_token=keep"},
		{"forwardOriginalToken keeps it", fwd, "a=1&access_token=" + tok, "a=1&access_token=" + tok},
		{"a bearer token leaves the query alone", def, "access_token_x=1", "access_token_x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr http.Header
			if !strings.Contains(tt.query, tok) {
				hdr = bearer(tok)
			}
			req, err := run(t, tt.h, "/p?"+tt.query, hdr)
			if err != nil || req.Auth == nil {
				t.Fatalf("got %v and Auth %v, want a verified token", err, req.Auth)
			}
			if got := req.Query(); got != tt.want {
				t.Errorf("got query %q, want %q", got, tt.want)
			}
			if got := req.HTTPRequest().URL.RawQuery; got != tt.want {
				t.Errorf("got the request's query %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTokenParamRemovedOverProtocols removes the parameter from the query
// as the gateway forwards it over HTTP/1.1, HTTP/2 and HTTP/3.
func TestTokenParamRemovedOverProtocols(t *testing.T) {
	es := keyFor(jose.ES256)
	tok := sign(t, es, claims(), nil)
	h := handlerFor(t, Options{}, inlineSpec(t, "", es))
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			o := plugintest.Run(t, proto, h, plugintest.Exchange{Target: "/p?q=%C3%A9&access_token=" + tok})
			if o.Err != nil || o.Query != "q=%C3%A9" {
				t.Errorf("got query %q and error %v, want q=%%C3%%A9", o.Query, o.Err)
			}
		})
	}
}

// TestRemoveParamHostile runs the removal on hostile queries: it drops
// exactly the pairs queryParam reads the name from, and never adds a byte.
func TestRemoveParamHostile(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{"", ""},
		{"access_token", ""},
		{"access_token=", ""},
		{"&", "&"},
		{"access_token=a&", ""},
		{"&access_token=a", ""},
		{"access%5Ftoken=a&b", "b"},
		{"access_token%=a&b", "access_token%=a&b"},
		{"ACCESS_TOKEN=a", "ACCESS_TOKEN=a"},
		{"access_token%3Da=1", "access_token%3Da=1"},
		{"a=access_token", "a=access_token"},
		{"x=%0D%0A&access_token=a", "x=%0D%0A"},
		{"access+token=a", "access+token=a"},
	} {
		if got := removeParam(tt.q, "access_token"); got != tt.want {
			t.Errorf("removeParam(%q): got %q, want %q", tt.q, got, tt.want)
		}
	}
}
