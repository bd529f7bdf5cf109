package metrics

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

func TestLabelValues(t *testing.T) {
	grpcReq := http.Header{"Content-Type": {"application/grpc+proto"}}
	tests := []struct {
		name   string
		labels Labels
		rec    accesslog.Record
		want   map[string]string
	}{
		{"missing values", Labels{}, accesslog.Record{ResponseCode: 200, Authority: "shop.example.com", VirtualHost: "shop"}, map[string]string{
			"reporter": "source", "source_workload": "unknown", "source_canonical_service": "unknown",
			"source_canonical_revision": "latest", "destination_canonical_revision": "latest",
			"destination_workload": "unknown", "destination_principal": "unknown",
			"destination_service": "shop.example.com", "destination_service_name": "shop.example.com",
			"destination_service_namespace": "unknown", "request_protocol": "http", "response_code": "200",
			"grpc_response_status": "", "response_flags": "-", "connection_security_policy": "unknown",
		}},
		{"canonical from app and version", Labels{DestinationApp: "reviews", DestinationVersion: "v2", DestinationWorkload: "reviews-v2"}, accesslog.Record{}, map[string]string{
			"destination_canonical_service": "reviews", "destination_canonical_revision": "v2",
		}},
		{"canonical from workload", Labels{DestinationWorkload: "reviews-v2"}, accesslog.Record{}, map[string]string{
			"destination_canonical_service": "reviews-v2", "destination_canonical_revision": "latest",
		}},
		{"explicit canonical wins", Labels{DestinationCanonicalService: "rev", DestinationCanonicalRevision: "r7", DestinationApp: "reviews", DestinationVersion: "v2"}, accesslog.Record{}, map[string]string{
			"destination_canonical_service": "rev", "destination_canonical_revision": "r7",
		}},
		{"host lower case without port", Labels{}, accesslog.Record{Authority: "Shop.Example.COM:8443", VirtualHost: "shop"}, map[string]string{
			"destination_service": "shop.example.com",
		}},
		{"ipv6 host", Labels{}, accesslog.Record{Authority: "[::1]:8080", VirtualHost: "local"}, map[string]string{"destination_service": "[::1]"}},
		{"no virtual host", Labels{}, accesslog.Record{Authority: "shop.example.com"}, map[string]string{"destination_service": "unknown"}},
		{"hostile host", Labels{}, accesslog.Record{Authority: "evil.com/<script>", VirtualHost: "any"}, map[string]string{"destination_service": "unknown"}},
		{"empty host", Labels{}, accesslog.Record{}, map[string]string{"destination_service": "unknown"}},
		{"known service ignores host", Labels{DestinationService: "a.ns.svc.cluster.local"}, accesslog.Record{Authority: "b.example.com"}, map[string]string{
			"destination_service": "a.ns.svc.cluster.local",
		}},
		{"no response", Labels{}, accesslog.Record{Flags: accesslog.DownstreamConnectionTermination}, map[string]string{
			"response_code": "0", "response_flags": "DC",
		}},
		{"several flags", Labels{}, accesslog.Record{ResponseCode: 503, Flags: accesslog.UpstreamRetryLimitExceeded | accesslog.NoHealthyUpstream}, map[string]string{
			"response_code": "503", "response_flags": "UH,URX",
		}},
		{"grpc by content type, trailer", Labels{}, accesslog.Record{ResponseCode: 200, RequestHeader: grpcReq, ResponseTrailer: http.Header{"Grpc-Status": {"5"}}}, map[string]string{
			"request_protocol": "grpc", "grpc_response_status": "5",
		}},
		{"grpc trailers-only", Labels{RequestProtocol: "grpc"}, accesslog.Record{ResponseCode: 200, ResponseHeader: http.Header{"Grpc-Status": {"14"}}}, map[string]string{
			"request_protocol": "grpc", "grpc_response_status": "14",
		}},
		{"grpc from http status", Labels{RequestProtocol: "grpc"}, accesslog.Record{ResponseCode: 503}, map[string]string{"grpc_response_status": "14"}},
		{"grpc 200 without status", Labels{RequestProtocol: "grpc"}, accesslog.Record{ResponseCode: 200}, map[string]string{"grpc_response_status": "2"}},
		{"grpc no response", Labels{RequestProtocol: "grpc"}, accesslog.Record{}, map[string]string{"grpc_response_status": "unknown"}},
		{"grpc hostile status", Labels{RequestProtocol: "grpc"}, accesslog.Record{ResponseTrailer: http.Header{"Grpc-Status": {"999"}}}, map[string]string{"grpc_response_status": "unknown"}},
		{"grpc given status", Labels{RequestProtocol: "grpc", GRPCStatus: "7"}, accesslog.Record{ResponseTrailer: http.Header{"Grpc-Status": {"0"}}}, map[string]string{"grpc_response_status": "7"}},
		{"grpc status ignored for http", Labels{RequestProtocol: "http", GRPCStatus: "3"}, accesslog.Record{RequestHeader: grpcReq}, map[string]string{
			"request_protocol": "http", "grpc_response_status": "",
		}},
		{"other protocol is http", Labels{RequestProtocol: "smtp"}, accesslog.Record{}, map[string]string{"request_protocol": "http"}},
		{"invalid utf-8 replaced", Labels{DestinationWorkload: "a\xffb"}, accesslog.Record{}, map[string]string{"destination_workload": "a\uFFFDb"}},
		{"overlong value", Labels{DestinationWorkload: strings.Repeat("w", maxLabelValue+1)}, accesslog.Record{}, map[string]string{"destination_workload": "unknown"}},
		{"security policy given", Labels{ConnectionSecurityPolicy: "mutual_tls"}, accesslog.Record{}, map[string]string{"connection_security_policy": "mutual_tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.Observe(&tt.rec, tt.labels)
			got := labelMap(one(t, scrape(t, m), "istio_requests_total", nil))
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s: got %q, want %q", k, got[k], want)
				}
			}
		})
	}
}

