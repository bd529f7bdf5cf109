// Package routes reads the routes file: its Go types, strict YAML decoding with
// file:line:column errors, validation, and compilation into an immutable
// Config whose Table the gateway matches requests against.
package routes

import (
	"net/netip"
	"time"
)

// File is the routes file as written, decoded strictly from YAML. Field tags
// give the YAML keys; every other key is an error.
type File struct {
	Admin          Admin          `yaml:"admin" json:"admin"`
	AccessLog      AccessLog      `yaml:"access_log" json:"access_log"`
	TrustedProxies []CIDR         `yaml:"trusted_proxies" json:"trusted_proxies,omitempty"`
	Paths          PathOptions    `yaml:"path_normalization" json:"path_normalization"`
	RequestID      RequestID      `yaml:"request_id" json:"request_id"`
	Workload       Workload       `yaml:"workload" json:"workload"`
	Identity       *Identity      `yaml:"identity" json:"identity,omitempty"`
	Listeners      []Listener     `yaml:"listeners" json:"listeners"`
	VirtualHosts   []VirtualHost  `yaml:"virtual_hosts" json:"virtual_hosts"`
	Upstreams      []UpstreamSpec `yaml:"upstreams" json:"upstreams"`
	// Egress is the rules of the forward_proxy listeners; without it they
	// deny everything.
	Egress *Egress `yaml:"egress" json:"egress,omitempty"`
	// Policies are files or globs, beside the routes file, of Istio
	// AuthorizationPolicy (and RequestAuthentication) documents.
	Policies []string `yaml:"policies" json:"policies,omitempty"`
	// Mesh is what Istio's mesh config says that decides policies.
	Mesh *Mesh `yaml:"mesh" json:"mesh,omitempty"`

	// ServerHeader is every listener's Server response header, unless the
	// listener sets its own.
	ServerHeader ServerHeader `yaml:"server_header" json:"server_header"`

	// Sections are the top-level blocks of the plugins that have one
	// (plugins.Factory.Section), such as the WAF's `waf:` profiles, by
	// plugin name, each decoded into the plugin's own type.
	Sections Sections `yaml:"-" json:"sections,omitempty"`
}

// Sections are plugins' top-level blocks by plugin name.
type Sections map[string]any

// Admin configures the admin server.
type Admin struct {
	// Address is host:port; empty means 127.0.0.1:9901. "off" disables it.
	Address string `yaml:"address" json:"address"`
}

// AccessLog configures the access log.
type AccessLog struct {
	// Format is envoy, istio, istio-legacy or json. Empty means envoy.
	Format string `yaml:"format" json:"format"`
	// Text is an Envoy command-operator format string; it overrides Format's
	// preset text and may not be set with format json.
	Text string `yaml:"text" json:"text,omitempty"`
	// Path is stdout (the default), stderr, off, or a file path.
	Path string `yaml:"path" json:"path"`
}

// RequestID says which x-request-id headers the gateway keeps.
type RequestID struct {
	// RegenerateExternal replaces the x-request-id of a request that does
	// not come from a trusted proxy with one of the gateway's own, as
	// Envoy does by default at an edge, so that outsiders cannot choose
	// the ids that correlate logs and traces. By default an id is kept.
	RegenerateExternal bool `yaml:"regenerate_external" json:"regenerate_external,omitempty"`
}

// PathOptions are the path normalisation options, Envoy's names.
type PathOptions struct {
	// MergeSlashes turns runs of slashes into one.
	MergeSlashes bool `yaml:"merge_slashes" json:"merge_slashes"`
	// EscapedSlashes is what to do with %2F and %5C: keep (the default),
	// reject (400), or unescape (decode them before normalising).
	EscapedSlashes string `yaml:"escaped_slashes" json:"escaped_slashes"`
	// Verbatim leaves paths as they came (mesh.path_normalization none,
	// Istio's NONE): they are only checked for what is refused anyway.
	Verbatim bool `yaml:"-" json:"verbatim,omitempty"`
}

