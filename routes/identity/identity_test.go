package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

func pemOf(t testing.TB, s *devca.SVID) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := s.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return s.CertPEM(), k
}

// TestParseSVID reads SVIDs in the key encodings cert-manager and SPIRE
// write, and refuses pairs and certificates that are no SVID.
func TestParseSVID(t *testing.T) {
	ca := newCA(t, clusterLocal)
	s, err := ca.Issue(apiID, devca.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, pkcs8 := pemOf(t, s)
	sec1DER, _ := x509.MarshalECPrivateKey(s.Key.(*ecdsa.PrivateKey))
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	otherKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER})
	noID, err := ca.Issue(apiID, devca.IssueOptions{Edit: func(c *x509.Certificate) { c.URIs = nil }})
	if err != nil {
		t.Fatal(err)
	}
	noIDCert, noIDKey := pemOf(t, noID)
	ic, _ := ca.NewIntermediate(0)
	chained, _ := ic.Issue(apiID, devca.IssueOptions{})
	chainCert, chainKey := pemOf(t, chained)

	tests := []struct {
		name      string
		cert, key []byte
		want      string // "" for a good SVID
	}{
		{"PKCS #8 key (SPIRE, cert-manager)", certPEM, pkcs8, ""},
		{"SEC 1 key", certPEM, sec1, ""},
		{"leaf and intermediate", chainCert, chainKey, ""},
		{"another key", certPEM, otherKey, "private key does not match public key"},
		{"no key", certPEM, nil, "failed to find any PEM data in key input"},
		{"no certificate", nil, pkcs8, "failed to find any PEM data in certificate input"},
		{"no SPIFFE ID", noIDCert, noIDKey, "certificate contains no URI SAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSVID(tt.cert, tt.key)
			if tt.want == "" {
				if err != nil || got.ID != apiID || got.Certificate.Leaf == nil {
					t.Fatalf("got %v, %v; want %s", got, err, apiID)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestParseBundle refuses bundles that verify nothing or hold a leaf.
func TestParseBundle(t *testing.T) {
	ca := newCA(t, clusterLocal)
	leaf := issue(t, ca, apiID, nil)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"a root", ca.BundlePEM(), ""},
		{"two roots", append(ca.BundlePEM(), newCA(t, clusterLocal).BundlePEM()...), ""},
		{"empty", nil, "holds no PEM certificate"},
		{"a key only", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds no PEM certificate"},
		{"a leaf", devca.EncodeCerts(leaf...), "is not a CA"},
		{"garbage in a certificate block", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "cannot parse certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBundle(clusterLocal, tt.data)
			if tt.want == "" {
				if err != nil || b.Empty() {
					t.Fatalf("got %v, want a bundle", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestCheckSVID refuses an SVID that does not belong with its bundle.
func TestCheckSVID(t *testing.T) {
	ca := newCA(t, clusterLocal)
	bundle, err := ParseBundle(clusterLocal, ca.BundlePEM())
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s *devca.SVID) *SVID {
		c, k := pemOf(t, s)
		out, err := ParseSVID(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	good, _ := ca.Issue(apiID, devca.IssueOptions{})
	other := newCA(t, clusterLocal)
	stranger, _ := other.Issue(apiID, devca.IssueOptions{})
	outsideCA := newCA(t, spiffeid.RequireTrustDomainFromString("example.org"))
	outside, _ := outsideCA.Issue(spiffeid.RequireFromString("spiffe://example.org/gw"), devca.IssueOptions{})
	expired, _ := ca.Issue(apiID, devca.IssueOptions{Edit: func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) }})
	future, _ := ca.Issue(apiID, devca.IssueOptions{Edit: func(c *x509.Certificate) { c.NotBefore = time.Now().Add(time.Minute) }})
	later, _ := ca.Issue(apiID, devca.IssueOptions{Edit: func(c *x509.Certificate) { c.NotBefore = time.Now().Add(12 * time.Hour) }})
	tests := []struct {
		name string
		svid *devca.SVID
		want string
	}{
		{"good", good, ""},
		{"issued a moment ahead of our clock", future, ""},
		{"valid only from 12 hours on", later, "is not valid before"},
		{"another CA", stranger, "does not chain to the bundle of cluster.local"},
		{"another trust domain", outside, "is outside the trust domain cluster.local"},
		{"expired", expired, "expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSVID(parse(tt.svid), bundle, time.Now())
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestNewIdentity builds the bundle set: aliases verify with the own
// bundle, and a trust domain may not be given twice.
func TestNewIdentity(t *testing.T) {
	ca := newCA(t, clusterLocal)
	bundle, _ := ParseBundle(clusterLocal, ca.BundlePEM())
	c, k := pemOf(t, func() *devca.SVID { s, _ := ca.Issue(apiID, devca.IssueOptions{}); return s }())
	svid, err := ParseSVID(c, k)
	if err != nil {
		t.Fatal(err)
	}
	old := spiffeid.RequireTrustDomainFromString("old.local")
	partnerTD := spiffeid.RequireTrustDomainFromString("partner.example")
	partner, _ := ParseBundle(partnerTD, newCA(t, partnerTD).BundlePEM())
	id, err := New(svid, bundle, []spiffeid.TrustDomain{old}, partner)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range id.Bundles() {
		names = append(names, b.TrustDomain().Name())
	}
	if got := strings.Join(names, ","); got != "cluster.local,old.local,partner.example" {
		t.Errorf("bundles: got %s, want cluster.local,old.local,partner.example", got)
	}
	aliased := issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://old.local/ns/a/sa/b") })
	if _, err := id.Verifier().Verify(aliased, x509.ExtKeyUsageClientAuth, time.Now()); err != nil {
		t.Errorf("an alias's ID signed by our CA: %v, want accepted", err)
	}
	if _, err := New(svid, bundle, []spiffeid.TrustDomain{clusterLocal}); err == nil {
		t.Error("the own trust domain as its alias: got no error")
	}
	if _, err := New(svid, bundle, []spiffeid.TrustDomain{partnerTD}, partner); err == nil {
		t.Error("a federated trust domain that is also an alias: got no error")
	}
}
