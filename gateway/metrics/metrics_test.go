package metrics

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// shopLabels are what the gateway knows of a routed request to shop-api.
var shopLabels = Labels{
	SourceWorkload:               "portcullis",
	SourceNamespace:              "edge",
	SourcePrincipal:              "spiffe://cluster.local/ns/edge/sa/portcullis",
	SourceApp:                    "portcullis",
	DestinationWorkload:          "shop-api",
	DestinationWorkloadNamespace: "shop",
	DestinationPrincipal:         "spiffe://cluster.local/ns/shop/sa/shop-api",
	DestinationApp:               "shop-api",
	DestinationVersion:           "v1",
	DestinationService:           "shop-api.shop.svc.cluster.local",
	DestinationServiceName:       "shop-api",
	DestinationServiceNamespace:  "shop",
	DestinationCluster:           "Kubernetes",
}

func TestObserveFullLabelSet(t *testing.T) {
	m := New()
	m.Observe(&accesslog.Record{ResponseCode: 200, Duration: 3 * time.Millisecond,
		BytesReceived: 100, BytesSent: 2000, Authority: "shop.example.com"}, shopLabels)
	m.Observe(&accesslog.Record{ResponseCode: 200, Duration: 30 * time.Millisecond,
		BytesReceived: 0, BytesSent: 20}, shopLabels)
	fams := scrape(t, m)

	want := map[string]string{
		"reporter":                       "source",
		"source_workload":                "portcullis",
		"source_canonical_service":       "portcullis",
		"source_canonical_revision":      "latest",
		"source_workload_namespace":      "edge",
		"source_principal":               "spiffe://cluster.local/ns/edge/sa/portcullis",
		"source_app":                     "portcullis",
		"source_version":                 "unknown",
		"source_cluster":                 "unknown",
		"destination_workload":           "shop-api",
		"destination_workload_namespace": "shop",
		"destination_principal":          "spiffe://cluster.local/ns/shop/sa/shop-api",
		"destination_app":                "shop-api",
		"destination_version":            "v1",
		"destination_service":            "shop-api.shop.svc.cluster.local",
		"destination_canonical_service":  "shop-api",
		"destination_canonical_revision": "v1",
		"destination_service_name":       "shop-api",
		"destination_service_namespace":  "shop",
		"destination_cluster":            "Kubernetes",
		"request_protocol":               "http",
		"response_code":                  "200",
		"grpc_response_status":           "",
		"response_flags":                 "-",
		"connection_security_policy":     "unknown",
	}
	got := labelMap(one(t, fams, "istio_requests_total", nil))
	if !maps.Equal(got, want) {
		t.Errorf("labels:\ngot  %v\nwant %v", got, want)
	}
	if v := one(t, fams, "istio_requests_total", nil).GetCounter().GetValue(); v != 2 {
		t.Errorf("istio_requests_total: got %v, want 2", v)
	}
	tests := []struct {
		name   string
		family string
		count  uint64
		sum    float64
	}{
		{"duration", "istio_request_duration_milliseconds", 2, 33},
		{"request bytes", "istio_request_bytes", 2, 100},
		{"response bytes", "istio_response_bytes", 2, 2020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := one(t, fams, tt.family, nil).GetHistogram()
			if h.GetSampleCount() != tt.count {
				t.Errorf("count: got %d, want %d", h.GetSampleCount(), tt.count)
			}
			if h.GetSampleSum() != tt.sum {
				t.Errorf("sum: got %v, want %v", h.GetSampleSum(), tt.sum)
			}
		})
	}
}

func TestHistogramBuckets(t *testing.T) {
	m := New()
	for _, d := range []time.Duration{300 * time.Microsecond, 3 * time.Millisecond, 30 * time.Millisecond, 3 * time.Second} {
		m.Observe(&accesslog.Record{ResponseCode: 200, Duration: d, BytesSent: int64(d / time.Millisecond)}, shopLabels)
	}
	fams := scrape(t, m)
	h := one(t, fams, "istio_request_duration_milliseconds", nil).GetHistogram()
	got := map[float64]uint64{}
	var bounds []float64
	for _, b := range h.GetBucket() {
		got[b.GetUpperBound()] = b.GetCumulativeCount()
		bounds = append(bounds, b.GetUpperBound())
	}
	// The exposition ends with the implicit le="+Inf" bucket.
	wantBounds := append(slices.Clone(envoyBuckets), math.Inf(1))
	if !slices.Equal(bounds, wantBounds) {
		t.Errorf("le bounds: got %v, want %v", bounds, wantBounds)
	}
	tests := []struct {
		le   float64
		want uint64
	}{
		{0.5, 1}, {1, 1}, {5, 2}, {10, 2}, {25, 2}, {50, 3}, {2500, 3}, {5000, 4}, {3600000, 4}, {math.Inf(1), 4},
	}
	for _, tt := range tests {
		t.Run("le="+strconv.FormatFloat(tt.le, 'g', -1, 64), func(t *testing.T) {
			if got[tt.le] != tt.want {
				t.Errorf("got %d, want %d", got[tt.le], tt.want)
			}
		})
	}
}