// Listener is one address the gateway listens on.
type Listener struct {
	Name    string `yaml:"name" json:"name"`
	Address string `yaml:"address" json:"address"`
	// Kind is http (the default: an ingress listener that routes by the
	// virtual hosts) or forward_proxy (an egress listener: CONNECT tunnels
	// and absolute-form requests, checked against the egress rules).
	Kind string `yaml:"kind" json:"kind"`
	// CallerHeader, on a forward_proxy listener, names a request header
	// that holds the caller's IP address when the direct peer is in
	// trusted_proxies (a proxy in front of this one); from anyone else the
	// header is ignored and the peer's own address is the caller's. The
	// last value counts, as a proxy that appends writes it after any the
	// client sent.
	CallerHeader string `yaml:"caller_header" json:"caller_header,omitempty"`
	// Protocols are among http1, http2, http3. Default: http1 and http2 with
	// TLS, http1 without. http3 needs TLS and listens on UDP at the same
	// port; http2 without TLS is h2c.
	Protocols     []string     `yaml:"protocols" json:"protocols"`
	TLS           *ListenerTLS `yaml:"tls" json:"tls,omitempty"`
	RedirectHTTPS bool         `yaml:"redirect_https" json:"redirect_https,omitempty"`
	Limits        Limits       `yaml:"limits" json:"limits"`
	// HeadersWithUnderscores is what becomes of a request header whose name
	// holds '_', which many backends read as '-' (X_Api_Key as X-Api-Key):
	// drop_header (the default, as nginx does), reject_request (400, as
	// Envoy's headers_with_underscores_action) or allow.
	HeadersWithUnderscores string `yaml:"headers_with_underscores" json:"headers_with_underscores"`
	// ServerHeader overrides the file's server_header for this listener;
	// what it leaves out comes from the file's, and once loaded it holds
	// the values in force.
	ServerHeader ServerHeader `yaml:"server_header" json:"server_header"`
	// ForwardClientCert is what becomes of the x-forwarded-client-cert
	// header on the way to the upstreams.
	ForwardClientCert ForwardClientCert `yaml:"forward_client_cert" json:"forward_client_cert"`
}

// ForwardClientCert is Envoy's forward_client_cert_details for one
// listener: what the upstream learns of the caller's certificate.
type ForwardClientCert struct {
	// Mode is Envoy's: sanitize (no header), forward_only (the incoming
	// header as it came, from a caller with a verified certificate),
	// append_forward (the incoming header with the caller's element
	// appended), sanitize_set (the caller's element alone) or
	// always_forward_only (the incoming header as it came, with or
	// without a certificate). The default is sanitize_set on a listener
	// with client_auth optional or require, as Istio's gateways do, and
	// sanitize elsewhere. Without a verified certificate every mode but
	// always_forward_only sends no header.
	Mode string `yaml:"mode" json:"mode"`
	// TrustedPeers are the callers, by principal
	// (cluster.local/ns/edge/sa/front), whose incoming header
	// forward_only, append_forward and always_forward_only keep; a peer in
	// trusted_proxies is trusted too. Anyone else's is removed, so that no
	// caller can name an identity it does not hold.
	TrustedPeers []string `yaml:"trusted_peers" json:"trusted_peers,omitempty"`
}

// ServerHeader is the Server header of the responses a listener sends, as
// Envoy's server_name and server_header_transformation set it.
type ServerHeader struct {
	// Value is the header's value; default "portcullis".
	Value string `yaml:"value" json:"value"`
	// Transformation is overwrite (the default: every response says
	// Value, whatever the upstream said), append_if_absent (Value only
	// where the upstream sent none) or pass_through (the upstream's, and
	// none on the gateway's own answers).
	Transformation string `yaml:"transformation" json:"transformation"`
}

// ListenerTLS is a listener's server-side TLS.
type ListenerTLS struct {
	// Certificates are chosen by SNI against each certificate's names; the
	// first is the default.
	Certificates []CertKey `yaml:"certificates" json:"certificates"`
	// SelfSigned makes a certificate in memory at start for localhost and
	// the listener's address, for demos and tests; it may not be set with
	// Certificates.
	SelfSigned bool `yaml:"self_signed" json:"self_signed,omitempty"`
	// MinVersion is "1.2" (the default) or "1.3".
	MinVersion string `yaml:"min_version" json:"min_version,omitempty"`
	// Identity presents the gateway's SVID (the identity block's) as the
	// listener's certificate; it may not be set with Certificates or
	// SelfSigned.
	Identity bool `yaml:"identity" json:"identity,omitempty"`
	// ClientAuth is what the listener asks of a caller's certificate, as
	// Istio's PeerAuthentication modes DISABLE, PERMISSIVE and STRICT:
	// none (the default) asks for none; optional lets a caller without one
	// pass with no identity and refuses one whose certificate does not
	// verify; require refuses a caller without a verified certificate.
	// Certificates are verified as X.509-SVIDs against the identity
	// block's trust bundles.
	ClientAuth string `yaml:"client_auth" json:"client_auth"`
}

