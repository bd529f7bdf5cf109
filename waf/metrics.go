package waf

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxRuleSeries bounds the (profile, rule id) series of
// portcullis_waf_rule_matches_total; matches past it are counted under
// rule_id="other".
const maxRuleSeries = 1000

// metrics are the WAF's Prometheus metrics, one set per Plugin, so that
// profiles and reloads share them:
//
//   - portcullis_waf_requests_total{profile,outcome}: requests inspected,
//     by outcome: passed, blocked, detected (detect mode would have
//     blocked), limited (refused for a limit on what is inspected), and
//     response_blocked or response_detected for the response phase.
//   - portcullis_waf_rule_matches_total{profile,rule_id}: the rules that
//     matched in requests blocked or detected, each counted once a request.
//   - portcullis_waf_inspection_seconds{profile}: the time the request
//     phases took, body reading included.
//   - portcullis_waf_engines: the engines alive; a reload builds its own
//     and the old ones go after their last request.
type metrics struct {
	requests *prometheus.CounterVec
	rules    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	engines  prometheus.Gauge

	mu     sync.Mutex
	series map[[2]string]bool
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_waf_requests_total",
			Help: "Requests the WAF inspected, by profile and outcome (passed, blocked, detected, limited, response_blocked, response_detected).",
		}, []string{"profile", "outcome"}),
		rules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_waf_rule_matches_total",
			Help: "Rules that matched in requests the WAF blocked or, in detect mode, would have blocked, by profile and rule id (at most 1000 series; the rest under rule_id=\"other\").",
		}, []string{"profile", "rule_id"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_waf_inspection_seconds",
			Help:    "Time the WAF took over a request's phases, by profile.",
			Buckets: prometheus.ExponentialBucketsRange(0.0001, 10, 11),
		}, []string{"profile"}),
		engines: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_waf_engines",
			Help: "WAF engines alive: one per distinct profile of each configuration still serving requests.",
		}),
		series: make(map[[2]string]bool),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.rules, m.seconds, m.engines)
	}
	return m
}

// observe records one request's outcome, the rules that made it, and the
// time its inspection took.
func (m *metrics) observe(profile, outcome string, rules []int, took time.Duration) {
	m.requests.WithLabelValues(profile, outcome).Inc()
	m.seconds.WithLabelValues(profile).Observe(took.Seconds())
	for _, id := range rules {
		m.rules.WithLabelValues(profile, m.ruleLabel(profile, id)).Inc()
	}
}

// ruleLabel returns id as a label, or "other" once the series are at their
// bound.
func (m *metrics) ruleLabel(profile string, id int) string {
	key := [2]string{profile, strconv.Itoa(id)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.series[key] {
		if len(m.series) >= maxRuleSeries {
			return "other"
		}
		m.series[key] = true
	}
	return key[1]
}
