package jwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// issuer is the issuer of the test tokens, and audience their audience.
const (
	issuer   = "https://issuer.example.com"
	audience = "api.example.com"
)

// t0 is the test clock's time.
var t0 = time.Unix(1_800_000_000, 0)

// testKey is a key pair of one algorithm, with its key id.
type testKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv crypto.Signer
}

// keyPairs are made once: RSA key generation is slow.
var keyPairs = sync.OnceValue(func() map[string]crypto.Signer {
	m := map[string]crypto.Signer{}
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	r2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	m["rsa"], m["rsa2"] = r, r2
	for name, c := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		m[name] = k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	m["ed"] = ed
	return m
})

// keyFor returns the test key for an algorithm.
func keyFor(alg jose.SignatureAlgorithm) testKey {
	kp := keyPairs()
	var name string
	switch alg[:2] {
	case "RS", "PS":
		name = "rsa"
	case "ES":
		name = map[jose.SignatureAlgorithm]string{jose.ES256: "p256", jose.ES384: "p384", jose.ES512: "p521"}[alg]
	default:
		name = "ed"
	}
	return testKey{alg: alg, kid: name, priv: kp[name]}
}

// jwks writes the public keys as a JWKS.
func jwks(t testing.TB, keys ...testKey) string {
	t.Helper()
	var set jose.JSONWebKeySet
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.kid] {
			continue
		}
		seen[k.kid] = true
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allKeys are one key of each type the tests sign with.
func allKeys() []testKey {
	return []testKey{keyFor(jose.RS256), keyFor(jose.ES256), keyFor(jose.ES384), keyFor(jose.ES512), keyFor(jose.EdDSA)}
}

// claims are valid claims at t0 for the test issuer and audience.
func claims() map[string]any {
	return map[string]any{
		"iss": issuer, "sub": "alice", "aud": audience,
		"iat": t0.Unix() - 10, "exp": t0.Unix() + 3600, "azp": "web-app",
	}
}

// sign signs c with k; header adds fields to the JOSE header.
func sign(t testing.TB, k testKey, c map[string]any, header map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	for name, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(name), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned builds a token from a raw header and claims and a signature.
func unsigned(header string, c map[string]any, sig string) string {
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc(p) + "." + sig
}

// doc returns a RequestAuthentication in namespace ns with the given spec.
func doc(ns, name, spec string) Document {
	return Document{Name: name, Namespace: ns, File: "policies.yaml", Line: 1, Spec: []byte(spec)}
}

// handlerFor compiles specs (all in namespace "shop") with the test clock
// and returns the handler for a workload there with no labels.
func handlerFor(t testing.TB, opts Options, specs ...string) *Handler {
	t.Helper()
	var docs []Document
	for i, s := range specs {
		docs = append(docs, doc("shop", "ra"+string(rune('a'+i)), s))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	set, err := Compile(docs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	h := set.For("shop", nil)
	if h == nil {
		t.Fatal("got no handler, want one")
	}
	return h
}

// inlineSpec is a spec with one rule for the test issuer and audience that
// holds keys inline; extra is YAML added to the rule.
func inlineSpec(t testing.TB, extra string, keys ...testKey) string {
	t.Helper()
	js, _ := json.Marshal(jwks(t, keys...))
	s := "jwtRules:\n- issuer: " + issuer + "\n  audiences: [" + audience + "]\n  jwks: " + string(js) + "\n"
	for _, line := range strings.Split(strings.TrimSpace(extra), "\n") {
		if line != "" {
			s += "  " + line + "\n"
		}
	}
	return s
}

// run sends a GET with header h (and the target's query) through the
// handler and returns the request and the handler's error.
func run(t testing.TB, h *Handler, target string, hdr http.Header) (*plugins.Request, error) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	raw := "GET " + target + " HTTP/1.1\r\nHost: api.example.com\r\n"
	for k, vs := range hdr {
		for _, v := range vs {
			raw += k + ": " + v + "\r\n"
		}
	}
	req := plugintest.Parse(t, raw+"\r\n")
	return req, h.HandleRequest(context.Background(), req)
}

// rejection returns err as a *plugins.Reject, or nil.
func rejection(err error) *plugins.Reject {
	var r *plugins.Reject
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// bearer is an Authorization header with tok.
func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// parse builds a request from raw HTTP/1.1 bytes.
func parse(t testing.TB, raw string) *plugins.Request { return plugintest.Parse(t, raw) }
