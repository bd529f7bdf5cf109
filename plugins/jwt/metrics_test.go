package jwt

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
)

// counter returns the value of the counter name with the given labels in
// reg, or 0 when it has not counted.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestMetrics counts what Envoy's jwt_authn filter counts: requests
// allowed, missing a token, denied by reason, CORS preflights, verified
// tokens found in the cache or not, and JWKS fetches that worked or failed,
// in one registry that a Plugin's loads share.
func TestMetrics(t *testing.T) {
	es := keyFor(jose.ES256)
	srv := newJWKSServer(t, jwks(t, es))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := New(Options{Now: func() time.Time { return t0 }, RetryInterval: time.Hour, Metrics: reg})
	h, _ := openWith(t, p, &Section{JWKSFetch: JWKSFetch{CAFile: plugins.FilePath(ca)}}, srv.url)

	tok := sign(t, es, claims(), nil)
	exp := claims()
	exp["exp"] = t0.Unix() - 3600
	expired := sign(t, es, exp, nil)
	for _, hdr := range []http.Header{bearer(tok), bearer(tok), nil, bearer(expired)} {
		run(t, h, "/", hdr)
	}
	preflight := "OPTIONS / HTTP/1.1\r\nHost: a\r\nOrigin: https://a\r\nAccess-Control-Request-Method: POST\r\n\r\n"
	if err := h.HandleRequest(t.Context(), parse(t, preflight)); err != nil {
		t.Fatal(err)
	}

	// A second load of the same plugin, whose issuer cannot be reached.
	down := "https://127.0.0.1:1/jwks"
	h2, _ := openWith(t, p, &Section{}, down)
	run(t, h2, "/", bearer(tok))

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"portcullis_jwt_requests_total", map[string]string{"result": "allowed"}, 2},
		{"portcullis_jwt_requests_total", map[string]string{"result": "missing"}, 1},
		{"portcullis_jwt_requests_total", map[string]string{"result": "denied"}, 2},
		{"portcullis_jwt_requests_total", map[string]string{"result": "cors_preflight_bypassed"}, 1},
		{"portcullis_jwt_denied_total", map[string]string{"reason": "Jwt_is_expired"}, 1},
		{"portcullis_jwt_denied_total", map[string]string{"reason": "Jwks_remote_fetch_is_failed"}, 1},
		{"portcullis_jwt_cache_total", map[string]string{"result": "miss"}, 3},
		{"portcullis_jwt_cache_total", map[string]string{"result": "hit"}, 1},
		{"portcullis_jwt_jwks_fetches_total", map[string]string{"jwks_uri": srv.url, "result": "success"}, 1},
		{"portcullis_jwt_jwks_fetches_total", map[string]string{"jwks_uri": srv.url, "result": "failed"}, 0},
		{"portcullis_jwt_jwks_fetches_total", map[string]string{"jwks_uri": down, "result": "failed"}, 1},
	} {
		if got := counter(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v: got %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
