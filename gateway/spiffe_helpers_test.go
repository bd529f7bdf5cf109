package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// gatewayID is the SPIFFE ID the tests give the gateway.
const gatewayID = "spiffe://cluster.local/ns/edge/sa/gateway"

var clusterLocal = spiffeid.RequireTrustDomainFromString("cluster.local")

// newDevCA returns a development CA of cluster.local for one test.
func newDevCA(t testing.TB) *devca.CA {
	t.Helper()
	ca, err := devca.New(clusterLocal, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issueSVID issues an SVID for id; edit, when given, changes the
// certificate before it is signed.
func issueSVID(t testing.TB, ca *devca.CA, id string, edit func(*x509.Certificate)) *devca.SVID {
	t.Helper()
	s, err := ca.Issue(spiffeid.RequireFromString(id), devca.IssueOptions{Edit: edit})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// svidFiles returns an SVID's files as csi-driver-spiffe writes them, with
// the bundle holding the roots of cas.
func svidFiles(t testing.TB, s *devca.SVID, cas ...*devca.CA) map[string][]byte {
	t.Helper()
	key, err := s.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	var bundle []byte
	for _, ca := range cas {
		bundle = append(bundle, ca.BundlePEM()...)
	}
	return map[string][]byte{devca.CertFile: s.CertPEM(), devca.KeyFile: key, devca.BundleFile: bundle}
}

// meshClientTLS is a caller's TLS configuration: it presents svid (none
// when nil) and accepts the gateway only with a server SVID that verifies
// against the roots of trust.
func meshClientTLS(svid *devca.SVID, trust ...*devca.CA) *tls.Config {
	var roots []*x509.Certificate
	for _, ca := range trust {
		roots = append(roots, ca.Root())
	}
	v := identity.NewVerifier(x509bundle.NewSet(x509bundle.FromX509Authorities(clusterLocal, roots)))
	c := &tls.Config{
		// The gateway is verified by its SPIFFE ID below, not by a host
		// name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := v.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, time.Now())
			if err == nil && id.String() != gatewayID {
				return &identity.Refusal{Reason: identity.BadChain, Err: errWrongServer(id.String())}
			}
			return err
		},
	}
	if svid != nil {
		c.Certificates = []tls.Certificate{svid.TLSCertificate()}
	}
	return c
}

type errWrongServer string

func (e errWrongServer) Error() string { return "the server is " + string(e) + ", not " + gatewayID }

func mustTD(t testing.TB, name string) spiffeid.TrustDomain {
	t.Helper()
	td, err := spiffeid.TrustDomainFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	return td
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
