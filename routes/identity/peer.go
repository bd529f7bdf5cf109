package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Peer is a verified SPIFFE identity and what Istio reads from it.
type Peer struct {
	ID spiffeid.ID
	// Principal is the ID as Istio's policies write it, without the
	// scheme: cluster.local/ns/shop/sa/api.
	Principal string
	// Namespace and ServiceAccount are read from an ID of Istio's shape,
	// spiffe://<trust domain>/ns/<namespace>/sa/<service account>; both
	// are empty for an ID of another shape.
	Namespace, ServiceAccount string
}

// NewPeer returns what Istio reads from id.
func NewPeer(id spiffeid.ID) Peer {
	p := Peer{ID: id, Principal: id.TrustDomain().Name() + id.Path()}
	p.Namespace, p.ServiceAccount = istioParts(id.Path())
	return p
}

// istioParts splits a path of exactly /ns/<namespace>/sa/<service account>,
// as Istio's spiffe.ParseIdentity does; any other path has neither.
func istioParts(path string) (namespace, serviceAccount string) {
	rest, ok := strings.CutPrefix(path, "/ns/")
	if !ok {
		return "", ""
	}
	ns, sa, ok := strings.Cut(rest, "/sa/")
	if !ok || ns == "" || sa == "" || strings.Contains(ns, "/") || strings.Contains(sa, "/") {
		return "", ""
	}
	return ns, sa
}

// IDFromCert reads the SPIFFE ID of an X.509-SVID leaf: its one URI SAN,
// parsed by go-spiffe, with a path (an ID that names only a trust domain
// names no workload). On failure it says which of missing_spiffe_id,
// multiple_uri_sans and malformed_spiffe_id applies.
func IDFromCert(cert *x509.Certificate) (spiffeid.ID, Reason, error) {
	switch n := len(cert.URIs); {
	case n == 0:
		return spiffeid.ID{}, MissingID, errors.New("the certificate has no URI SAN, so no SPIFFE ID")
	case n > 1:
		return spiffeid.ID{}, MultipleURISANs, fmt.Errorf("the certificate has %d URI SANs; an X.509-SVID has exactly one", n)
	}
	id, err := spiffeid.FromURI(cert.URIs[0])
	if err != nil {
		return spiffeid.ID{}, MalformedID, fmt.Errorf("URI SAN %q is not a SPIFFE ID: %w", cert.URIs[0].String(), err)
	}
	if id.Path() == "" {
		return spiffeid.ID{}, MalformedID, fmt.Errorf("SPIFFE ID %s names a trust domain, not a workload", id)
	}
	return id, "", nil
}