func TestHostCardinalityBound(t *testing.T) {
	const bound = 10 // maxHostLabels, made small to keep the scrape small
	m := New()
	m.hosts.max = bound
	for i := range bound + 20 {
		m.Observe(&accesslog.Record{ResponseCode: 404, Authority: fmt.Sprintf("h%d.example", i), VirtualHost: "wildcard"}, Labels{})
	}
	fams := scrape(t, m)
	seen := map[string]bool{}
	for _, s := range fams["istio_requests_total"].GetMetric() {
		seen[labelMap(s)["destination_service"]] = true
	}
	if got, want := len(seen), bound+1; got != want {
		t.Errorf("distinct destination_service: got %d, want %d", got, want)
	}
	if !seen["unknown"] {
		t.Error("got no destination_service=\"unknown\", want hosts past the bound there")
	}
}

func TestSeriesCacheBound(t *testing.T) {
	c := seriesCache{m: make(map[seriesKey]*series), max: 2, maxClient: 2}
	vecs := newIstioVecs()
	for i := range 5 {
		k := seriesKey{code: 200 + i}
		got := c.add(&k, &vecs)
		if full := i >= 2; (got == nil) != full || (c.get(&k) == nil) != full {
			t.Fatalf("add %d: got series %v, cached %v; want them only below the bound", i+1, got != nil, c.get(&k) != nil)
		}
		if again := c.add(&seriesKey{code: 200}, &vecs); again == nil {
			t.Fatalf("after add %d: a key already held got no series", i+1)
		}
	}
	if c.len() != 2 {
		t.Errorf("got %d entries, want 2", c.len())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(vecs.requests)
	if fams, err := reg.Gather(); err != nil || len(fams) != 1 || len(fams[0].GetMetric()) != 2 {
		t.Errorf("got %v (%v), want 2 series in the vector: none made past the bound", fams, err)
	}
}

// TestSeriesCacheClientShare checks that label sets naming no upstream,
// whose variety clients choose, take no more than their share, so that an
// upstream's label sets still find room.
func TestSeriesCacheClientShare(t *testing.T) {
	c := seriesCache{m: make(map[seriesKey]*series), max: 4, maxClient: 2}
	vecs := newIstioVecs()
	for i := range 10 {
		k := seriesKey{code: 400 + i, Labels: Labels{DestinationService: fmt.Sprintf("h%d.example", i)}}
		if got := c.add(&k, &vecs); (got == nil) != (i >= 2) {
			t.Fatalf("client label set %d: got series %v, want one only for the first 2", i, got != nil)
		}
	}
	for i := range 3 {
		k := seriesKey{code: 500 + i, Labels: Labels{DestinationServiceName: "app"}}
		if got := c.add(&k, &vecs); (got == nil) != (i >= 2) {
			t.Fatalf("upstream label set %d: got series %v, want one for the first 2, then the bound", i, got != nil)
		}
	}
}
