package jwt

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestValidity runs every validity case through a handler with inline keys
// of each type: the status and Envoy's words for each failure, and the end
// user for each success.
func TestValidity(t *testing.T) {
	h := handlerFor(t, Options{}, inlineSpec(t, "", allKeys()...))
	rs := keyFor(jose.RS256)
	with := func(edit func(map[string]any)) map[string]any {
		c := claims()
		edit(c)
		return c
	}
	hmacKey, _ := x509.MarshalPKIXPublicKey(rs.priv.Public().(*rsa.PublicKey))
	tests := []struct {
		name   string
		token  func(t *testing.T) string
		status int    // 0: passes
		body   string // Envoy's status
	}{
		{"RS256", func(t *testing.T) string { return sign(t, keyFor(jose.RS256), claims(), nil) }, 0, ""},
		{"RS384", func(t *testing.T) string { return sign(t, keyFor(jose.RS384), claims(), nil) }, 0, ""},
		{"RS512", func(t *testing.T) string { return sign(t, keyFor(jose.RS512), claims(), nil) }, 0, ""},
		{"PS256", func(t *testing.T) string { return sign(t, keyFor(jose.PS256), claims(), nil) }, 0, ""},
		{"PS384", func(t *testing.T) string { return sign(t, keyFor(jose.PS384), claims(), nil) }, 0, ""},
		{"PS512", func(t *testing.T) string { return sign(t, keyFor(jose.PS512), claims(), nil) }, 0, ""},
		{"ES256", func(t *testing.T) string { return sign(t, keyFor(jose.ES256), claims(), nil) }, 0, ""},
		{"ES384", func(t *testing.T) string { return sign(t, keyFor(jose.ES384), claims(), nil) }, 0, ""},
		{"ES512", func(t *testing.T) string { return sign(t, keyFor(jose.ES512), claims(), nil) }, 0, ""},
		{"EdDSA", func(t *testing.T) string { return sign(t, keyFor(jose.EdDSA), claims(), nil) }, 0, ""},
		{"no kid tries every key", func(t *testing.T) string {
			k := keyFor(jose.ES256)
			k.kid = ""
			return sign(t, k, claims(), nil)
		}, 0, ""},
		{"expired", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["exp"] = t0.Unix() - 61 }), nil)
		}, 401, statusExpired},
		{"expired within the skew", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["exp"] = t0.Unix() - 60 }), nil)
		}, 0, ""},
		{"not yet valid", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["nbf"] = t0.Unix() + 61 }), nil)
		}, 401, statusNotYetValid},
		{"not yet valid within the skew", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["nbf"] = t0.Unix() + 60 }), nil)
		}, 0, ""},
		{"no exp never expires", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { delete(c, "exp") }), nil)
		}, 0, ""},
		{"wrong issuer", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), nil)
		}, 401, statusUnknownIssuer},
		{"no issuer", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { delete(c, "iss") }), nil)
		}, 401, statusUnknownIssuer},
		{"wrong audience", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["aud"] = "other.example.com" }), nil)
		}, 403, statusAudience},
		{"no audience", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { delete(c, "aud") }), nil)
		}, 403, statusAudience},
		{"audience in a list, with scheme and slash", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["aud"] = []string{"x", "https://" + audience + "/"} }), nil)
		}, 0, ""},
		{"bad signature", func(t *testing.T) string {
			h, _, sig := split3(sign(t, rs, claims(), nil))
			forged := claims()
			forged["sub"] = "admin"
			_, p, _ := split3(unsigned("{}", forged, ""))
			return h + "." + p + "." + sig
		}, 401, statusVerificationFail},
		{"signed by another key with the same kid", func(t *testing.T) string {
			k := testKey{alg: jose.RS256, kid: "rsa", priv: keyPairs()["rsa2"]}
			return sign(t, k, claims(), nil)
		}, 401, statusVerificationFail},
		{"wrong kid", func(t *testing.T) string {
			k := rs
			k.kid = "rotated"
			return sign(t, k, claims(), nil)
		}, 401, statusKidAlgMismatch},
		{"alg none", func(t *testing.T) string {
			return unsigned(`{"alg":"none","typ":"JWT"}`, claims(), "")
		}, 401, statusBadFormat},
		{"alg none with a signature part", func(t *testing.T) string {
			return unsigned(`{"alg":"none","typ":"JWT"}`, claims(), "c2ln")
		}, 401, statusAlgNotSupported},
		{"alg None", func(t *testing.T) string {
			return unsigned(`{"alg":"None"}`, claims(), "c2ln")
		}, 401, statusAlgNotSupported},
		{"HMAC with the RSA public key", func(t *testing.T) string {
			tok := unsigned(`{"alg":"HS256","kid":"rsa"}`, claims(), "")
			mac := hmac.New(sha256.New, hmacKey)
			mac.Write([]byte(strings.TrimSuffix(tok, ".")))
			return tok + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		}, 401, statusKidAlgMismatch},
		{"RSA key with an ES256 header", func(t *testing.T) string {
			tok := sign(t, rs, claims(), nil)
			_, p, s := split3(tok)
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"rsa"}`)) + "." + p + "." + s
		}, 401, statusKidAlgMismatch},
		{"no alg", func(t *testing.T) string { return unsigned(`{"typ":"JWT"}`, claims(), "c2ln") }, 401, statusHeaderBadAlg},
		{"alg not a string", func(t *testing.T) string { return unsigned(`{"alg":256}`, claims(), "c2ln") }, 401, statusHeaderBadAlg},
		{"kid not a string", func(t *testing.T) string { return unsigned(`{"alg":"RS256","kid":7}`, claims(), "c2ln") }, 401, statusHeaderBadKid},
		{"one part", func(*testing.T) string { return "abc" }, 401, statusBadFormat},
		{"two parts", func(*testing.T) string { return "abc.def" }, 401, statusBadFormat},
		{"four parts", func(*testing.T) string { return "a.b.c.d" }, 401, statusBadFormat},
		{"empty part", func(*testing.T) string { return "a..c" }, 401, statusBadFormat},
		{"header not base64url", func(*testing.T) string { return "a+b/.e30.c2ln" }, 401, statusHeaderBase64},
		{"header not JSON", func(*testing.T) string {
			return base64.RawURLEncoding.EncodeToString([]byte("not json")) + ".e30.c2ln"
		}, 401, statusHeaderJSON},
		{"payload not base64url", func(*testing.T) string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".@@@.c2ln"
		}, 401, statusPayloadBase64},
		{"payload not an object", func(*testing.T) string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".c2ln"
		}, 401, statusPayloadJSON},
		{"signature not base64url", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, claims(), "!!")
		}, 401, statusSignatureBase64},
		{"iss not a string", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["iss"] = 1 }), "c2ln")
		}, 401, statusIssNotString},
		{"sub not a string", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["sub"] = true }), "c2ln")
		}, 401, statusSubNotString},
		{"exp not an integer", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["exp"] = "tomorrow" }), "c2ln")
		}, 401, statusExpNotInteger},
		{"exp a fraction", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["exp"] = 1.5 }), "c2ln")
		}, 401, statusExpNotInteger},
		{"nbf negative", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["nbf"] = -1 }), "c2ln")
		}, 401, statusNbfNotInteger},
		{"iat not an integer", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["iat"] = []int{1} }), "c2ln")
		}, 401, statusIatNotInteger},
		{"jti not a string", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["jti"] = 5 }), "c2ln")
		}, 401, statusJtiNotString},
		{"aud not strings", func(*testing.T) string {
			return unsigned(`{"alg":"RS256"}`, with(func(c map[string]any) { c["aud"] = []any{audience, 5} }), "c2ln")
		}, 401, statusAudNotString},
		{"too long", func(t *testing.T) string {
			return sign(t, rs, with(func(c map[string]any) { c["pad"] = strings.Repeat("x", 20<<10) }), nil)
		}, 401, statusVerificationFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := run(t, h, "/", bearer(tt.token(t)))
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("got %v, want the token to pass", err)
				}
				if req.Auth == nil || req.Auth.Principal != issuer+"/alice" || req.Auth.Presenter != "web-app" {
					t.Fatalf("got Auth %+v, want principal %s/alice and presenter web-app", req.Auth, issuer)
				}
				if got, _ := req.Metadata.Get(MetadataNamespace, "principal"); got != issuer+"/alice" {
					t.Errorf("got principal %q in the access log's metadata, want %s/alice", got, issuer)
				}
				return
			}
			r := rejection(err)
			if r == nil {
				t.Fatalf("got %v, want a rejection", err)
			}
			if r.Status != tt.status || r.Body != tt.body {
				t.Errorf("got %d %q, want %d %q", r.Status, r.Body, tt.status, tt.body)
			}
			if req.Auth != nil {
				t.Errorf("got Auth %+v on a refused token, want nil", req.Auth)
			}
		})
	}
}

// TestRejection checks the answer's shape: Envoy's challenge and details.
func TestRejection(t *testing.T) {
	h := handlerFor(t, Options{}, inlineSpec(t, "", keyFor(jose.RS256)))
	c := claims()
	c["exp"] = t0.Unix() - 3600
	_, err := run(t, h, "/orders?id=7", bearer(sign(t, keyFor(jose.RS256), c, nil)))
	r := rejection(err)
	if r == nil {
		t.Fatalf("got %v, want a rejection", err)
	}
	if got, want := r.Header.Get("WWW-Authenticate"), `Bearer realm="http://api.example.com/orders?id=7", error="invalid_token"`; got != want {
		t.Errorf("got WWW-Authenticate %q, want %q", got, want)
	}
	if got, want := r.Details, "jwt_authn_access_denied{Jwt_is_expired}"; got != want {
		t.Errorf("got details %q, want %q", got, want)
	}
	_, err = run(t, h, "/"+strings.Repeat("a", 400), bearer("x.y.z"))
	if r := rejection(err); r == nil || len(r.Header.Get("WWW-Authenticate")) > 256+100 {
		t.Errorf("got %v, want a rejection whose realm holds at most 256 bytes of path", err)
	}
}
