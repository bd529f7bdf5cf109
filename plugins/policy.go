package plugins

import "time"

// Workload is what a route forwards to, as Istio's policies select it: its
// upstream's namespace and labels. A route without an upstream (a redirect,
// a direct response) has the zero Workload, which only policies of the
// mesh's root namespace without a selector guard.
type Workload struct {
	Namespace string
	Labels    map[string]string
}

// Policies is what the routes file says of its policy documents: the files
// its top-level `policies:` globs name and its `mesh:` block. The routes
// file hands it to the plugin whose section takes it (see the routes
// package), once per load.
type Policies struct {
	// Files are the policy files, absolute, in the order the globs name
	// them (each glob's matches sorted).
	Files []string
	// RootNamespace is the mesh's root namespace, whose policies guard
	// every workload.
	RootNamespace string
	// TrustDomain and TrustDomainAliases are the mesh's trust domains, for
	// principals written with cluster.local.
	TrustDomain        string
	TrustDomainAliases []string
	// ExtAuthz are the mesh's external authorizers, which CUSTOM policies
	// name.
	ExtAuthz []ExtAuthz
}

// ExtAuthz is an extension provider of the mesh block that answers Istio's
// CUSTOM policies over HTTP, as Envoy's ext_authz filter asks one: Istio's
// meshConfig.extensionProviders[].envoyExtAuthzHttp. Header lists hold
// Istio's patterns: exact, prefix* or *suffix, compared without regard to
// case.
type ExtAuthz struct {
	// Name is the provider's name, which a policy's provider.name gives.
	Name string
	// Upstream is the routes file's upstream the checks go to, with its
	// pool, TLS and health checks.
	Upstream string
	// PathPrefix is put before the request's path in the check.
	PathPrefix string
	// Timeout bounds one check; past it the check failed.
	Timeout time.Duration
	// FailOpen lets a request through when the check fails (the
	// authorizer down, timed out, or answering 5xx); else the client gets
	// StatusOnError.
	FailOpen      bool
	StatusOnError int
	// IncludeRequestHeaders are the request's headers sent in the check,
	// besides Host, Method, Path and Content-Length; IncludeAdditional are
	// headers added to the check, by name.
	IncludeRequestHeaders []string
	IncludeAdditional     map[string]string
	// HeadersToUpstreamOnAllow are the authorizer's headers that replace
	// or join the request's upstream on an allow; HeadersToDownstreamOnDeny
	// the authorizer's headers the client gets on a deny (all but Host
	// when empty).
	HeadersToUpstreamOnAllow  []string
	HeadersToDownstreamOnDeny []string
	// Body, when set, sends up to MaxRequestBytes of the request body.
	Body *ExtAuthzBody
}

// ExtAuthzBody is includeRequestBodyInCheck: up to MaxRequestBytes of the
// body go to the authorizer; a longer body is refused with 413 unless
// AllowPartial, which sends its first MaxRequestBytes.
type ExtAuthzBody struct {
	MaxRequestBytes int64
	AllowPartial    bool
}
