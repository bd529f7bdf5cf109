package jwt

import (
	"context"
	"net/http"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// benchHandler is a workload's handler with inline keys of every type; it
// forwards the token, so one request can be run again and again.
func benchHandler(b testing.TB) *Handler {
	return handlerFor(b, Options{}, inlineSpec(b, "forwardOriginalToken: true", allKeys()...))
}

// TestNoTokenAllocs checks that a request without a token, the common case
// on a route that only accepts tokens, costs no allocation.
func TestNoTokenAllocs(t *testing.T) {
	h := benchHandler(t)
	req := plugintest.Get(http.Header{"Cookie": {"a=b"}, "Accept": {"*/*"}})
	ctx := context.Background()
	if got := testing.AllocsPerRun(1000, func() { h.HandleRequest(ctx, req) }); got != 0 {
		t.Errorf("got %v allocations a request without a token, want 0", got)
	}
}

// BenchmarkNoToken is the baseline: the handler on a request that carries
// no token.
func BenchmarkNoToken(b *testing.B) {
	h := benchHandler(b)
	req := plugintest.Get(http.Header{"Accept": {"*/*"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.HandleRequest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures a valid token with its key already held, for
// each algorithm family: "signature" checks the signature every time (a
// token the handler has not seen), "cached" is the same token again.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			for _, cache := range []bool{false, true} {
				name := "signature"
				if cache {
					name = "cached"
				}
				b.Run(name, func(b *testing.B) {
					h := benchHandler(b)
					req := plugintest.Get(bearer(sign(b, keyFor(alg), claims(), nil)))
					ctx := context.Background()
					b.ReportAllocs()
					for b.Loop() {
						if !cache {
							h.cache.Purge()
						}
						req.Auth = nil
						if err := h.HandleRequest(ctx, req); err != nil || req.Auth == nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkRefuse measures refusing an expired token, which is decided
// before any signature is checked.
func BenchmarkRefuse(b *testing.B) {
	h := benchHandler(b)
	c := claims()
	c["exp"] = t0.Unix() - 3600
	req := plugintest.Get(bearer(sign(b, keyFor(jose.RS256), c, nil)))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var r *plugins.Reject
		if r = rejection(h.HandleRequest(ctx, req)); r == nil {
			b.Fatal("got no rejection")
		}
	}
}
