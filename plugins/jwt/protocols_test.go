package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/jwt"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// issuer signs ES256 tokens of https://issuer.example.com for alice.
type issuer struct {
	// jwks is its key set as a YAML string.
	jwks   string
	signer jose.Signer
	t      *testing.T
}

func newIssuer(t *testing.T) *issuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1"}}})
	js, _ := json.Marshal(string(set))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{jwks: string(js), signer: signer, t: t}
}

// token returns a token that expires at exp.
func (i *issuer) token(exp time.Time) string {
	p, _ := json.Marshal(map[string]any{"iss": "https://issuer.example.com", "sub": "alice", "exp": exp.Unix()})
	jws, err := i.signer.Sign(p)
	if err != nil {
		i.t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// recorder runs the jwt handler and keeps the end user it proved, as a
// later plugin (authz) would read it.
type recorder struct {
	h    plugins.Handler
	auth chan *plugins.RequestAuth
}

func (r *recorder) HandleRequest(ctx context.Context, req *plugins.Request) error {
	err := r.h.HandleRequest(ctx, req)
	r.auth <- req.Auth
	return err
}

// TestProtocols runs the handler on requests that came over HTTP/1.1,
// HTTP/2 and HTTP/3: a valid token proves the end user and leaves the
// request, an expired one is refused, none passes.
func TestProtocols(t *testing.T) {
	iss := newIssuer(t)
	spec := "jwtRules:\n- issuer: https://issuer.example.com\n  jwks: " + iss.jwks + "\n  outputPayloadToHeader: x-jwt-payload\n"
	s, err := jwt.Compile([]jwt.Document{{Name: "ra", Namespace: "shop", File: "p.yaml", Line: 1, Spec: []byte(spec)}}, jwt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &recorder{h: s.For("shop", map[string]string{"app": "api"}), auth: make(chan *plugins.RequestAuth, 1)}
	token := iss.token
	good, expired := token(time.Now().Add(time.Hour)), token(time.Now().Add(-time.Hour))
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			out := plugintest.Run(t, proto, rec, plugintest.Exchange{Header: http.Header{"Authorization": {"Bearer " + good}}})
			auth := <-rec.auth
			if out.Err != nil || auth == nil || auth.Principal != "https://issuer.example.com/alice" {
				t.Fatalf("got %v and Auth %+v, want principal https://issuer.example.com/alice", out.Err, auth)
			}
			if out.Header.Get("Authorization") != "" || out.Header.Get("X-Jwt-Payload") == "" {
				t.Errorf("got header %v, want the token removed and the payload header set", out.Header)
			}

			out = plugintest.Run(t, proto, rec, plugintest.Exchange{Target: "/?access_token=" + expired})
			var r *plugins.Reject
			if <-rec.auth; !errors.As(out.Err, &r) || r.Status != http.StatusUnauthorized || r.Body != "Jwt is expired" {
				t.Errorf("got %v, want 401 Jwt is expired", out.Err)
			}

			out = plugintest.Run(t, proto, rec, plugintest.Exchange{})
			if auth := <-rec.auth; out.Err != nil || auth != nil {
				t.Errorf("got %v and Auth %+v without a token, want it to pass unauthenticated", out.Err, auth)
			}
		})
	}
}
