// Package metrics exposes the gateway's Prometheus metrics: Istio's standard
// HTTP metrics with Istio's names, labels and Envoy's buckets, so that the
// Istio Grafana dashboards and existing alerts work unchanged, and a small
// set of the gateway's own (in-flight requests, connections, reloads, build).
//
// Each Metrics has its own registry rather than Prometheus's global one, so
// tests and config reloads never collide over registered names.
package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the gateway's collectors and the registry they live in. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	istio  istioVecs
	series seriesCache
	hosts  hostSet
	// overflow counts the requests whose label set is past the bound,
	// and folded how many there were.
	// It is resolved at the first fold, so that it is on the page only
	// once the bound is reached.
	overflowOnce sync.Once
	overflow     *series
	folded       prometheus.Counter

	inFlight    prometheus.Gauge
	connections *prometheus.GaugeVec
	// connRejected counts connections refused by connection limits.
	connRejected *prometheus.CounterVec
	// prematureResets counts HTTP/2 connections closed for rapid reset.
	prematureResets *prometheus.CounterVec
	// protocolErrors counts requests refused for their framing.
	protocolErrors *prometheus.CounterVec
	// peerRefused counts handshakes refused for the caller's certificate.
	peerRefused *prometheus.CounterVec
	// peerListeners are the listeners whose refusal series exist.
	peerMu        sync.Mutex
	peerListeners map[string]bool
	// identity reports when the gateway's SVID and bundles expire.
	identity   *identityCollector
	reloadOK   prometheus.Counter
	reloadFail prometheus.Counter
	lastReload prometheus.Gauge
}

// New returns Metrics with a fresh registry holding the Go and process
// collectors, Istio's standard HTTP metrics and the gateway's own; the
// build metrics name BuildVersion.
func New() *Metrics { return NewVersion(BuildVersion()) }

// NewVersion is New with the version that istio_build and
// portcullis_build_info name: the binary's own, so that they say what its
// version command and /config say.
func NewVersion(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg:      reg,
		istio:    newIstioVecs(),
		series:   seriesCache{m: make(map[seriesKey]*series), max: maxRequestSeries, maxClient: maxClientSeries},
		hosts:    hostSet{seen: make(map[string]string), max: maxHostLabels},
		identity: newIdentityCollector(),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.identity,
	)
	m.istio.register(reg, version)
	m.registerOwn(reg, version)
	m.registerFolded(reg)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Registry returns the registry that holds every metric, for callers that
// add collectors of their own (upstream pools, the WAF).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the scrape endpoint for the registry, in the format the
// scraper negotiates: Prometheus text unless it asks for protobuf.
func (m *Metrics) Handler() http.Handler { return m.handler }

// BuildVersion is the main module's version as the go command stamped it:
// a tag for `go install …@v1.2.3`, a pseudo-version or "(devel)" for a
// build from a checkout.
func BuildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return unknown
}

// goVersion is the toolchain that built the binary.
func goVersion() string { return runtime.Version() }