// CertKey names a PEM certificate chain and its private key.
type CertKey struct {
	Cert string `yaml:"cert" json:"cert"`
	Key  string `yaml:"key" json:"key"`
}

// Limits are a listener's protective limits; zero means the default.
type Limits struct {
	MaxHeaderBytes       Size     `yaml:"max_header_bytes" json:"max_header_bytes"`             // default 64KiB
	MaxHeaders           int      `yaml:"max_headers" json:"max_headers"`                       // default 100
	ReadHeaderTimeout    Duration `yaml:"read_header_timeout" json:"read_header_timeout"`       // default 10s
	IdleTimeout          Duration `yaml:"idle_timeout" json:"idle_timeout"`                     // default 60s
	MaxConcurrentStreams int      `yaml:"max_concurrent_streams" json:"max_concurrent_streams"` // default 250
	// WriteTimeout bounds each write of a response to a client: one that
	// takes no bytes for this long loses its response, and the upstream
	// exchange behind it ends (nginx's send_timeout). While an upstream
	// response is relayed, the route's timeout also bounds the writes.
	WriteTimeout Duration `yaml:"write_timeout" json:"write_timeout"` // default 30s
	// MaxConnections bounds the listener's open connections, and
	// MaxConnectionsPerClient those of one client address; a connection
	// over either is closed as it is accepted. 0 means no limit.
	MaxConnections          int `yaml:"max_connections" json:"max_connections,omitempty"`
	MaxConnectionsPerClient int `yaml:"max_connections_per_client" json:"max_connections_per_client,omitempty"`
	// MaxQUICHandshakes bounds the HTTP/3 handshakes in flight (default
	// 1024): past half of it, or of a connection limit, a new QUIC
	// connection must first prove its address (a Retry); past it, the
	// connection is refused. Only for listeners with http3.
	MaxQUICHandshakes int `yaml:"max_quic_handshakes" json:"max_quic_handshakes,omitempty"`
	// RequestsPerSecond is a global request rate for the whole listener
	// (a token bucket of RequestsBurst, default the rate rounded up);
	// requests over it get 429 with flag RL. 0 means no limit.
	RequestsPerSecond float64 `yaml:"requests_per_second" json:"requests_per_second,omitempty"`
	RequestsBurst     int     `yaml:"requests_burst" json:"requests_burst,omitempty"`
}

// VirtualHost groups routes under a set of host names.
type VirtualHost struct {
	Name string `yaml:"name" json:"name"`
	// Hosts are exact names, "*.suffix" wildcards, or "*" for the default
	// virtual host. Ports in the request's authority are ignored.
	Hosts   []string       `yaml:"hosts" json:"hosts"`
	Plugins []PluginConfig `yaml:"plugins" json:"plugins,omitempty"`
	Routes  []Route        `yaml:"routes" json:"routes"`
}

// PluginConfig turns one plugin on: a one-key map from the plugin's name to
// its configuration, decoded into the plugin's own config type. It is
// written back in the same form (MarshalJSON).
type PluginConfig struct {
	Name   string
	Config any
}

// Route matches requests and says what to do with them. Exactly one of
// Upstream, Redirect and DirectResponse is set.
type Route struct {
	Name           string          `yaml:"name" json:"name"`
	Match          Match           `yaml:"match" json:"match"`
	Upstream       string          `yaml:"upstream" json:"upstream,omitempty"`
	PrefixRewrite  string          `yaml:"prefix_rewrite" json:"prefix_rewrite,omitempty"`
	HostRewrite    string          `yaml:"host_rewrite" json:"host_rewrite,omitempty"`
	Timeout        Duration        `yaml:"timeout" json:"timeout,omitempty"`
	Redirect       *Redirect       `yaml:"redirect" json:"redirect,omitempty"`
	DirectResponse *DirectResponse `yaml:"direct_response" json:"direct_response,omitempty"`
	Plugins        []PluginConfig  `yaml:"plugins" json:"plugins,omitempty"`
	// Retries retries a failed upstream exchange; nil means no retries.
	Retries *RetryPolicy `yaml:"retries" json:"retries,omitempty"`
	// Upgrades are the protocols a client may switch to with an HTTP/1.1
	// Upgrade (websocket, or others by name); unset means [websocket],
	// [] none. h2c is never forwarded.
	Upgrades []string `yaml:"upgrades" json:"upgrades,omitempty"`
}

