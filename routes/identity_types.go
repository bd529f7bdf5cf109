package routes

// Identity is the gateway's SPIFFE identity: its X.509-SVID, which
// listeners with `tls: { identity: true }` present, and the trust bundles
// that verify callers' certificates. The files are those cert-manager's
// csi-driver-spiffe writes (tls.crt, tls.key, ca.crt) or SPIRE's helper
// (svid.pem, svid_key.pem, svid_bundle.pem); the gateway reloads when they
// change, and a reload whose files do not make a valid identity keeps the
// running one.
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
}

// FederatedBundle is another trust domain's bundle.
type FederatedBundle struct {
	TrustDomain string `yaml:"trust_domain" json:"trust_domain"`
	Bundle      string `yaml:"bundle" json:"bundle"`
}
