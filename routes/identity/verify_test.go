package identity

import (
	"crypto/x509"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

var (
	clusterLocal = spiffeid.RequireTrustDomainFromString("cluster.local")
	apiID        = spiffeid.RequireFromString("spiffe://cluster.local/ns/shop/sa/api")
)

func newCA(t testing.TB, td spiffeid.TrustDomain) *devca.CA {
	t.Helper()
	ca, err := devca.New(td, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t testing.TB, ca *devca.CA, id spiffeid.ID, edit func(*x509.Certificate)) []*x509.Certificate {
	t.Helper()
	s, err := ca.Issue(id, devca.IssueOptions{Edit: edit})
	if err != nil {
		t.Fatal(err)
	}
	return s.Certificates
}

func uris(t testing.TB, raw ...string) []*url.URL {
	var out []*url.URL
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// TestVerifyRefusals presents the hostile certificates a caller may send
// and checks each is refused with its reason, and that the good ones pass.
func TestVerifyRefusals(t *testing.T) {
	ca := newCA(t, clusterLocal)
	partnerTD := spiffeid.RequireTrustDomainFromString("partner.example")
	partner := newCA(t, partnerTD)
	stranger := newCA(t, clusterLocal) // same trust domain, another root
	oldTD := spiffeid.RequireTrustDomainFromString("old.local")
	own := x509bundle.FromX509Authorities(clusterLocal, []*x509.Certificate{ca.Cert})
	v := NewVerifier(x509bundle.NewSet(own,
		x509bundle.FromX509Authorities(oldTD, []*x509.Certificate{ca.Cert}),
		x509bundle.FromX509Authorities(partnerTD, []*x509.Certificate{partner.Cert})))

	deep := ca
	var chain []*devca.CA
	for i := 0; i < MaxIntermediates+1; i++ {
		next, err := deep.NewIntermediate(0)
		if err != nil {
			t.Fatal(err)
		}
		deep = next
		chain = append(chain, next)
	}
	within := chain[MaxIntermediates-1] // MaxIntermediates between leaf and root
	now := time.Now()
	tests := []struct {
		name   string
		certs  []*x509.Certificate
		usage  x509.ExtKeyUsage
		want   Reason // "" for accepted
		wantID string
	}{
		{"a good SVID", issue(t, ca, apiID, nil), x509.ExtKeyUsageClientAuth, "", apiID.String()},
		{"a good SVID as a server", issue(t, ca, apiID, nil), x509.ExtKeyUsageServerAuth, "", apiID.String()},
		{"through the longest chain accepted", issue(t, within, apiID, nil), x509.ExtKeyUsageClientAuth, "", apiID.String()},
		{"no extended key usage at all", issue(t, ca, apiID, func(c *x509.Certificate) { c.ExtKeyUsage = nil }), x509.ExtKeyUsageClientAuth, "", apiID.String()},
		{"an ID in a trust domain alias", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://old.local/ns/shop/sa/api") }), x509.ExtKeyUsageClientAuth, "", "spiffe://old.local/ns/shop/sa/api"},
		{"a federated trust domain's SVID", issue(t, partner, spiffeid.RequireFromString("spiffe://partner.example/billing"), nil), x509.ExtKeyUsageClientAuth, "", "spiffe://partner.example/billing"},

		{"no certificate", nil, x509.ExtKeyUsageClientAuth, NoCertificate, ""},
		{"from an unknown CA", issue(t, stranger, apiID, nil), x509.ExtKeyUsageClientAuth, UnknownCA, ""},
		{"our CA signing a federated trust domain's ID", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://partner.example/billing") }), x509.ExtKeyUsageClientAuth, UnknownCA, ""},
		{"expired", issue(t, ca, apiID, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-2*time.Hour), now.Add(-time.Hour) }), x509.ExtKeyUsageClientAuth, Expired, ""},
		{"not yet valid", issue(t, ca, apiID, func(c *x509.Certificate) { c.NotBefore = now.Add(time.Hour) }), x509.ExtKeyUsageClientAuth, NotYetValid, ""},
		{"server auth only", issue(t, ca, apiID, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }), x509.ExtKeyUsageClientAuth, NoClientAuth, ""},
		{"client auth only, as a server", issue(t, ca, apiID, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), x509.ExtKeyUsageServerAuth, NoServerAuth, ""},
		{"a CA certificate as the leaf", issue(t, ca, apiID, func(c *x509.Certificate) {
			c.IsCA, c.BasicConstraintsValid, c.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		}), x509.ExtKeyUsageClientAuth, CAAsLeaf, ""},
		{"a leaf that signs certificates", issue(t, ca, apiID, func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCertSign }), x509.ExtKeyUsageClientAuth, CAAsLeaf, ""},
		{"no URI SAN", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = nil; c.DNSNames = []string{"api.shop"} }), x509.ExtKeyUsageClientAuth, MissingID, ""},
		{"an https URI", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "https://cluster.local/ns/shop/sa/api") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"an upper-case trust domain", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://Cluster.Local/ns/shop/sa/api") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"a dot segment", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://cluster.local/ns/../sa/api") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"a query", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://cluster.local/ns/shop/sa/api?x=1") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"a port", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://cluster.local:443/ns/shop/sa/api") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"the trust domain's own ID", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://cluster.local") }), x509.ExtKeyUsageClientAuth, MalformedID, ""},
		{"a foreign trust domain", issue(t, ca, apiID, func(c *x509.Certificate) { c.URIs = uris(t, "spiffe://evil.example/ns/shop/sa/api") }), x509.ExtKeyUsageClientAuth, ForeignTrustDomain, ""},
		{"two URI SANs", issue(t, ca, apiID, func(c *x509.Certificate) {
			c.URIs = uris(t, "spiffe://cluster.local/ns/shop/sa/api", "spiffe://cluster.local/ns/kube-system/sa/admin")
		}), x509.ExtKeyUsageClientAuth, MultipleURISANs, ""},
		{"one intermediate too many", issue(t, deep, apiID, nil), x509.ExtKeyUsageClientAuth, ChainTooLong, ""},
		{"more certificates than a chain may hold", append(issue(t, deep, apiID, nil), ca.Cert), x509.ExtKeyUsageClientAuth, ChainTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(tt.certs, tt.usage, now)
			if tt.want == "" {
				if err != nil || id.String() != tt.wantID {
					t.Fatalf("got %v, %v; want %s accepted", id, err, tt.wantID)
				}
				return
			}
			var r *Refusal
			if !errors.As(err, &r) || r.Reason != tt.want {
				t.Fatalf("got %v, %v; want a refusal for %s", id, err, tt.want)
			}
		})
	}
	t.Run("an intermediate past its end", func(t *testing.T) {
		ic, err := ca.NewIntermediate(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		certs := issue(t, ic, apiID, func(c *x509.Certificate) { c.NotAfter = now.Add(2 * time.Hour) })
		_, err = v.Verify(certs, x509.ExtKeyUsageClientAuth, now.Add(90*time.Minute))
		if r, ok := errors.AsType[*Refusal](err); !ok || r.Reason != Expired {
			t.Fatalf("got %v, want a refusal for %s", err, Expired)
		}
	})
}