// Match selects requests by path, method and headers; all set parts must
// match. With no path matcher every path matches.
type Match struct {
	Path       string `yaml:"path" json:"path,omitempty"`               // exact
	PathPrefix string `yaml:"path_prefix" json:"path_prefix,omitempty"` // segment-blind prefix, as Envoy
	// PathTemplate is a template such as /users/{id}/orders/{*}: {name} and
	// {*} match one segment, {**} matches the rest and must come last.
	PathTemplate string        `yaml:"path_template" json:"path_template,omitempty"`
	Methods      []string      `yaml:"methods" json:"methods,omitempty"`
	Headers      []HeaderMatch `yaml:"headers" json:"headers,omitempty"`
}

// HeaderMatch matches one request header; exactly one of Exact, Prefix,
// Regex and Present is set. Invert negates the match.
type HeaderMatch struct {
	Name    string `yaml:"name" json:"name"`
	Exact   string `yaml:"exact" json:"exact,omitempty"`
	Prefix  string `yaml:"prefix" json:"prefix,omitempty"`
	Regex   string `yaml:"regex" json:"regex,omitempty"`
	Present bool   `yaml:"present" json:"present,omitempty"`
	Invert  bool   `yaml:"invert" json:"invert,omitempty"`
}

// Redirect answers with a redirect; unset parts keep the request's.
type Redirect struct {
	Scheme string `yaml:"scheme" json:"scheme,omitempty"`
	Host   string `yaml:"host" json:"host,omitempty"`
	Port   int    `yaml:"port" json:"port,omitempty"`
	Path   string `yaml:"path" json:"path,omitempty"`
	// PrefixRewrite replaces the matched path_prefix.
	PrefixRewrite string `yaml:"prefix_rewrite" json:"prefix_rewrite,omitempty"`
	// Code is 301 (the default), 302, 303, 307 or 308.
	Code int `yaml:"code" json:"code,omitempty"`
	// StripQuery drops the query string.
	StripQuery bool `yaml:"strip_query" json:"strip_query,omitempty"`
}

// DirectResponse answers from the gateway itself.
type DirectResponse struct {
	Status int               `yaml:"status" json:"status"`
	Body   string            `yaml:"body" json:"body,omitempty"`
	Header map[string]string `yaml:"headers" json:"headers,omitempty"`
}