// TestDashboardSeries checks that the series the Istio Grafana dashboards
// select on exist with the labels and values their queries use, e.g.
// sum(rate(istio_requests_total{reporter="source",destination_service="…",response_code!~"5.*"}[1m]))
// and histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="source"}[1m]))).
func TestDashboardSeries(t *testing.T) {
	m := New()
	m.Observe(&accesslog.Record{ResponseCode: 200, Duration: time.Millisecond}, shopLabels)
	m.Observe(&accesslog.Record{ResponseCode: 503, Flags: accesslog.NoHealthyUpstream}, shopLabels)
	fams := scrape(t, m)
	svc := map[string]string{"reporter": "source", "destination_service": "shop-api.shop.svc.cluster.local"}

	tests := []struct {
		name   string
		family string
		labels map[string]string
	}{
		{"requests 200", "istio_requests_total", map[string]string{"reporter": "source", "destination_service": svc["destination_service"], "response_code": "200"}},
		{"requests 503 UH", "istio_requests_total", map[string]string{"reporter": "source", "response_code": "503", "response_flags": "UH"}},
		{"duration", "istio_request_duration_milliseconds", svc},
		{"request bytes", "istio_request_bytes", svc},
		{"response bytes", "istio_response_bytes", svc},
		{"mtls split", "istio_requests_total", map[string]string{"destination_principal": shopLabels.DestinationPrincipal}},
		{"build", "istio_build", map[string]string{"component": "proxy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(find(fams, tt.family, tt.labels)) == 0 {
				t.Errorf("%s%v: got no series, want at least one", tt.family, tt.labels)
			}
		})
	}
	t.Run("label names", func(t *testing.T) {
		want := slices.Sorted(slices.Values(istioLabels))
		for _, name := range []string{"istio_requests_total", "istio_request_duration_milliseconds"} {
			for _, s := range fams[name].GetMetric() {
				got := slices.Sorted(maps.Keys(labelMap(s)))
				if !slices.Equal(got, want) {
					t.Errorf("%s: got labels %v, want %v", name, got, want)
				}
			}
		}
	})
	t.Run("build value", func(t *testing.T) {
		if v := one(t, fams, "istio_build", nil).GetGauge().GetValue(); v != 1 {
			t.Errorf("istio_build: got %v, want 1", v)
		}
	})
}

func TestOwnMetrics(t *testing.T) {
	m := New()
	m.InFlight(1)
	m.InFlight(1)
	m.InFlight(-1)
	m.Connections("public", 1)
	m.Connections("public", 1)
	m.Connections("mesh", 1)
	m.Connections("public", -1)
	m.Reload(true)
	m.Reload(false)
	m.Reload(false)
	fams := scrape(t, m)
	gauge := func(name string, l map[string]string) float64 { return one(t, fams, name, l).GetGauge().GetValue() }
	counter := func(name string, l map[string]string) float64 { return one(t, fams, name, l).GetCounter().GetValue() }

	tests := []struct {
		name string
		got  func() float64
		want float64
	}{
		{"in flight", func() float64 { return gauge("portcullis_requests_in_flight", nil) }, 1},
		{"connections public", func() float64 {
			return gauge("portcullis_downstream_connections", map[string]string{"listener": "public"})
		}, 1},
		{"connections mesh", func() float64 {
			return gauge("portcullis_downstream_connections", map[string]string{"listener": "mesh"})
		}, 1},
		{"reload success", func() float64 {
			return counter("portcullis_config_reloads_total", map[string]string{"result": "success"})
		}, 1},
		{"reload failure", func() float64 {
			return counter("portcullis_config_reloads_total", map[string]string{"result": "failure"})
		}, 2},
		{"build info", func() float64 { return gauge("portcullis_build_info", nil) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("last reload timestamp", func(t *testing.T) {
		got := gauge("portcullis_config_last_reload_success_timestamp_seconds", nil)
		if got < float64(time.Now().Add(-time.Hour).Unix()) {
			t.Errorf("got %v, want a recent unix time", got)
		}
	})
	t.Run("go collector", func(t *testing.T) {
		if _, ok := fams["go_goroutines"]; !ok {
			t.Error("got no go_goroutines, want the Go collector's series")
		}
	})
}

func TestRegistriesIndependent(t *testing.T) {
	a, b := New(), New()
	a.Observe(&accesslog.Record{ResponseCode: 200}, shopLabels)
	if got := len(scrape(t, b)["istio_requests_total"].GetMetric()); got != 0 {
		t.Errorf("second registry: got %d request series, want 0", got)
	}
	if a.Registry() == b.Registry() {
		t.Error("got one shared registry, want one each")
	}
	if len(scrape(t, a)["istio_requests_total"].GetMetric()) != 1 {
		t.Error("first registry: got no request series, want 1")
	}
}
