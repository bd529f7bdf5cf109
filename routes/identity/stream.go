package identity

import (
	"crypto/tls"
	"fmt"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// FromWorkloadAPI assembles an identity from what the SPIFFE Workload API
// sent: svid, which go-spiffe has parsed (its key matches its leaf), and
// the bundles of every trust domain. The SVID must be in td and chain to
// td's bundle, as New requires of files; every bundle must hold CAs only.
// The aliases verify with td's bundle, so a bundle sent for an alias is
// not used; every other trust domain's is a federated bundle.
func FromWorkloadAPI(svid *x509svid.SVID, bundles *x509bundle.Set, td spiffeid.TrustDomain, aliases []spiffeid.TrustDomain, now time.Time) (*Identity, error) {
	if !svid.ID.MemberOf(td) {
		return nil, fmt.Errorf("SPIFFE ID %s is outside the trust domain %s", svid.ID, td.Name())
	}
	own, ok := bundles.Get(td)
	if !ok || own.Empty() {
		return nil, fmt.Errorf("no bundle for the trust domain %s", td.Name())
	}
	var federated []*x509bundle.Bundle
	for _, b := range bundles.Bundles() {
		if b.Empty() {
			return nil, fmt.Errorf("the bundle of %s holds no certificate", b.TrustDomain().Name())
		}
		if err := checkCAs(b); err != nil {
			return nil, fmt.Errorf("the bundle of %s: %w", b.TrustDomain().Name(), err)
		}
		if b.TrustDomain() != td && !slices.Contains(aliases, b.TrustDomain()) {
			federated = append(federated, b)
		}
	}
	s := &SVID{ID: svid.ID, Certificate: tls.Certificate{PrivateKey: svid.PrivateKey, Leaf: svid.Certificates[0]}}
	for _, c := range svid.Certificates {
		s.Certificate.Certificate = append(s.Certificate.Certificate, c.Raw)
	}
	if err := CheckSVID(s, own, now); err != nil {
		return nil, err
	}
	return New(s, own, aliases, federated...)
}