// UpstreamSpec is a named set of endpoints the gateway proxies to.
type UpstreamSpec struct {
	Name string `yaml:"name" json:"name"`
	// Endpoints are the endpoints' addresses, host:port, in file order. The
	// host may be an IP or a DNS name. The loader fills them from
	// EndpointList; a spec built in code may set only these, each then of
	// weight 1.
	Endpoints []string `yaml:"-" json:"-"`
	// EndpointList is the endpoints as the file writes them under
	// "endpoints": each "host:port" or {address: "host:port", weight: 3}.
	EndpointList []Endpoint `yaml:"endpoints" json:"endpoints,omitempty"`
	// Builtin names an upstream served inside the gateway instead of
	// endpoints: "echo" answers with the request it saw, as JSON.
	Builtin string `yaml:"builtin" json:"builtin,omitempty"`
	// Balancer is round_robin (the default), least_request or ring_hash.
	Balancer string `yaml:"balancer" json:"balancer"`
	// Protocol is http1 (the default) or http2 (h2c without TLS).
	Protocol       string       `yaml:"protocol" json:"protocol"`
	ConnectTimeout Duration     `yaml:"connect_timeout" json:"connect_timeout"`             // default 5s
	Timeout        Duration     `yaml:"timeout" json:"timeout"`                             // default 30s; 0 in YAML means default
	MaxIdlePerHost int          `yaml:"max_idle_per_endpoint" json:"max_idle_per_endpoint"` // default 256
	IdleTimeout    Duration     `yaml:"idle_timeout" json:"idle_timeout"`                   // default 90s
	TLS            *UpstreamTLS `yaml:"tls" json:"tls,omitempty"`
	// Namespace and Labels say which workload this is, as Kubernetes
	// writes them: policies select upstreams by them, and they fill the
	// destination_* labels of Istio's metrics (app, version,
	// service.istio.io/canonical-name …).
	Namespace string            `yaml:"namespace" json:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels" json:"labels,omitempty"`
	// Workload is the name of the workload behind the upstream (its
	// Deployment, StatefulSet …), Istio's destination_workload.
	Workload string `yaml:"workload" json:"workload,omitempty"`
	// Service is the Kubernetes Service the upstream stands for, by name,
	// in Namespace. When it is not set and every endpoint's host is
	// <service>.<namespace>.svc or <service>.<namespace>.svc.<cluster
	// domain> of one Service, the loader fills it, and Namespace, from
	// them.
	Service string `yaml:"service" json:"service,omitempty"`
	// ServiceHost is the Service's name in DNS as Istio writes it,
	// <service>.<namespace>.svc.<cluster domain>, filled by the loader
	// when Service is known; empty for an upstream that is no cluster
	// Service.
	ServiceHost string `yaml:"-" json:"-"`
	// DNSRefresh is how often endpoint host names are resolved again, so
	// that a headless Service's pods come and go; default 5s.
	DNSRefresh Duration `yaml:"dns_refresh" json:"dns_refresh"`
	// Hash is what ring_hash hashes; it is required with ring_hash and
	// refused with the other balancers.
	Hash *HashPolicy `yaml:"hash" json:"hash,omitempty"`
	// Health turns on active health checks; nil means none.
	Health *HealthCheck `yaml:"health" json:"health,omitempty"`
	// Outlier turns on passive outlier ejection; nil means none.
	Outlier *OutlierDetection `yaml:"outlier" json:"outlier,omitempty"`
	// Limits are the upstream's circuit limits.
	Limits UpstreamLimits `yaml:"limits" json:"limits"`
	// RetryBudget bounds the retries in progress for this upstream.
	RetryBudget RetryBudget `yaml:"retry_budget" json:"retry_budget"`
}

// Endpoint is one endpoint of an upstream, written "host:port" or
// {address: "host:port", weight: 3}.
type Endpoint struct {
	Address string `yaml:"address" json:"address"`
	// Weight is the endpoint's share of requests relative to the others,
	// 1 to 128; default 1.
	Weight int `yaml:"weight" json:"weight,omitempty"`
}

// HashPolicy says what ring_hash hashes; exactly one field is set.
type HashPolicy struct {
	// Header hashes the first value of this request header.
	Header string `yaml:"header" json:"header,omitempty"`
	// Cookie hashes the value of this cookie.
	Cookie string `yaml:"cookie" json:"cookie,omitempty"`
	// ClientIP hashes the client's address.
	ClientIP bool `yaml:"client_ip" json:"client_ip,omitempty"`
}

// HealthCheck is an active HTTP health check of each endpoint.
type HealthCheck struct {
	// Path is requested with GET; it must start with /.
	Path               string   `yaml:"path" json:"path"`
	Interval           Duration `yaml:"interval" json:"interval"`                       // default 5s
	Timeout            Duration `yaml:"timeout" json:"timeout"`                         // default 1s, at most interval
	HealthyThreshold   int      `yaml:"healthy_threshold" json:"healthy_threshold"`     // default 2
	UnhealthyThreshold int      `yaml:"unhealthy_threshold" json:"unhealthy_threshold"` // default 3
	// ExpectedStatuses are codes (204) or ranges ("200-399"); default
	// 200-399.
	ExpectedStatuses []StatusRange `yaml:"expected_statuses" json:"expected_statuses"`
}

// StatusRange is an inclusive range of HTTP status codes, written "204" or
// "200-399".
type StatusRange struct{ Min, Max int }

// OutlierDetection ejects an endpoint that fails in a row, as Envoy's
// outlier detection does.
type OutlierDetection struct {
	// Consecutive5xx ejects after this many 5xx answers or local failures
	// in a row; default 5.
	Consecutive5xx int `yaml:"consecutive_5xx" json:"consecutive_5xx"`
	// ConsecutiveConnectFailures ejects after this many failed connects,
	// resets or timeouts in a row; default 5.
	ConsecutiveConnectFailures int `yaml:"consecutive_connect_failures" json:"consecutive_connect_failures"`
	// BaseEjectionTime is the first ejection's length; each further
	// ejection of the same endpoint lasts one more base; default 30s.
	BaseEjectionTime Duration `yaml:"base_ejection_time" json:"base_ejection_time"`
	// MaxEjectionTime caps an ejection's length; default 300s.
	MaxEjectionTime Duration `yaml:"max_ejection_time" json:"max_ejection_time"`
	// MaxEjectionPercent is the largest share of the endpoints ejected at
	// once, 1 to 100; default 50.
	MaxEjectionPercent int `yaml:"max_ejection_percent" json:"max_ejection_percent"`
}

