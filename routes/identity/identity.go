// Package identity holds SPIFFE identities as the gateway uses them: its
// own X.509-SVID and trust bundles, read from the files that cert-manager's
// csi-driver-spiffe (tls.crt, tls.key, ca.crt) and SPIRE's helper
// (svid.pem, svid_key.pem, svid_bundle.pem) write, and the verification of
// a peer's certificate chain against those bundles, with the reason for a
// refusal. Parsing and verifying SPIFFE IDs and SVIDs is go-spiffe's.
package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// SVID is an X.509-SVID with its private key, ready for crypto/tls.
type SVID struct {
	ID          spiffeid.ID
	Certificate tls.Certificate // the chain, leaf first, with Leaf set
}

// ParseSVID reads a PEM certificate chain (leaf first) and its PEM private
// key, in any encoding crypto/tls reads (PKCS #8, SEC 1, PKCS #1), and
// checks them as an X.509-SVID with go-spiffe: one URI SAN holding a
// workload's SPIFFE ID, a leaf that is no CA and may sign, intermediates
// that are CAs, and the key that belongs to the leaf.
func ParseSVID(certPEM, keyPEM []byte) (*SVID, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		return nil, err
	}
	var chain []byte
	for _, c := range pair.Certificate {
		chain = append(chain, c...)
	}
	svid, err := x509svid.ParseRaw(chain, keyDER)
	if err != nil {
		return nil, err
	}
	pair.Leaf = svid.Certificates[0]
	return &SVID{ID: svid.ID, Certificate: pair}, nil
}

// Expiry is when the SVID stops verifying: the earliest end of validity in
// its chain.
func (s *SVID) Expiry() time.Time {
	end := s.Certificate.Leaf.NotAfter
	for _, der := range s.Certificate.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil && c.NotAfter.Before(end) {
			end = c.NotAfter
		}
	}
	return end
}

// ParseBundle reads the PEM CA certificates that trust domain td's
// identities chain to. A bundle without a certificate, or with a
// certificate that is not a CA, is refused: it could verify nothing, or
// would let a workload's certificate sign others.
func ParseBundle(td spiffeid.TrustDomain, data []byte) (*x509bundle.Bundle, error) {
	b, err := x509bundle.Parse(td, data)
	if err != nil {
		return nil, err
	}
	if b.Empty() {
		return nil, errors.New("holds no PEM certificate")
	}
	return b, checkCAs(b)
}

// checkCAs refuses a bundle with a certificate that is not a CA.
func checkCAs(b *x509bundle.Bundle) error {
	for _, c := range b.X509Authorities() {
		if !c.IsCA {
			return fmt.Errorf("certificate %q is not a CA", c.Subject.String())
		}
	}
	return nil
}

// MaxClockSkew is how far ahead of the gateway's clock an SVID's validity
// may start: a CA whose clock runs ahead issues certificates a moment in
// the future, but one that starts later is one no peer accepts yet, and
// taking it would replace a working identity with it.
const MaxClockSkew = 5 * time.Minute

// CheckSVID checks that svid belongs to bundle's trust domain, is valid
// now (its start up to MaxClockSkew ahead), and chains to one of the
// bundle's CAs. The chain is checked as of the start of the leaf's
// validity, so that a certificate issued a moment ago by a CA whose clock
// runs ahead is not refused for that.
func CheckSVID(svid *SVID, bundle *x509bundle.Bundle, now time.Time) error {
	td := bundle.TrustDomain()
	if !svid.ID.MemberOf(td) {
		return fmt.Errorf("SPIFFE ID %s is outside the trust domain %s", svid.ID, td.Name())
	}
	if end := svid.Expiry(); now.After(end) {
		return fmt.Errorf("SVID %s expired at %s", svid.ID, end.UTC().Format(time.RFC3339))
	}
	if start := svid.Certificate.Leaf.NotBefore; start.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("SVID %s is not valid before %s, more than %s ahead", svid.ID, start.UTC().Format(time.RFC3339), MaxClockSkew)
	}
	leaf := svid.Certificate.Leaf
	certs := []*x509.Certificate{leaf}
	for _, der := range svid.Certificate.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		certs = append(certs, c)
	}
	if _, _, err := x509svid.Verify(certs, bundle, x509svid.WithTime(leaf.NotBefore.Add(time.Second))); err != nil {
		return fmt.Errorf("SVID %s does not chain to the bundle of %s: %w", svid.ID, td.Name(), err)
	}
	return nil
}

// Identity is the gateway's own SPIFFE identity: its SVID, and the trust
// bundles that verify peers, by trust domain. It does not change once
// built; new files make a new one.
type Identity struct {
	SVID *SVID
	// TrustDomain is the gateway's own; Aliases are trust domains that
	// its bundle also verifies, as Istio's trustDomainAliases.
	TrustDomain spiffeid.TrustDomain
	Aliases     []spiffeid.TrustDomain
	bundles     *x509bundle.Set
	verifier    *Verifier
}

// New assembles an identity from svid, checked with CheckSVID against
// own, the bundle of its trust domain; own also verifies peers in each of
// aliases, and federated bundles those of other trust domains.
func New(svid *SVID, own *x509bundle.Bundle, aliases []spiffeid.TrustDomain, federated ...*x509bundle.Bundle) (*Identity, error) {
	set := x509bundle.NewSet(own)
	for _, a := range aliases {
		if set.Has(a) {
			return nil, fmt.Errorf("trust domain %s is given twice", a.Name())
		}
		set.Add(x509bundle.FromX509Authorities(a, own.X509Authorities()))
	}
	for _, b := range federated {
		if set.Has(b.TrustDomain()) {
			return nil, fmt.Errorf("trust domain %s is given twice", b.TrustDomain().Name())
		}
		set.Add(b)
	}
	return &Identity{SVID: svid, TrustDomain: own.TrustDomain(), Aliases: aliases, bundles: set, verifier: NewVerifier(set)}, nil
}

// TrustDomains returns the gateway's own trust domain and its aliases: the
// domains whose workloads are its own.
func (id *Identity) TrustDomains() []spiffeid.TrustDomain {
	return append([]spiffeid.TrustDomain{id.TrustDomain}, id.Aliases...)
}

// Bundles returns the trust bundles, one per trust domain (aliases
// included), sorted by trust domain.
func (id *Identity) Bundles() []*x509bundle.Bundle { return id.bundles.Bundles() }

// Verifier returns the verifier of peers' certificates against the
// identity's bundles.
func (id *Identity) Verifier() *Verifier { return id.verifier }
