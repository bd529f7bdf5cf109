package metrics

import (
	"net/http"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

const (
	protoHTTP = "http"
	protoGRPC = "grpc"
)

// protocol returns request_protocol: the gateway's value when it gave
// "grpc", else grpc for a gRPC content type, else http. Only these two
// constants come out, so a request cannot add label values here.
func protocol(given string, r *accesslog.Record) string {
	switch given {
	case protoGRPC:
		return protoGRPC
	case "":
		if strings.HasPrefix(r.RequestHeader.Get("Content-Type"), "application/grpc") {
			return protoGRPC
		}
	}
	return protoHTTP
}

// grpcStatuses are the valid grpc_response_status values, 0 to 16. A status
// from the upstream is used only if it is one of these, so a hostile upstream
// cannot mint label values.
var grpcStatuses = [...]string{
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
}

// grpcStatus returns grpc_response_status for a gRPC request, looking where
// Envoy does: the gateway's value, the grpc-status trailer, the header
// (trailers-only responses), then the HTTP status mapped as gRPC's
// http-grpc-status-mapping.md says. An unparsable status is "unknown".
func grpcStatus(given string, r *accesslog.Record) string {
	s := given
	if s == "" {
		s = r.ResponseTrailer.Get("Grpc-Status")
	}
	if s == "" {
		s = r.ResponseHeader.Get("Grpc-Status")
	}
	if s == "" {
		return fromHTTPStatus(r.ResponseCode)
	}
	for _, v := range grpcStatuses {
		if s == v {
			return v
		}
	}
	return unknown
}

// fromHTTPStatus maps an HTTP status to the gRPC status a client sees when
// the response carried none.
func fromHTTPStatus(code int) string {
	switch code {
	case 0:
		return unknown
	case http.StatusBadRequest:
		return "13" // INTERNAL
	case http.StatusUnauthorized:
		return "16" // UNAUTHENTICATED
	case http.StatusForbidden:
		return "7" // PERMISSION_DENIED
	case http.StatusNotFound:
		return "12" // UNIMPLEMENTED
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "14" // UNAVAILABLE
	}
	return "2" // UNKNOWN
}