// UpstreamLimits are an upstream's circuit limits; zero means the default.
type UpstreamLimits struct {
	MaxRequests int `yaml:"max_requests" json:"max_requests"` // default 1024
	MaxPending  int `yaml:"max_pending" json:"max_pending"`   // default 1024
}

// RetryBudget bounds the retries in progress to a share of the requests in
// progress, so that retries cannot multiply an outage.
type RetryBudget struct {
	Percent             float64 `yaml:"percent" json:"percent"`                             // default 20
	MinRetryConcurrency int     `yaml:"min_retry_concurrency" json:"min_retry_concurrency"` // default 3
}

// RetryPolicy is a route's retry policy.
type RetryPolicy struct {
	// Attempts is the number of retries after the first try, 1 to 10;
	// default 2.
	Attempts int `yaml:"attempts" json:"attempts"`
	// On are the conditions that retry: connect-failure, refused-stream,
	// reset, 5xx, gateway-error, or a status code such as "503". Default:
	// connect-failure, refused-stream and 503.
	On []string `yaml:"on" json:"on"`
	// PerTryTimeout bounds each try until the response headers; 0 means
	// only the route's timeout applies.
	PerTryTimeout Duration `yaml:"per_try_timeout" json:"per_try_timeout,omitempty"`
	Backoff       Backoff  `yaml:"backoff" json:"backoff"`
	// RetryNonIdempotent retries POST and PATCH too.
	RetryNonIdempotent bool `yaml:"retry_non_idempotent" json:"retry_non_idempotent,omitempty"`
}

// Backoff is the wait before a retry: a random time up to base × 2^n,
// capped at max.
type Backoff struct {
	Base Duration `yaml:"base" json:"base"` // default 25ms
	Max  Duration `yaml:"max" json:"max"`   // default 10 × base
}

// UpstreamTLS is TLS from the gateway to an upstream, in the modes of
// Istio's DestinationRule.
type UpstreamTLS struct {
	// Mode is simple (the default: verify the upstream's certificate by
	// CAFile and ServerName), mutual (Istio's ISTIO_MUTUAL: present the
	// gateway's SVID, and accept the upstream only with an X.509-SVID that
	// the identity block's bundles verify and ExpectPrincipals allow) or
	// disable (no TLS, as without the block).
	Mode string `yaml:"mode" json:"mode"`
	// CAFile verifies the upstream's certificate in simple mode; empty
	// means the system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// ServerName is sent as SNI; in simple mode it is verified too. Empty
	// means the endpoint's host name (none for an IP).
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	// ExpectPrincipals are the upstream's SPIFFE IDs it may present in
	// mutual mode, as Istio writes principals (cluster.local/ns/shop/sa/api,
	// without spiffe://); empty accepts any ID in the gateway's trust
	// domain or its aliases. Any other ID fails the connection.
	ExpectPrincipals []string `yaml:"expect_principals" json:"expect_principals,omitempty"`
	// ALPN are the protocols offered in the handshake, in order; empty
	// means the upstream protocol's own (h2 or http/1.1).
	ALPN []string `yaml:"alpn" json:"alpn,omitempty"`
	// IstioALPN offers Istio's values before the protocol's own, as
	// sidecars do (istio-http/1.1 or istio-h2, then istio), so that a
	// backend's sidecar in STRICT mode takes the connection on its mTLS
	// HTTP filter chain. Mutual mode only.
	IstioALPN bool `yaml:"istio_alpn" json:"istio_alpn,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("1.5s").
type Duration time.Duration

// Size is a byte count written as 512, 64KiB, 1MiB, 1GiB (or KB, MB, GB).
type Size int64

// CIDR is an IP prefix; a bare address means a single host.
type CIDR netip.Prefix

// VerifiesCallers reports whether the listener asks callers for
// certificates (client_auth optional or require); a nil TLS does not.
func (t *ListenerTLS) VerifiesCallers() bool {
	return t != nil && t.ClientAuth != "" && t.ClientAuth != "none"
}
