package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
)

// Upstreams are the upstream pools' metrics:
//
//   - portcullis_upstream_endpoint_healthy{upstream,endpoint}: 1 while an
//     endpoint may be picked, 0 while its health check has it down or it
//     is ejected. Only the pools' current endpoints have a series: one is
//     deleted when its endpoint leaves, so a headless Service's churn does
//     not pile up series.
//   - portcullis_upstream_ejections_total{upstream}: outlier ejections.
//   - portcullis_upstream_retries_total{upstream,result}: result "retried"
//     counts retries sent; "success", "overflow" and "exhausted" count
//     requests that were retried and ended well, whose retry the budget
//     refused, and that used all their attempts.
//   - portcullis_upstream_overflow_total{upstream}: requests refused by the
//     circuit limits (503 UO).
//   - portcullis_upstream_requests_active{upstream}: requests in progress.
//   - portcullis_upstream_resolve_errors_total{upstream,reason}: failed
//     lookups of endpoint names; reason "not_found" (NXDOMAIN: the name's
//     endpoints leave the pool), "timeout" or "error" (the name keeps its
//     previous addresses). Alert on any increase: a name that stops
//     resolving otherwise shows only as endpoints that are gone.
//
// The upstream label takes its values from the config, which bounds them.
type Upstreams struct {
	healthy   *prometheus.GaugeVec
	ejections *prometheus.CounterVec
	retries   *prometheus.CounterVec
	overflow  *prometheus.CounterVec
	active    *prometheus.GaugeVec
	resolve   *prometheus.CounterVec

	// mu guards refs: how many pools hold each endpoint series. A reload
	// that changes an upstream runs its old and new pools side by side
	// for a while; the series goes only when the last of them drops it.
	mu   sync.Mutex
	refs map[[2]string]int
}

// NewUpstreams registers the upstream metrics in reg; call it once per
// registry, such as Metrics.Registry().
func NewUpstreams(reg prometheus.Registerer) *Upstreams {
	u := &Upstreams{
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portcullis_upstream_endpoint_healthy",
			Help: "1 while an upstream endpoint may be picked; 0 while it fails its health check or is ejected.",
		}, []string{"upstream", "endpoint"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_upstream_ejections_total",
			Help: "Outlier ejections of upstream endpoints.",
		}, []string{"upstream"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_upstream_retries_total",
			Help: "Retries sent (result retried) and retried requests by outcome (success, overflow, exhausted).",
		}, []string{"upstream", "result"}),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_upstream_overflow_total",
			Help: "Requests refused by an upstream's circuit limits.",
		}, []string{"upstream"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portcullis_upstream_requests_active",
			Help: "Requests in progress per upstream.",
		}, []string{"upstream"}),
		resolve: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_upstream_resolve_errors_total",
			Help: "Failed lookups of upstream endpoint names, by reason (not_found, timeout, error).",
		}, []string{"upstream", "reason"}),
		refs: make(map[[2]string]int),
	}
	reg.MustRegister(u.healthy, u.ejections, u.retries, u.overflow, u.active, u.resolve)
	return u
}

// Observer returns the sink for one pool of the upstream name. Give each
// pool its own: it remembers which endpoint series that pool holds.
func (u *Upstreams) Observer(name string) *UpstreamObserver {
	name = value(name)
	o := &UpstreamObserver{
		u:         u,
		name:      name,
		ejections: u.ejections.WithLabelValues(name),
		overflow:  u.overflow.WithLabelValues(name),
		active:    u.active.WithLabelValues(name),
		held:      make(map[string]bool),
	}
	for i, r := range retryResults {
		o.retries[i] = u.retries.WithLabelValues(name, r)
	}
	for i, r := range resolveReasons {
		o.resolve[i] = u.resolve.WithLabelValues(name, r)
	}
	return o
}

// retryResults are the result label's values, fixed so that a caller
// cannot add series.
var retryResults = [...]string{upstream.RetryRetried, upstream.RetrySucceeded, upstream.RetryOverflow, upstream.RetryExhausted}

// resolveReasons are the reason label's values, fixed likewise.
var resolveReasons = [...]string{upstream.ResolveNotFound, upstream.ResolveTimeout, upstream.ResolveFailed}

// UpstreamObserver records one pool's events.
type UpstreamObserver struct {
	u         *Upstreams
	name      string
	ejections prometheus.Counter
	overflow  prometheus.Counter
	active    prometheus.Gauge
	retries   [len(retryResults)]prometheus.Counter
	resolve   [len(resolveReasons)]prometheus.Counter
	held      map[string]bool // guarded by u.mu
}

var _ upstream.Observer = (*UpstreamObserver)(nil)

// EndpointHealth sets the endpoint's gauge, creating its series the first
// time this pool reports it.
func (o *UpstreamObserver) EndpointHealth(endpoint string, healthy bool) {
	endpoint = value(endpoint)
	v := 0.0
	if healthy {
		v = 1
	}
	o.u.mu.Lock()
	defer o.u.mu.Unlock()
	if !o.held[endpoint] {
		o.held[endpoint] = true
		o.u.refs[[2]string{o.name, endpoint}]++
	}
	o.u.healthy.WithLabelValues(o.name, endpoint).Set(v)
}

// EndpointRemoved deletes the endpoint's series once no pool holds it.
func (o *UpstreamObserver) EndpointRemoved(endpoint string) {
	endpoint = value(endpoint)
	o.u.mu.Lock()
	defer o.u.mu.Unlock()
	if !o.held[endpoint] {
		return
	}
	delete(o.held, endpoint)
	k := [2]string{o.name, endpoint}
	if o.u.refs[k]--; o.u.refs[k] <= 0 {
		delete(o.u.refs, k)
		o.u.healthy.DeleteLabelValues(o.name, endpoint)
	}
}

// Ejected counts an ejection.
func (o *UpstreamObserver) Ejected() { o.ejections.Inc() }

// Retry counts a retry event; an unknown result is ignored.
func (o *UpstreamObserver) Retry(result string) {
	for i, r := range retryResults {
		if r == result {
			o.retries[i].Inc()
			return
		}
	}
}

// Overflow counts a request refused by the circuit limits.
func (o *UpstreamObserver) Overflow() { o.overflow.Inc() }

// Active adds delta to the requests in progress.
func (o *UpstreamObserver) Active(delta int) { o.active.Add(float64(delta)) }

// ResolveError counts a failed lookup of an endpoint name; an unknown
// reason counts as "error".
func (o *UpstreamObserver) ResolveError(reason string) {
	for i, r := range resolveReasons {
		if r == reason {
			o.resolve[i].Inc()
			return
		}
	}
	o.resolve[len(resolveReasons)-1].Inc()
}
