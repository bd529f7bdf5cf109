package accesslog

// The JSON access log's keys. They are Istio's (EnvoyJSONLogFormatIstio)
// where Istio has the field, so log pipelines built for Istio keep working;
// the gateway's additions come last. AppendJSON writes them in alphabetical
// order, as Istio's output has them.
const (
	// FieldStartTime is the request's start, UTC ISO-8601 with milliseconds.
	FieldStartTime = "start_time"
	// FieldRouteName is the matched route's name.
	FieldRouteName = "route_name"
	// FieldMethod is the request method.
	FieldMethod = "method"
	// FieldPath is the path the client asked for, with its query:
	// %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%, the path before a rewrite, as in
	// Istio's log and the text presets. FieldRewrittenPath holds the one
	// sent upstream.
	FieldPath = "path"
	// FieldProtocol is HTTP/1.1, HTTP/2 or HTTP/3.
	FieldProtocol = "protocol"
	// FieldResponseCode is the status sent downstream, a number, 0 for none.
	FieldResponseCode = "response_code"
	// FieldResponseFlags are the short Envoy response flags, "-" for none.
	FieldResponseFlags = "response_flags"
	// FieldResponseCodeDetails says why the response code is what it is.
	FieldResponseCodeDetails = "response_code_details"
	// FieldConnectionTerminationDetails says why a connection was closed.
	FieldConnectionTerminationDetails = "connection_termination_details"
	// FieldBytesReceived is the request body size, a number.
	FieldBytesReceived = "bytes_received"
	// FieldBytesSent is the response body size, a number.
	FieldBytesSent = "bytes_sent"
	// FieldDynamicMetadata is what plugins recorded of the request: an
	// object of namespaces (portcullis.waf), each an object of text
	// values by key; null when none. %DYNAMIC_METADATA()% in the text log.
	FieldDynamicMetadata = "dynamic_metadata"
	// FieldDuration is the request's duration in milliseconds, a number.
	FieldDuration = "duration"
	// FieldUpstreamServiceTime is the upstream's time to response headers in
	// milliseconds: %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%, the header's
	// text, a string as in Istio's log.
	FieldUpstreamServiceTime = "upstream_service_time"
	// FieldXForwardedFor is the request's X-Forwarded-For header.
	FieldXForwardedFor = "x_forwarded_for"
	// FieldUserAgent is the request's User-Agent header.
	FieldUserAgent = "user_agent"
	// FieldRequestID is the request's X-Request-Id.
	FieldRequestID = "request_id"
	// FieldAuthority is the request's :authority.
	FieldAuthority = "authority"
	// FieldUpstreamHost is the endpoint the request was sent to.
	FieldUpstreamHost = "upstream_host"
	// FieldUpstreamCluster is the upstream's cluster name.
	FieldUpstreamCluster = "upstream_cluster"
	// FieldUpstreamLocalAddress is the local address of the upstream
	// connection.
	FieldUpstreamLocalAddress = "upstream_local_address"
	// FieldDownstreamLocalAddress is the address the client connected to.
	FieldDownstreamLocalAddress = "downstream_local_address"
	// FieldDownstreamRemoteAddress is the client's address.
	FieldDownstreamRemoteAddress = "downstream_remote_address"
	// FieldRequestedServerName is the TLS SNI.
	FieldRequestedServerName = "requested_server_name"
	// FieldUpstreamTransportFailureReason is why the upstream connection
	// failed, such as a TLS handshake error.
	FieldUpstreamTransportFailureReason = "upstream_transport_failure_reason"

	// FieldVirtualHost is the matched virtual host's name.
	FieldVirtualHost = "virtual_host"
	// FieldDownstreamPeerURISAN is the client's verified SPIFFE ID.
	FieldDownstreamPeerURISAN = "downstream_peer_uri_san"
	// FieldDownstreamPeerSubject is the subject of the client's verified
	// certificate.
	FieldDownstreamPeerSubject = "downstream_peer_subject"
	// FieldDownstreamTLSVersion is the client connection's TLS version.
	FieldDownstreamTLSVersion = "downstream_tls_version"
	// FieldUpstreamPeerURISAN is the upstream's URI SANs: with tls mode
	// mutual, its verified SPIFFE ID.
	FieldUpstreamPeerURISAN = "upstream_peer_uri_san"
	// FieldUpstreamTLSVersion is the upstream connection's TLS version.
	FieldUpstreamTLSVersion = "upstream_tls_version"
	// FieldRewrittenPath is the path sent upstream after a rewrite, with
	// its query; null without a rewrite, when it is FieldPath.
	FieldRewrittenPath = "rewritten_path"
)
