package metrics

import "github.com/prometheus/client_golang/prometheus"

// istioLabels are the labels of Istio's standard HTTP metrics in the order
// Istio emits them (istio_stats.cc). The text exposition sorts labels by
// name; the order here matters only to keep seriesKey.values in step.
var istioLabels = []string{
	"reporter",
	"source_workload",
	"source_canonical_service",
	"source_canonical_revision",
	"source_workload_namespace",
	"source_principal",
	"source_app",
	"source_version",
	"source_cluster",
	"destination_workload",
	"destination_workload_namespace",
	"destination_principal",
	"destination_app",
	"destination_version",
	"destination_service",
	"destination_canonical_service",
	"destination_canonical_revision",
	"destination_service_name",
	"destination_service_namespace",
	"destination_cluster",
	"request_protocol",
	"response_code",
	"grpc_response_status",
	"response_flags",
	"connection_security_policy",
}

// envoyBuckets are Envoy's default histogram bounds
// (source/common/stats/histogram_impl.cc), which Istio uses for both
// milliseconds and bytes; dashboards' histogram_quantile over `le` expects them.
var envoyBuckets = []float64{
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000,
}

// istioVecs are Istio's standard HTTP metrics.
type istioVecs struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	requestBytes  *prometheus.HistogramVec
	responseBytes *prometheus.HistogramVec
}

func newIstioVecs() istioVecs {
	hist := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: name, Help: help, Buckets: envoyBuckets,
		}, istioLabels)
	}
	return istioVecs{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "istio_requests_total",
			Help: "Requests handled, by Istio's standard labels.",
		}, istioLabels),
		duration: hist("istio_request_duration_milliseconds",
			"Request duration in milliseconds, from the first request byte to the last response byte."),
		requestBytes: hist("istio_request_bytes",
			"Request size in bytes: header and body as received."),
		responseBytes: hist("istio_response_bytes",
			"Response size in bytes: header and body as sent."),
	}
}

// register adds the vectors and istio_build, which the mesh dashboard reads
// to show which proxy versions run.
func (v istioVecs) register(reg *prometheus.Registry, version string) {
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "istio_build",
		Help:        "Always 1; the labels name the proxy component and its version.",
		ConstLabels: prometheus.Labels{"component": "proxy", "tag": version},
	})
	build.Set(1)
	reg.MustRegister(v.requests, v.duration, v.requestBytes, v.responseBytes, build)
}