// FuzzVerify hands the verifier certificate chains made of fuzzed DER. It
// must not panic, must refuse with a known reason, and may accept only a
// leaf the CA issued.
func FuzzVerify(f *testing.F) {
	ca := newCA(f, clusterLocal)
	v := NewVerifier(x509bundle.NewSet(x509bundle.FromX509Authorities(clusterLocal, []*x509.Certificate{ca.Cert})))
	issued := map[string]bool{}
	ic, err := ca.NewIntermediate(0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]*x509.Certificate{issue(f, ca, apiID, nil), issue(f, ic, apiID, nil)} {
		issued[string(s[0].Raw)] = true
		var der []byte
		for _, c := range s {
			der = append(der, c.Raw...)
		}
		f.Add(der)
	}
	f.Add(ca.Cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		certs, err := x509.ParseCertificates(der)
		if err != nil {
			return
		}
		_, err = v.Verify(certs, x509.ExtKeyUsageClientAuth, time.Now())
		if err == nil {
			if !issued[string(certs[0].Raw)] {
				t.Fatalf("accepted a leaf the CA did not issue: %v", certs[0].Subject)
			}
			return
		}
		r, ok := errors.AsType[*Refusal](err)
		if !ok || !slices.Contains(Reasons, r.Reason) {
			t.Fatalf("got %v, want a refusal with a known reason", err)
		}
	})
}
