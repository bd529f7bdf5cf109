package jwt

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// TestExtraction checks where tokens are looked for: Envoy's default
// locations, and fromHeaders, fromParams and fromCookies, which replace
// them.
func TestExtraction(t *testing.T) {
	good := sign(t, keyFor(jose.ES256), claims(), nil)
	exp := claims()
	exp["exp"] = t0.Unix() - 3600
	bad := sign(t, keyFor(jose.ES256), exp, nil)
	def := handlerFor(t, Options{}, inlineSpec(t, "", keyFor(jose.ES256)))
	custom := handlerFor(t, Options{}, inlineSpec(t, `
fromHeaders: [{name: x-jwt-token, prefix: "Value "}, {name: auth-token}]
fromParams: [token, secondary_token]
fromCookies: [session]`, keyFor(jose.ES256)))
	tests := []struct {
		name   string
		h      *Handler
		target string
		header http.Header
		want   string // "auth", "none" or Envoy's status
	}{
		{"default bearer", def, "/", bearer(good), "auth"},
		{"default bearer, lower case", def, "/", http.Header{"Authorization": {"bearer " + good}}, "auth"},
		{"default bearer, extra spaces", def, "/", http.Header{"Authorization": {"Bearer   " + good}}, "auth"},
		{"default access_token", def, "/?a=1&access_token=" + good, nil, "auth"},
		{"default access_token expired", def, "/?access_token=" + bad, nil, statusExpired},
		{"default, no token", def, "/", nil, "none"},
		{"default, other scheme", def, "/", http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}, "none"},
		{"default, bearer of garbage", def, "/", http.Header{"Authorization": {"Bearer  ###"}}, statusBadFormat},
		{"default ignores other params", def, "/?token=" + good, nil, "none"},
		{"default, expired", def, "/", bearer(bad), statusExpired},
		{"default, a good and a bad token", def, "/?access_token=" + bad, bearer(good), statusExpired},
		{"default, two good tokens", def, "/?access_token=" + good, bearer(good), "auth"},
		{"custom header with prefix", custom, "/", http.Header{"X-Jwt-Token": {"Value " + good}}, "auth"},
		{"custom header without its prefix", custom, "/", http.Header{"X-Jwt-Token": {good}}, "none"},
		{"custom header without prefix", custom, "/", http.Header{"Auth-Token": {good}}, "auth"},
		{"custom param", custom, "/?token=" + good, nil, "auth"},
		{"custom second param", custom, "/?secondary_token=" + good, nil, "auth"},
		{"custom param, escaped name", custom, "/?%74oken=" + good, nil, "auth"},
		{"custom params, one expired", custom, "/?token=" + good + "&secondary_token=" + bad, nil, statusExpired},
		{"custom param, other name", custom, "/?token_value=" + good, nil, "none"},
		{"custom cookie", custom, "/", http.Header{"Cookie": {"a=b; session=" + good + "; c=d"}}, "auth"},
		{"custom cookie, quoted", custom, "/", http.Header{"Cookie": {`session="` + good + `"`}}, "auth"},
		{"custom cookie, other name", custom, "/", http.Header{"Cookie": {"sessions=" + good}}, "none"},
		{"custom replaces the default header", custom, "/", bearer(good), "none"},
		{"custom replaces the default param", custom, "/?access_token=" + good, nil, "none"},
		{"too many tokens", def, "/", http.Header{"Authorization": strings.Split(strings.Repeat("Bearer x,", maxTokens+1), ",")}, statusMultipleTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := run(t, tt.h, tt.target, tt.header)
			switch tt.want {
			case "auth", "none":
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if (req.Auth != nil) != (tt.want == "auth") {
					t.Errorf("got Auth %+v, want %s", req.Auth, tt.want)
				}
			default:
				if r := rejection(err); r == nil || r.Body != tt.want {
					t.Errorf("got %v, want a rejection with %q", err, tt.want)
				}
			}
		})
	}
}

// TestIssuers checks several rules on one workload: a token is checked
// against its issuer's rule, and only where that rule looks for it.
func TestIssuers(t *testing.T) {
	es, ed := keyFor(jose.ES256), keyFor(jose.EdDSA)
	other := "https://other.example.com"
	js, _ := json.Marshal(jwks(t, ed))
	h := handlerFor(t, Options{},
		inlineSpec(t, "", es),
		"jwtRules:\n- issuer: "+other+"\n  fromHeaders: [{name: x-other}]\n  jwks: "+string(js)+"\n")
	c := claims()
	c["iss"] = other
	otherTok := sign(t, ed, c, nil)
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"first issuer at its place", bearer(sign(t, es, claims(), nil)), issuer + "/alice"},
		{"second issuer at its place", http.Header{"X-Other": {otherTok}}, other + "/alice"},
		{"second issuer at the first's place", bearer(otherTok), statusUnknownIssuer},
		{"first issuer at the second's place", http.Header{"X-Other": {sign(t, es, claims(), nil)}}, statusUnknownIssuer},
		{"second issuer's token signed by the first's key", http.Header{"X-Other": {sign(t, es, c, nil)}}, statusKidAlgMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := run(t, h, "/", tt.header)
			if strings.HasPrefix(tt.want, "https://") {
				if err != nil || req.Auth == nil || req.Auth.Principal != tt.want {
					t.Fatalf("got %v and Auth %+v, want principal %s", err, req.Auth, tt.want)
				}
				return
			}
			if r := rejection(err); r == nil || r.Body != tt.want {
				t.Errorf("got %v, want a rejection with %q", err, tt.want)
			}
		})
	}
}

