package jwt

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the plugin's Prometheus metrics, the counters of Envoy's
// jwt_authn filter, one set per Plugin so that reloads share them. Every
// label takes values from a fixed list or from the policy files:
//
//   - portcullis_jwt_requests_total{result}: requests checked, by result:
//     allowed (every token verified), missing (no token; passed, as Envoy's
//     allowed counts it too), denied, and cors_preflight_bypassed.
//   - portcullis_jwt_denied_total{reason}: denied requests by Envoy's
//     status, as the access log's details write it (Jwt_is_expired).
//   - portcullis_jwt_jwks_fetches_total{jwks_uri,result}: fetches of a
//     remote JWKS (jwks_fetch_success and jwks_fetch_failed in Envoy), by
//     the URI a rule names (its issuer, when the URI is discovered) and
//     result: success or failed.
//   - portcullis_jwt_cache_total{result}: lookups of verified tokens, hit
//     or miss (jwt_cache_hit and jwt_cache_miss).
type metrics struct {
	allowed, missing, denied, preflight prometheus.Counter
	hit, miss                           prometheus.Counter
	reasons                             map[string]prometheus.Counter // by status
	fetches                             *prometheus.CounterVec
}

// statuses are every status a token fails with.
var statuses = []string{
	statusBadFormat, statusHeaderBase64, statusHeaderJSON, statusHeaderBadAlg, statusAlgNotSupported,
	statusHeaderBadKid, statusPayloadBase64, statusPayloadJSON, statusIssNotString, statusSubNotString,
	statusIatNotInteger, statusNbfNotInteger, statusExpNotInteger, statusJtiNotString, statusAudNotString,
	statusSignatureBase64, statusUnknownIssuer, statusAudience, statusVerificationFail, statusNotYetValid,
	statusExpired, statusMultipleTokens, statusKidAlgMismatch, statusFetchFail,
}

// newMetrics makes the metrics and registers them with reg, unless nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_jwt_requests_total",
		Help: "Requests checked by RequestAuthentication, by result (allowed, missing, denied, cors_preflight_bypassed).",
	}, []string{"result"})
	denied := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_jwt_denied_total",
		Help: "Requests refused by RequestAuthentication, by Envoy's reason (Jwt_is_expired).",
	}, []string{"reason"})
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_jwt_cache_total",
		Help: "Lookups of tokens whose signature verified before, by result (hit, miss).",
	}, []string{"result"})
	m := &metrics{
		allowed:   requests.WithLabelValues("allowed"),
		missing:   requests.WithLabelValues("missing"),
		denied:    requests.WithLabelValues("denied"),
		preflight: requests.WithLabelValues("cors_preflight_bypassed"),
		hit:       cache.WithLabelValues("hit"),
		miss:      cache.WithLabelValues("miss"),
		reasons:   make(map[string]prometheus.Counter, len(statuses)),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_jwt_jwks_fetches_total",
			Help: "Fetches of a remote JWKS, by the URI a rule names (its issuer when discovered) and result (success, failed).",
		}, []string{"jwks_uri", "result"}),
	}
	for _, st := range statuses {
		m.reasons[st] = denied.WithLabelValues(strings.ReplaceAll(st, " ", "_"))
	}
	if reg != nil {
		reg.MustRegister(requests, denied, cache, m.fetches)
	}
	return m
}

// deny counts a request refused with status st.
func (m *metrics) deny(st string) {
	m.denied.Inc()
	if c := m.reasons[st]; c != nil {
		c.Inc()
	}
}
