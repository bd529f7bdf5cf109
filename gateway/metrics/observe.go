package metrics

import (
	"cmp"
	"strconv"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// Observe records one finished request in Istio's standard HTTP metrics.
// The gateway calls it for every request, after the response, with the
// request's record and the labels it knows.
//
// request_bytes and response_bytes are the downstream wire bytes, as
// Istio's stats filter records them: the header and the body, so that a GET
// is not 0. The record's header sizes are the HTTP/1 head as written, and
// for HTTP/2 and HTTP/3 the decoded header list (Envoy's byteSize()).
func (m *Metrics) Observe(r *accesslog.Record, l Labels) {
	if r == nil {
		return
	}
	k := seriesKey{Labels: l, code: r.ResponseCode, flags: r.Flags}
	k.RequestProtocol = protocol(l.RequestProtocol, r)
	k.GRPCStatus = ""
	if k.RequestProtocol == protoGRPC {
		k.GRPCStatus = grpcStatus(l.GRPCStatus, r)
	}
	if k.DestinationService == "" {
		k.DestinationService = unknown
		if r.VirtualHost != "" {
			// Only a request that matched a virtual host names its
			// host: any other Host header is the client's invention.
			k.DestinationService = m.hosts.label(hostLabel(r.Authority))
		}
	}
	s := m.series.get(&k)
	if s == nil {
		s = m.series.add(&k, &m.istio)
	}
	if s == nil {
		m.folded.Inc()
		m.overflowOnce.Do(func() { m.overflow = m.istio.resolve(&overflowKey) })
		s = m.overflow
	}
	s.requests.Inc()
	s.duration.Observe(float64(r.Duration) / float64(time.Millisecond))
	s.requestBytes.Observe(float64(max(r.RequestHeaderBytes+r.BytesReceived, 0)))
	s.responseBytes.Observe(float64(max(r.ResponseHeaderBytes+r.BytesSent, 0)))
}

// overflowValue is the label value that marks the overflow series, which
// counts the requests whose label set is past maxRequestSeries, so that the
// totals over all series stay right.
const overflowValue = "overflow"

// overflowKey is the overflow series' key: every label the requests could
// vary is fixed, destination_service and response_code to overflowValue
// (response_code is written from overflow, not from code).
var overflowKey = seriesKey{Labels: Labels{DestinationService: overflowValue, RequestProtocol: protoHTTP}, overflow: true}

// seriesKey is every input that decides a request's label values. It is a
// comparable struct, so looking it up in a map costs a hash of its strings
// and no allocation, where WithLabelValues would build and hash a slice of
// 25 strings for each of four vectors.
type seriesKey struct {
	Labels
	code     int
	flags    accesslog.Flags
	overflow bool
}

// values returns the label values in istioLabels order.
func (k *seriesKey) values() []string {
	code := strconv.Itoa(k.code)
	if k.overflow {
		code = overflowValue
	}
	return []string{
		cmp.Or(k.Reporter, "source"),
		value(k.SourceWorkload),
		canonical(unknown, k.SourceCanonicalService, k.SourceApp, k.SourceWorkload),
		canonical("latest", k.SourceCanonicalRevision, k.SourceVersion),
		value(k.SourceNamespace),
		value(k.SourcePrincipal),
		value(k.SourceApp),
		value(k.SourceVersion),
		value(k.SourceCluster),
		value(k.DestinationWorkload),
		value(k.DestinationWorkloadNamespace),
		value(k.DestinationPrincipal),
		value(k.DestinationApp),
		value(k.DestinationVersion),
		value(k.DestinationService),
		canonical(unknown, k.DestinationCanonicalService, k.DestinationApp, k.DestinationWorkload),
		canonical("latest", k.DestinationCanonicalRevision, k.DestinationVersion),
		canonical(unknown, k.DestinationServiceName, k.DestinationService),
		value(k.DestinationServiceNamespace),
		value(k.DestinationCluster),
		k.RequestProtocol,
		code,
		k.GRPCStatus,
		k.flags.String(),
		value(k.ConnectionSecurityPolicy),
	}
}

// resolve looks up the series for k in each vector: the slow path, taken
// once per distinct key.
func (v *istioVecs) resolve(k *seriesKey) *series {
	lv := k.values()
	return &series{
		requests:      v.requests.WithLabelValues(lv...),
		duration:      v.duration.WithLabelValues(lv...),
		requestBytes:  v.requestBytes.WithLabelValues(lv...),
		responseBytes: v.responseBytes.WithLabelValues(lv...),
	}
}
