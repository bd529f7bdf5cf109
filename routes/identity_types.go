package routes

// Identity is the gateway's SPIFFE identity: its X.509-SVID, which
// listeners with `tls: { identity: true }` present, and the trust bundles
// that verify callers' certificates. The files are those cert-manager's
// csi-driver-spiffe writes (tls.crt, tls.key, ca.crt) or SPIRE's helper
// (svid.pem, svid_key.pem, svid_bundle.pem); the gateway reloads when they
// change, and a reload whose files do not make a valid identity keeps the
// running one. With WorkloadAPI, the SVID and the bundles come from the
// SPIFFE Workload API instead, and rotate when it pushes new ones.
type Identity struct {
	// TrustDomain is the gateway's trust domain; default cluster.local.
	TrustDomain string `yaml:"trust_domain" json:"trust_domain"`
	// TrustDomainAliases are trust domains whose workloads the bundle also
	// verifies, as Istio's trustDomainAliases: during a move from one trust
	// domain to another, both name the same workloads.
	TrustDomainAliases []string `yaml:"trust_domain_aliases" json:"trust_domain_aliases,omitempty"`
	// SVID is the gateway's certificate chain, leaf first, and its key. Its
	// SPIFFE ID must be in TrustDomain and chain to Bundle.
	SVID CertKey `yaml:"svid" json:"svid"`
	// Bundle is the PEM file of the trust domain's CA certificates.
	Bundle string `yaml:"bundle" json:"bundle"`
	// FederatedBundles are the bundles of other trust domains whose
	// workloads are trusted too, each verifying only its own domain's IDs.
	FederatedBundles []FederatedBundle `yaml:"federated_bundles" json:"federated_bundles,omitempty"`
	// WorkloadAPI takes the SVID and the bundles of every trust domain
	// from the SPIFFE Workload API (a SPIRE agent's socket) in place of
	// SVID, Bundle and FederatedBundles.
	WorkloadAPI *WorkloadAPI `yaml:"workload_api" json:"workload_api,omitempty"`
}

// FederatedBundle is another trust domain's bundle.
type FederatedBundle struct {
	TrustDomain string `yaml:"trust_domain" json:"trust_domain"`
	Bundle      string `yaml:"bundle" json:"bundle"`
}

// WorkloadAPI is where the SPIFFE Workload API listens.
type WorkloadAPI struct {
	// Socket is the API's unix socket, as unix:///path or /path; empty
	// means $SPIFFE_ENDPOINT_SOCKET, the variable the SPIFFE Workload
	// Endpoint standard names. Validation writes it as unix:///path.
	Socket string `yaml:"socket" json:"socket"`
}
