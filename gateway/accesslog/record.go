// Package accesslog holds the access-log record that each stage of the request
// path fills in, the formatters that turn a record into an Envoy/Istio text
// line or a JSON object, and the writer that puts lines on stdout, stderr or a
// file.
package accesslog

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Record is everything the access log knows of one request or tunnel. Each
// stage fills in its part; the gateway writes it once, at the end. A Record
// comes from Get and goes back with Put: it is reused, so nothing may keep a
// pointer to it after the request.
type Record struct {
	// Start is when the gateway received the request's first byte (headers).
	Start time.Time
	// Duration is from Start until the last byte of the response was sent.
	Duration time.Duration
	// UpstreamServiceTime is how long the upstream took to send response
	// headers, or negative when no upstream answered.
	UpstreamServiceTime time.Duration

	Method string
	Path   string // :path as received, with its query
	// OriginalPath is the path before a rewrite, empty when not rewritten.
	OriginalPath string
	Protocol     string // HTTP/1.1, HTTP/2, HTTP/3
	// Scheme is the request's :scheme, http or https; %REQ(:SCHEME)% reads it.
	Scheme    string
	Authority string
	// RequestHeader and ResponseHeader are the headers %REQ()% and %RESP()%
	// read. They are the live maps of the request; nil means none.
	RequestHeader   http.Header
	ResponseHeader  http.Header
	ResponseTrailer http.Header
	RequestID       string

	// ResponseCode is the status sent downstream; 0 if none was sent.
	ResponseCode int
	// Flags are the Envoy response flags.
	Flags Flags
	// ResponseCodeDetails says why the response code is what it is
	// (via_upstream, route_not_found, rbac_access_denied_matched_policy[…]).
	ResponseCodeDetails            string
	ConnectionTerminationDetails   string
	UpstreamTransportFailureReason string
	// Metadata is what the plugins recorded of the request
	// (%DYNAMIC_METADATA(namespace:key)%), in the order they set it.
	Metadata []plugins.MetadataEntry

	// BytesReceived and BytesSent count body bytes.
	BytesReceived int64
	BytesSent     int64
	// RequestHeaderBytes and ResponseHeaderBytes are the sizes of the
	// request's and the final response's headers, as they stand on the
	// wire for HTTP/1 and decoded for HTTP/2 and HTTP/3 (Envoy's
	// HeaderMap::byteSize()); 0 for none.
	RequestHeaderBytes  int64
	ResponseHeaderBytes int64

	RouteName       string
	VirtualHost     string
	UpstreamCluster string
	// UpstreamHost is the endpoint (ip:port) the request was sent to.
	UpstreamHost         string
	UpstreamLocalAddress string
	// UpstreamTLSVersion is the upstream connection's TLS version, if any.
	UpstreamTLSVersion string
	// UpstreamPeerURISAN is the URI SANs of the upstream's certificate:
	// with tls mode mutual, its verified SPIFFE ID.
	UpstreamPeerURISAN string

	DownstreamLocalAddress string
	// DownstreamRemoteAddress is the client's address as ip:port: the direct
	// peer, or the X-Forwarded-For address that trusted proxies reported.
	DownstreamRemoteAddress string
	// DownstreamDirectRemoteAddress is always the direct peer.
	DownstreamDirectRemoteAddress string
	RequestedServerName           string
	DownstreamTLSVersion          string
	DownstreamTLSCipher           string
	// DownstreamPeerURISAN is the caller's verified SPIFFE ID, if any.
	DownstreamPeerURISAN string
	// DownstreamPeerSubject is the subject of the caller's verified
	// certificate, RFC 2253, if any.
	DownstreamPeerSubject string

	// UpstreamWireBytesSent and UpstreamWireBytesReceived are the bytes a
	// forward-proxy tunnel carried to and from its destination.
	UpstreamWireBytesSent     int64
	UpstreamWireBytesReceived int64
}

var pool = sync.Pool{New: func() any { return new(Record) }}

// Get returns a cleared record.
func Get() *Record { return pool.Get().(*Record) }

// Put clears r and returns it for reuse.
func Put(r *Record) {
	*r = Record{}
	pool.Put(r)
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Record) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the record in ctx, or nil.
func FromContext(ctx context.Context) *Record {
	r, _ := ctx.Value(ctxKey{}).(*Record)
	return r
}
