package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// mutualTLS builds the client TLS config of tls mode mutual, Istio's
// ISTIO_MUTUAL: the gateway presents its SVID, and accepts the upstream
// only with an X.509-SVID for server authentication that the identity's
// bundles verify, whose ID is one of the expected principals or, when none
// are given, in the gateway's own trust domain or an alias of it. Any other
// upstream fails the handshake, which the pool answers as a connection
// failure (503, flag UF): there is no fallback to less.
//
// The certificate is checked by its SPIFFE ID, not by a host name, so
// crypto/tls's own check is off and VerifyConnection does it; serverName
// is sent as SNI only.
func mutualTLS(c *routes.UpstreamTLS, serverName string, id *identity.Identity) (*tls.Config, error) {
	if id == nil {
		return nil, errors.New("tls mode mutual: the configuration has no identity")
	}
	expect := func(peer spiffeid.ID) bool { return slices.ContainsFunc(id.TrustDomains(), peer.MemberOf) }
	if len(c.ExpectPrincipals) > 0 {
		principals := c.ExpectPrincipals
		expect = func(peer spiffeid.ID) bool { return slices.Contains(principals, identity.NewPeer(peer).Principal) }
	}
	cert := id.SVID.Certificate
	v := id.Verifier()
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         serverName,
		InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			peer, err := v.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, time.Now())
			if err != nil {
				return err
			}
			if !expect(peer) {
				return &identity.Refusal{Reason: identity.UnexpectedID, Err: fmt.Errorf("the upstream is %s, which is not expected", peer)}
			}
			return nil
		},
	}, nil
}
