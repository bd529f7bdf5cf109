package plugins

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
}