// TestOutput checks what a verified token leaves in the forwarded request:
// the token removed unless forwarded, the payload and claims in headers,
// and a client's own copies of those headers gone.
func TestOutput(t *testing.T) {
	es := keyFor(jose.ES256)
	c := claims()
	c["org"] = map[string]any{"team": "payments", "level": 3, "admin": false, "tags": []string{"a"}}
	c["scope"] = "read write"
	c["ratio"] = 0.5
	c["evil"] = "a\r\nx-injected: 1"
	tok := sign(t, es, c, nil)
	_, payload, _ := split3(tok)

	out := handlerFor(t, Options{}, inlineSpec(t, `
outputPayloadToHeader: x-jwt-payload
outputClaimToHeaders:
- {header: x-team, claim: org.team}
- {header: x-level, claim: org.level}
- {header: x-admin, claim: org.admin}
- {header: x-tags, claim: org.tags}
- {header: x-ratio, claim: ratio}
- {header: x-evil, claim: evil}
- {header: x-missing, claim: org.none}
fromHeaders: [{name: authorization, prefix: "Bearer "}]
fromCookies: [session]`, es))
	t.Run("headers written and token removed", func(t *testing.T) {
		req, err := run(t, out, "/", http.Header{
			"Authorization": {"Bearer " + tok},
			"X-Jwt-Payload": {"forged"}, "X-Team": {"forged"}, "X_Team": {"forged"},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := req.Header()
		want := map[string]string{
			"Authorization": "", "X-Jwt-Payload": payload, "X-Team": "payments", "X-Level": "3",
			"X-Admin": "false", "X-Tags": "", "X-Ratio": "0.500000", "X-Evil": "", "X-Missing": "",
		}
		for name, v := range want {
			if got := h.Values(name); strings.Join(got, ",") != v {
				t.Errorf("got %s %q, want %q", name, got, v)
			}
		}
		if got := h.Values("X_Team"); got != nil {
			t.Errorf("got X_Team %q, want it removed", got)
		}
		dec, err := base64.RawURLEncoding.DecodeString(h.Get("X-Jwt-Payload"))
		if err != nil || !strings.Contains(string(dec), `"sub":"alice"`) {
			t.Errorf("got payload header decoding to %q (%v), want the token's payload", dec, err)
		}
		if got := req.Auth.Claims["scope"]; !equalJSON(got, []any{"read", "write"}) {
			t.Errorf("got scope claim %#v, want it split into [read write]", got)
		}
		if got := req.Auth.Audiences; len(got) != 1 || got[0] != audience {
			t.Errorf("got audiences %q, want [%s]", got, audience)
		}
	})
	t.Run("forged headers removed without a token", func(t *testing.T) {
		req, err := run(t, out, "/", http.Header{"X-Jwt-Payload": {"forged"}, "X-Team": {"forged"}})
		if err != nil || req.Header().Get("X-Jwt-Payload") != "" || req.Header().Get("X-Team") != "" {
			t.Errorf("got %v and headers %v, want the forged headers removed", err, req.Header())
		}
	})
	t.Run("cookie removed, others kept", func(t *testing.T) {
		req, err := run(t, out, "/", http.Header{"Cookie": {"a=1; session=" + tok + "; b=2"}})
		if err != nil || req.Auth == nil {
			t.Fatalf("got %v and Auth %v, want a verified token", err, req.Auth)
		}
		if got := req.Header().Get("Cookie"); got != "a=1; b=2" {
			t.Errorf("got Cookie %q, want a=1; b=2", got)
		}
	})
	fwd := handlerFor(t, Options{}, inlineSpec(t, "forwardOriginalToken: true", es))
	t.Run("forwardOriginalToken keeps it", func(t *testing.T) {
		req, err := run(t, fwd, "/", bearer(tok))
		if err != nil || req.Header().Get("Authorization") != "Bearer "+tok {
			t.Errorf("got %v and Authorization %q, want it forwarded", err, req.Header().Get("Authorization"))
		}
	})
	t.Run("cors preflight passes", func(t *testing.T) {
		raw := "OPTIONS / HTTP/1.1\r\nHost: a\r\nOrigin: https://a\r\nAccess-Control-Request-Method: POST\r\nAuthorization: Bearer x.y.z\r\n\r\n"
		req := parse(t, raw)
		if err := fwd.HandleRequest(t.Context(), req); err != nil {
			t.Errorf("got %v, want a preflight to pass", err)
		}
		raw = strings.Replace(raw, "Origin: https://a\r\n", "", 1)
		if err := fwd.HandleRequest(t.Context(), parse(t, raw)); rejection(err) == nil {
			t.Errorf("got %v, want an OPTIONS without Origin checked", err)
		}
	})
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestSameIssuerTwoRules checks that a token is checked by the rule that
// names the place it was found, when two rules share its issuer.
func TestSameIssuerTwoRules(t *testing.T) {
	es := keyFor(jose.ES256)
	h := handlerFor(t, Options{},
		inlineSpec(t, "fromHeaders: [{name: x-a}]\noutputPayloadToHeader: x-from-a", es),
		inlineSpec(t, "fromHeaders: [{name: x-b}]\noutputPayloadToHeader: x-from-b\nforwardOriginalToken: true", es))
	tok := sign(t, es, claims(), nil)
	req, err := run(t, h, "/", http.Header{"X-B": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	hdr := req.Header()
	if hdr.Get("X-From-B") == "" || hdr.Get("X-From-A") != "" || hdr.Get("X-B") != tok {
		t.Errorf("got x-from-a %q, x-from-b %q, x-b %q, want the second rule's output and its token kept",
			hdr.Get("X-From-A"), hdr.Get("X-From-B"), hdr.Get("X-B"))
	}
}

// TestExtractHostile runs the token parsers on hostile input.
func TestExtractHostile(t *testing.T) {
	headers := []struct{ v, prefix, want string }{
		{"Bearer abc", "Bearer ", "abc"},
		{"BEARER abc", "Bearer ", "abc"},
		{"Bearer    abc", "Bearer ", "abc"},
		{"Bearer \t\"abc\"", "Bearer ", `abc"`},
		{"Basic x, Bearer abc", "Bearer ", "abc"},
		{"Bearer", "Bearer ", "-"},
		{"Bearer ", "Bearer ", "Bearer "},
		{"Bearer !!!", "Bearer ", "Bearer !!!"},
		{"abc", "", "abc"},
		{"", "", "-"},
		{"Token a.b.c", "Token ", "a.b.c"},
	}
	for _, tt := range headers {
		got, ok := fromHeader(tt.v, tt.prefix)
		if !ok {
			got = "-"
		}
		if got != tt.want {
			t.Errorf("fromHeader(%q, %q): got %q, want %q", tt.v, tt.prefix, got, tt.want)
		}
	}
	queries := []struct{ q, want string }{
		{"access_token=a", "a"},
		{"access_token=a&access_token=b", "a"},
		{"x=1&access_token=a", "a"},
		{"xaccess_token=a", "-"},
		{"access_token", ""},
		{"access_token=", ""},
		{"%61ccess_token=a", "a"},
		{"access%5Ftoken=a", "a"},
		{"access_token=a%2Eb", "a.b"},
		{"access_token=%zz", "%zz"},
		{"&&&access_token=a", "a"},
		{"", "-"},
	}
	for _, tt := range queries {
		got, ok := queryParam(tt.q, "access_token")
		if !ok {
			got = "-"
		}
		if got != tt.want {
			t.Errorf("queryParam(%q): got %q, want %q", tt.q, got, tt.want)
		}
	}
	cookies := []struct {
		values    []string
		want      string
		remaining string
	}{
		{[]string{"session=a"}, "a", ""},
		{[]string{"session=a; session=b"}, "a", ""},
		{[]string{"x=1;session=a;y=2"}, "a", "x=1; y=2"},
		{[]string{"x=1", "session=a"}, "a", "x=1"},
		{[]string{"xsession=a; session"}, "-", "xsession=a; session"},
		{[]string{`session="a"`}, "a", ""},
		{[]string{`session="`}, `"`, ""},
		{[]string{";;; session=a ;"}, "a", ""},
		{[]string{"Session=a"}, "-", "Session=a"},
	}
	for _, tt := range cookies {
		got, ok := cookie(tt.values, "session")
		if !ok {
			got = "-"
		}
		if got != tt.want {
			t.Errorf("cookie(%q): got %q, want %q", tt.values, got, tt.want)
		}
		h := plugintest.Get(http.Header{"Cookie": tt.values}).Header()
		removeCookie(h, "session")
		if rest := strings.Join(h.Values("Cookie"), "; "); rest != tt.remaining {
			t.Errorf("removeCookie(%q): got %q left, want %q", tt.values, rest, tt.remaining)
		}
	}
}
