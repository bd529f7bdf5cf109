package identity

import (
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// TestNewPeer reads Istio's principal, namespace and service account from
// SPIFFE IDs, Istio's shape and others.
func TestNewPeer(t *testing.T) {
	tests := []struct {
		id, principal, ns, sa string
	}{
		{"spiffe://cluster.local/ns/shop/sa/api", "cluster.local/ns/shop/sa/api", "shop", "api"},
		{"spiffe://example.org/ns/default/sa/default", "example.org/ns/default/sa/default", "default", "default"},
		{"spiffe://cluster.local/ns/shop/sa/api/extra", "cluster.local/ns/shop/sa/api/extra", "", ""},
		{"spiffe://cluster.local/ns/shop", "cluster.local/ns/shop", "", ""},
		{"spiffe://cluster.local/sa/api/ns/shop", "cluster.local/sa/api/ns/shop", "", ""},
		{"spiffe://cluster.local/x/ns/shop/sa/api", "cluster.local/x/ns/shop/sa/api", "", ""},
		{"spiffe://cluster.local/ns/a/b/sa/c", "cluster.local/ns/a/b/sa/c", "", ""},
		{"spiffe://cluster.local/ns/sa/sa/api", "cluster.local/ns/sa/sa/api", "sa", "api"},
		{"spiffe://cluster.local/billing", "cluster.local/billing", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p := NewPeer(spiffeid.RequireFromString(tt.id))
			if p.Principal != tt.principal || p.Namespace != tt.ns || p.ServiceAccount != tt.sa {
				t.Errorf("got %q %q %q, want %q %q %q", p.Principal, p.Namespace, p.ServiceAccount, tt.principal, tt.ns, tt.sa)
			}
		})
	}
}

// FuzzIDFromCert feeds URI SANs to the ID parser and checks what it
// returns: an ID go-spiffe reads back the same, a principal that is the ID
// without its scheme, and a namespace and service account that are both
// set or both empty, each one path segment.
func FuzzIDFromCert(f *testing.F) {
	for _, s := range []string{
		"spiffe://cluster.local/ns/shop/sa/api", "spiffe://cluster.local", "spiffe://td/ns//sa/x",
		"spiffe://td/ns/a/sa/b/c", "https://td/ns/a/sa/b", "spiffe://TD/x", "spiffe://td/%2e%2e/x", "spiffe://td/a?b#c",
		"spiffe://td:80/x", "spiffe://u@td/x", "spiffe:///x", "spiffe://td/ns/a/sa/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		id, reason, err := IDFromCert(&x509.Certificate{URIs: []*url.URL{u}})
		if err != nil {
			if reason != MalformedID {
				t.Fatalf("%q: reason %q, want %q", s, reason, MalformedID)
			}
			return
		}
		back, err := spiffeid.FromString(id.String())
		if err != nil || back != id || id.Path() == "" {
			t.Fatalf("%q: ID %v does not read back (%v)", s, id, err)
		}
		p := NewPeer(id)
		if "spiffe://"+p.Principal != id.String() {
			t.Fatalf("%q: principal %q is not the ID %s without its scheme", s, p.Principal, id)
		}
		if (p.Namespace == "") != (p.ServiceAccount == "") ||
			strings.Contains(p.Namespace, "/") || strings.Contains(p.ServiceAccount, "/") {
			t.Fatalf("%q: namespace %q, service account %q", s, p.Namespace, p.ServiceAccount)
		}
		if p.Namespace != "" && id.Path() != "/ns/"+p.Namespace+"/sa/"+p.ServiceAccount {
			t.Fatalf("%q: namespace %q and service account %q are not the path %q", s, p.Namespace, p.ServiceAccount, id.Path())
		}
	})
}
