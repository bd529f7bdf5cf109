// Package devca is a development certificate authority for SPIFFE
// identities: a root for one trust domain that issues X.509-SVIDs (ECDSA
// P-256, one URI SAN, usable for client and server authentication), kept in
// a directory as PEM files. It is what `portcullis certs` runs and what the
// tests make their certificates with; production identities come from
// cert-manager's csi-driver-spiffe or SPIRE.
package devca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// DefaultCATTL is how long a new root is valid; DefaultTTL how long an
// SVID is, as SPIRE's default.
const (
	DefaultCATTL = 5 * 365 * 24 * time.Hour
	DefaultTTL   = 24 * time.Hour
)

// backdate is how far before now a certificate's validity starts, so that a
// peer whose clock is a little behind accepts it at once.
const backdate = 5 * time.Minute

// CA is a signing authority of one trust domain: a root, or an
// intermediate that a root signed.
type CA struct {
	TrustDomain spiffeid.TrustDomain
	Cert        *x509.Certificate
	Key         crypto.Signer
	// Chain are the certificates above Cert, nearest first, the root last;
	// empty for a root.
	Chain []*x509.Certificate
}

// New makes a root of trust domain td valid for ttl (DefaultCATTL when 0).
// Its URI SAN is the trust domain's SPIFFE ID, as SPIRE writes its roots,
// so that a bundle file says which trust domain it serves.
func New(td spiffeid.TrustDomain, ttl time.Duration) (*CA, error) {
	if td.IsZero() {
		return nil, errors.New("no trust domain")
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(td, fmt.Sprintf("%s development root CA", td.Name()), cmpTTL(ttl, DefaultCATTL))
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &CA{TrustDomain: td, Cert: cert, Key: key}, nil
}

// NewIntermediate makes a CA that ca signs, valid for ttl (at most as long
// as ca is).
func (ca *CA) NewIntermediate(ttl time.Duration) (*CA, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl, err := caTemplate(ca.TrustDomain, fmt.Sprintf("%s development intermediate CA", ca.TrustDomain.Name()), cmpTTL(ttl, DefaultCATTL))
	if err != nil {
		return nil, err
	}
	ca.clamp(tmpl)
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	chain := append([]*x509.Certificate{ca.Cert}, ca.Chain...)
	return &CA{TrustDomain: ca.TrustDomain, Cert: cert, Key: key, Chain: chain}, nil
}

// Root returns the root certificate above ca, ca's own when it is a root:
// what a trust bundle holds.
func (ca *CA) Root() *x509.Certificate {
	if len(ca.Chain) == 0 {
		return ca.Cert
	}
	return ca.Chain[len(ca.Chain)-1]
}

// BundlePEM returns the root certificate in PEM: the trust bundle.
func (ca *CA) BundlePEM() []byte { return EncodeCerts(ca.Root()) }

// IssueOptions shape an SVID.
type IssueOptions struct {
	// DNSNames are added as DNS SANs, for clients that check a host name
	// (curl, browsers) besides the SPIFFE ID.
	DNSNames []string
	// TTL is how long the SVID is valid; DefaultTTL when 0. It ends no
	// later than the CA.
	TTL time.Duration
	// Edit, when set, changes the template after it is filled and before
	// it is signed. Tests use it to make the malformed certificates a
	// verifier must refuse.
	Edit func(*x509.Certificate)
}

// SVID is an X.509-SVID and its private key.
type SVID struct {
	ID spiffeid.ID
	// Certificates are the leaf, then the intermediates up to but not
	// including the root, as a workload presents them.
	Certificates []*x509.Certificate
	Key          crypto.Signer
}

// Issue makes an X.509-SVID for id, which must be a workload's ID in ca's
// trust domain: ECDSA P-256, id as its only URI SAN, digitalSignature key
// usage and both client and server authentication extended key usages, as
// SPIRE and csi-driver-spiffe issue them.
func (ca *CA) Issue(id spiffeid.ID, opts IssueOptions) (*SVID, error) {
	switch {
	case id.IsZero():
		return nil, errors.New("no SPIFFE ID")
	case !id.MemberOf(ca.TrustDomain):
		return nil, fmt.Errorf("SPIFFE ID %s is not in the CA's trust domain %s", id, ca.TrustDomain)
	case id.Path() == "":
		return nil, fmt.Errorf("SPIFFE ID %s names the trust domain, not a workload: it needs a path such as /ns/default/sa/default", id)
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{ca.TrustDomain.Name()}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(cmpTTL(opts.TTL, DefaultTTL)),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id.URL()},
		DNSNames:     opts.DNSNames,
	}
	if len(opts.DNSNames) > 0 {
		tmpl.Subject.CommonName = opts.DNSNames[0]
	}
	ca.clamp(tmpl)
	if opts.Edit != nil {
		opts.Edit(tmpl)
	}
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	certs := []*x509.Certificate{cert}
	if len(ca.Chain) > 0 { // an intermediate: it and those above it, but not the root
		certs = append(certs, ca.Cert)
		certs = append(certs, ca.Chain[:len(ca.Chain)-1]...)
	}
	return &SVID{ID: id, Certificates: certs, Key: key}, nil
}

// CertPEM returns the SVID's certificates in PEM, leaf first.
func (s *SVID) CertPEM() []byte { return EncodeCerts(s.Certificates...) }

// KeyPEM returns the private key in PKCS #8 PEM ("PRIVATE KEY"), as SPIRE
// and cert-manager write it.
func (s *SVID) KeyPEM() ([]byte, error) { return encodeKey(s.Key) }

// TLSCertificate returns the SVID as crypto/tls presents it.
func (s *SVID) TLSCertificate() tls.Certificate {
	c := tls.Certificate{PrivateKey: s.Key, Leaf: s.Certificates[0]}
	for _, x := range s.Certificates {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// EncodeCerts returns certs in PEM, in order.
func EncodeCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func caTemplate(td spiffeid.TrustDomain, cn string, ttl time.Duration) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{td.Name()}, CommonName: cn},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(ttl),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		URIs:                  []*url.URL{td.ID().URL()},
	}, nil
}

// clamp ends tmpl's validity no later than ca's: a certificate cannot be
// verified past its issuer's end.
func (ca *CA) clamp(tmpl *x509.Certificate) {
	end := ca.Cert.NotAfter
	for _, c := range ca.Chain {
		if c.NotAfter.Before(end) {
			end = c.NotAfter
		}
	}
	if tmpl.NotAfter.After(end) {
		tmpl.NotAfter = end
	}
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func cmpTTL(ttl, def time.Duration) time.Duration {
	if ttl <= 0 {
		return def
	}
	return ttl
}
