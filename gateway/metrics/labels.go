package metrics

import (
	"strings"
	"unicode/utf8"
)

// unknown is Istio's value for a label the proxy cannot fill.
const unknown = "unknown"

// maxLabelValue bounds a label value's length; a longer value becomes
// "unknown" so that no single series carries kilobytes of header.
const maxLabelValue = 256

// Labels are the Istio label values that the gateway knows from its config
// and the connection; Observe takes the rest (code, flags, host) from the
// access-log record. An empty field is written as Istio writes a missing
// value: "unknown", or as noted per field.
//
// The gateway reports as Istio's ingress and egress gateways do, with
// reporter="source". In that role Istio's source_* labels describe the
// reporting proxy itself (source_workload="istio-ingressgateway"), not the
// downstream caller, so the gateway fills the Source fields from its own
// identity and the Destination fields from the upstream it chose.
type Labels struct {
	// Reporter is "source" (the default: the gateway as Istio's ingress
	// and egress gateways report) or "waypoint": a listener that verifies
	// its callers' certificates reports as Istio's waypoints do, which
	// terminate their callers' mutual TLS, with the source_* labels naming
	// the caller and connection_security_policy saying whether it proved
	// its identity.
	Reporter string

	SourceWorkload          string
	SourceCanonicalService  string // empty: SourceApp, else SourceWorkload
	SourceCanonicalRevision string // empty: SourceVersion, else "latest"
	SourceNamespace         string // source_workload_namespace
	SourcePrincipal         string // full URI SAN, spiffe://…
	SourceApp               string
	SourceVersion           string
	SourceCluster           string

	DestinationWorkload          string
	DestinationWorkloadNamespace string
	// DestinationPrincipal is the upstream's verified URI SAN; the workload
	// dashboard splits mTLS from plain traffic on its spiffe:// prefix.
	DestinationPrincipal string
	DestinationApp       string
	DestinationVersion   string
	// DestinationService is the upstream's service FQDN. Empty means the
	// request's Host, lower-cased without port, as Istio falls back to it.
	DestinationService           string
	DestinationCanonicalService  string // empty: DestinationApp, else DestinationWorkload
	DestinationCanonicalRevision string // empty: DestinationVersion, else "latest"
	DestinationServiceName       string // short name; empty: destination_service
	DestinationServiceNamespace  string
	DestinationCluster           string

	// RequestProtocol is "http" or "grpc"; empty means grpc when the request
	// has a gRPC content type, http otherwise.
	RequestProtocol string
	// GRPCStatus is the numeric gRPC status; empty means read it from the
	// response trailers or headers, else derive it from the HTTP status.
	// Ignored unless the protocol is grpc.
	GRPCStatus string
	// ConnectionSecurityPolicy is empty for Istio's source reporter, which
	// always writes "unknown"; mutual_tls and none belong to the
	// destination and waypoint reporters.
	ConnectionSecurityPolicy string
}

// value returns s as a label value: "unknown" when empty or longer than
// maxLabelValue, with invalid UTF-8 replaced, since the Prometheus client
// panics on invalid UTF-8 in WithLabelValues.
func value(s string) string {
	switch {
	case s == "" || len(s) > maxLabelValue:
		return unknown
	case !utf8.ValidString(s):
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// canonical returns the first non-empty of vs, as Istio picks a canonical
// service (or revision) from its label, the app label, then the workload.
func canonical(fallback string, vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return value(v)
		}
	}
	return fallback
}
