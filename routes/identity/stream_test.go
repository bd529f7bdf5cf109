package identity

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// TestFromWorkloadAPI builds identities from what a Workload API could
// send, and refuses each context that does not make a valid one.
func TestFromWorkloadAPI(t *testing.T) {
	partnerTD := spiffeid.RequireTrustDomainFromString("partner.example")
	oldTD := spiffeid.RequireTrustDomainFromString("old.local")
	ca, other, partner := newCA(t, clusterLocal), newCA(t, clusterLocal), newCA(t, partnerTD)
	gw := spiffeid.RequireFromString("spiffe://cluster.local/ns/edge/sa/gateway")
	svidOf := func(ca *devca.CA, id spiffeid.ID, edit func(*x509.Certificate)) *x509svid.SVID {
		s, err := ca.Issue(id, devca.IssueOptions{Edit: edit})
		if err != nil {
			t.Fatal(err)
		}
		return &x509svid.SVID{ID: s.ID, Certificates: s.Certificates, PrivateKey: s.Key}
	}
	good := svidOf(ca, gw, nil)
	own := x509bundle.FromX509Authorities(clusterLocal, []*x509.Certificate{ca.Root()})
	fed := x509bundle.FromX509Authorities(partnerTD, []*x509.Certificate{partner.Root()})
	leafAsCA := x509bundle.FromX509Authorities(partnerTD, []*x509.Certificate{good.Certificates[0]})
	foreignCA := newCA(t, partnerTD)
	foreign := svidOf(foreignCA, spiffeid.RequireFromString("spiffe://partner.example/ns/edge/sa/gateway"), nil)
	later := svidOf(ca, gw, func(c *x509.Certificate) { c.NotBefore = time.Now().Add(12 * time.Hour) })
	expired := svidOf(ca, gw, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	})

	tests := []struct {
		name    string
		svid    *x509svid.SVID
		bundles []*x509bundle.Bundle
		want    string // an error, or for an identity the trust domains of its bundles
	}{
		{"own and federated bundles", good, []*x509bundle.Bundle{own, fed}, "cluster.local,old.local,partner.example"},
		{"a bundle sent for an alias is not used", good, []*x509bundle.Bundle{own, x509bundle.FromX509Authorities(oldTD, []*x509.Certificate{other.Root()})}, "cluster.local,old.local"},
		{"an SVID outside the trust domain", foreign, []*x509bundle.Bundle{own, x509bundle.FromX509Authorities(partnerTD, []*x509.Certificate{foreignCA.Root()})}, "SPIFFE ID spiffe://partner.example/ns/edge/sa/gateway is outside the trust domain cluster.local"},
		{"no bundle of the trust domain", good, []*x509bundle.Bundle{fed}, "no bundle for the trust domain cluster.local"},
		{"an empty bundle of the trust domain", good, []*x509bundle.Bundle{x509bundle.New(clusterLocal), fed}, "no bundle for the trust domain cluster.local"},
		{"an empty federated bundle", good, []*x509bundle.Bundle{own, x509bundle.New(partnerTD)}, "the bundle of partner.example holds no certificate"},
		{"a federated bundle holding a leaf", good, []*x509bundle.Bundle{own, leafAsCA}, "the bundle of partner.example: certificate"},
		{"own bundle holding a leaf", good, []*x509bundle.Bundle{x509bundle.FromX509Authorities(clusterLocal, []*x509.Certificate{good.Certificates[0]})}, "the bundle of cluster.local: certificate"},
		{"an SVID another CA signed", svidOf(other, gw, nil), []*x509bundle.Bundle{own}, "does not chain to the bundle of cluster.local"},
		{"an SVID valid only from 12 hours on", later, []*x509bundle.Bundle{own}, "is not valid before"},
		{"an expired SVID", expired, []*x509bundle.Bundle{own}, "SVID spiffe://cluster.local/ns/edge/sa/gateway expired at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := FromWorkloadAPI(tc.svid, x509bundle.NewSet(tc.bundles...), clusterLocal, []spiffeid.TrustDomain{oldTD}, time.Now())
			if !strings.HasPrefix(tc.want, "cluster.local,") {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v, want an error saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.SVID.ID != gw || id.SVID.Certificate.Leaf != tc.svid.Certificates[0] || id.SVID.Certificate.PrivateKey != tc.svid.PrivateKey {
				t.Errorf("got SVID %v, want the one sent, with its key", id.SVID.ID)
			}
			var tds []string
			for _, b := range id.Bundles() {
				tds = append(tds, b.TrustDomain().Name())
				if b.TrustDomain() == oldTD && !b.HasX509Authority(ca.Root()) {
					t.Errorf("the alias old.local verifies with %v, want cluster.local's CA", b.X509Authorities()[0].Subject)
				}
			}
			if got := strings.Join(tds, ","); got != tc.want {
				t.Errorf("bundles: got %s, want %s", got, tc.want)
			}
		})
	}
}
