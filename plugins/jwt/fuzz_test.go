package jwt

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/plugins"
)

// FuzzToken feeds hostile tokens through every place a token is taken from
// and through the verifier: nothing panics, every failure is a rejection
// with one of Envoy's statuses, and nothing but a token the key signed is
// ever accepted.
func FuzzToken(f *testing.F) {
	good := sign(f, keyFor(jose.ES256), claims(), nil)
	for _, s := range []string{
		good, good[:len(good)-2], "a.b.c", "..", "", "Bearer", strings.Repeat(".", 40),
		unsigned(`{"alg":"none"}`, claims(), "x"), unsigned(`{"alg":"HS256","kid":"p256"}`, claims(), "c2ln"),
		"eyJhbGciOiJFUzI1NiJ9.e30.", "%00%ff", "a=b; session=c",
	} {
		f.Add(s)
	}
	h := handlerFor(f, Options{}, inlineSpec(f, `
fromHeaders: [{name: authorization, prefix: "Bearer "}, {name: x-raw}]
fromParams: [access_token]
fromCookies: [session]
outputClaimToHeaders: [{header: x-sub, claim: sub}]`, keyFor(jose.ES256)))
	f.Fuzz(func(t *testing.T, s string) {
		parseToken(s)
		fromHeader(s, "Bearer ")
		queryParam(s, "access_token")
		cookie([]string{s}, "session")

		if !httpguts.ValidHeaderFieldValue(s) || strings.TrimSpace(s) != s {
			return // no request carries it in a header as it is
		}
		req := parse(t, "GET /?access_token="+url.QueryEscape(s)+" HTTP/1.1\r\nHost: a\r\n"+
			"Authorization: Bearer "+s+"\r\nCookie: session="+s+"\r\nX-Raw: "+s+"\r\n\r\n")
		err := h.HandleRequest(t.Context(), req)
		if err == nil {
			if s != good || req.Auth == nil {
				t.Fatalf("got %q accepted, want only the signed token", s)
			}
			return
		}
		var r *plugins.Reject
		if !errors.As(err, &r) || (r.Status != 401 && r.Status != 403) || r.Body == "" {
			t.Fatalf("got %v for %q, want a 401 or 403 rejection", err, s)
		}
		if req.Auth != nil {
			t.Fatalf("got Auth %+v with a rejection", req.Auth)
		}
	})
}

// FuzzRead feeds hostile policy files through Read and Compile: nothing
// panics, and every error names the file.
func FuzzRead(f *testing.F) {
	f.Add(policyFile)
	f.Add("kind: RequestAuthentication\nspec:\n  jwtRules: [{issuer: a, jwks: '{\"keys\":[]}'}]\n")
	f.Add("kind: RequestAuthentication\nspec: {jwtRules: [{issuer: a}]}\n---\n...\n")
	f.Fuzz(func(t *testing.T, s string) {
		docs, err := Read("p.yaml", []byte(s))
		if err != nil && !strings.HasPrefix(err.Error(), "p.yaml:") {
			t.Fatalf("got %q, want an error at p.yaml", err)
		}
		set, err := Compile(docs, Options{})
		if err != nil && !strings.HasPrefix(err.Error(), "p.yaml:") {
			t.Fatalf("got %q, want an error at p.yaml", err)
		}
		if set != nil {
			set.Close()
		}
	})
}
