package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// Reason says why a peer's certificate was refused. Its values are metric
// label values and stable.
type Reason string

// The reasons a peer's certificate is refused.
const (
	NoCertificate Reason = "no_certificate"
	UnknownCA     Reason = "unknown_ca"
	Expired       Reason = "expired"
	NotYetValid   Reason = "not_yet_valid"
	NoClientAuth  Reason = "no_client_auth_usage"
	NoServerAuth  Reason = "no_server_auth_usage"
	CAAsLeaf      Reason = "ca_as_leaf"
	MissingID     Reason = "missing_spiffe_id"
	MalformedID   Reason = "malformed_spiffe_id"
	// MalformedCertificate is a certificate that cannot be parsed.
	MalformedCertificate Reason = "malformed_certificate"
	ForeignTrustDomain   Reason = "foreign_trust_domain"
	MultipleURISANs      Reason = "multiple_uri_sans"
	ChainTooLong         Reason = "chain_too_long"
	BadChain             Reason = "bad_chain"
	// UnexpectedID is an upstream whose verified ID is not one the gateway
	// expects of it.
	UnexpectedID Reason = "unexpected_spiffe_id"
)

// Reasons lists every Reason, so that counters can show each from the start.
var Reasons = []Reason{NoCertificate, UnknownCA, Expired, NotYetValid, NoClientAuth, NoServerAuth, CAAsLeaf,
	MissingID, MalformedID, MalformedCertificate, ForeignTrustDomain, MultipleURISANs, ChainTooLong, BadChain, UnexpectedID}

// MaxIntermediates bounds the CA certificates between a peer's leaf and the
// root that verifies it. Real meshes have none to two (SPIRE's nested
// servers add one per level); a longer chain costs verification time that
// an unauthenticated peer should not get to spend.
const MaxIntermediates = 4

// maxPresented is how many certificates a peer may send: its leaf, the
// intermediates and, as some stacks do, the root.
const maxPresented = MaxIntermediates + 2

// Refusal is a peer certificate refused, with the reason.
type Refusal struct {
	Reason Reason
	Err    error
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("peer certificate refused (%s): %v", r.Reason, r.Err)
}

func (r *Refusal) Unwrap() error { return r.Err }

func refuse(reason Reason, err error) error { return &Refusal{Reason: reason, Err: err} }

// Verifier checks peers' X.509-SVIDs against a set of trust bundles, one
// per trust domain.
type Verifier struct {
	bundles *x509bundle.Set
}

// NewVerifier returns a verifier that trusts bundles.
func NewVerifier(bundles *x509bundle.Set) *Verifier { return &Verifier{bundles: bundles} }

// Verify checks a peer's certificate chain, leaf first, as the TLS
// handshake delivered it, for usage (client or server authentication) at
// now, and returns the peer's SPIFFE ID. A refusal is a *Refusal saying
// why.
//
// The checks that name a reason run before the chain is verified, so the
// reason is the most specific one; go-spiffe's x509svid.Verify then
// verifies the chain to a root of the ID's own trust domain. A leaf
// without an extended key usage extension may be used for any purpose
// (RFC 5280, as Go and OpenSSL read it); one with the extension must list
// usage.
func (v *Verifier) Verify(certs []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) (spiffeid.ID, error) {
	switch {
	case len(certs) == 0:
		return spiffeid.ID{}, refuse(NoCertificate, errors.New("no certificate presented"))
	case len(certs) > maxPresented:
		return spiffeid.ID{}, refuse(ChainTooLong, fmt.Errorf("%d certificates presented, at most %d accepted", len(certs), maxPresented))
	}
	id, problems := LeafProblems(certs[0], now, usage)
	if len(problems) > 0 {
		return id, problems[0]
	}
	if _, ok := v.bundles.Get(id.TrustDomain()); !ok {
		return id, refuse(ForeignTrustDomain, fmt.Errorf("trust domain %q of %s is not trusted", id.TrustDomain().Name(), id))
	}
	for _, c := range certs[1:] {
		if err := validAt(c, now); err != nil {
			return id, err
		}
	}
	_, chains, err := x509svid.Verify(certs, v.bundles, x509svid.WithTime(now))
	if err != nil {
		return id, classify(err)
	}
	if n := shortest(chains); n > MaxIntermediates+2 {
		return id, refuse(ChainTooLong, fmt.Errorf("the chain to a root holds %d certificates, at most %d accepted", n, MaxIntermediates+2))
	}
	return id, nil
}

// LeafProblems returns the SPIFFE ID of an X.509-SVID leaf and every
// reason, each a *Refusal, that the leaf cannot serve for each of usages at
// now: no SPIFFE ID or a malformed one, a CA certificate, an extended key
// usage without one of usages, outside its validity. When the ID cannot be
// read, that is the only problem returned.
func LeafProblems(leaf *x509.Certificate, now time.Time, usages ...x509.ExtKeyUsage) (spiffeid.ID, []error) {
	id, reason, err := IDFromCert(leaf)
	if err != nil {
		return id, []error{refuse(reason, err)}
	}
	var problems []error
	if leaf.IsCA || leaf.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0 {
		problems = append(problems, refuse(CAAsLeaf, errors.New("the leaf is a CA certificate")))
	}
	for _, u := range usages {
		if !hasUsage(leaf, u) {
			r, name := NoClientAuth, "client"
			if u == x509.ExtKeyUsageServerAuth {
				r, name = NoServerAuth, "server"
			}
			problems = append(problems, refuse(r, fmt.Errorf("the leaf's extended key usage does not include %s authentication", name)))
		}
	}
	if err := validAt(leaf, now); err != nil {
		problems = append(problems, err)
	}
	return id, problems
}

func hasUsage(c *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, usage) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func validAt(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return refuse(NotYetValid, fmt.Errorf("certificate %q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339)))
	case now.After(c.NotAfter):
		return refuse(Expired, fmt.Errorf("certificate %q expired at %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339)))
	}
	return nil
}

// classify names the reason of a failed chain verification.
func classify(err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return refuse(UnknownCA, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return refuse(Expired, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.TooManyIntermediates:
		return refuse(ChainTooLong, err)
	}
	return refuse(BadChain, err)
}

func shortest(chains [][]*x509.Certificate) int {
	n := 0
	for i, c := range chains {
		if i == 0 || len(c) < n {
			n = len(c)
		}
	}
	return n
}
