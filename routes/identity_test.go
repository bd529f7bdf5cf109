package routes

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIdentityBlock loads identities in the files csi-driver-spiffe and
// SPIRE's helper write, and checks what the gateway gets: the SVID, the
// bundles by trust domain, the defaults, and the files the watcher follows.
func TestIdentityBlock(t *testing.T) {
	cfg, _, dir, err := loadFixture(t, "testdata/good/identity.yaml")
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	id := cfg.Identity
	if id == nil || id.SVID.ID.String() != "spiffe://cluster.local/ns/edge/sa/gateway" {
		t.Fatalf("identity: got %+v, want the SVID of spiffe://cluster.local/ns/edge/sa/gateway", id)
	}
	var tds []string
	for _, b := range id.Bundles() {
		tds = append(tds, b.TrustDomain().Name())
	}
	if got := strings.Join(tds, ","); got != "cluster.local,old.local,partner.example" {
		t.Errorf("bundles: got %s, want cluster.local,old.local,partner.example", got)
	}
	if got := cfg.File.Listeners[0].TLS.ClientAuth + "," + cfg.File.Listeners[1].TLS.ClientAuth; got != "require,optional" {
		t.Errorf("client_auth: got %s", got)
	}
	files := cfg.Files()
	for _, f := range []string{"spiffe/tls.crt", "spiffe/tls.key", "spiffe/ca.crt", "spiffe/partner.crt"} {
		if !slices.Contains(files, filepath.Join(dir, f)) {
			t.Errorf("Files() %v lacks %s", files, f)
		}
	}

	t.Run("SPIRE's helper files, a chain through an intermediate", func(t *testing.T) {
		cfg, err := Parse(filepath.Join(dir, "spire.yaml"), []byte(`
identity:
  svid: { cert: spire/svid.pem, key: spire/svid_key.pem }
  bundle: spire/svid_bundle.pem
listeners: [ { name: mesh, address: "127.0.0.1:0", tls: { identity: true } } ]
virtual_hosts: [{ name: shop, hosts: ["*"], routes: [{ upstream: shop }] }]
upstreams: [{ name: shop, builtin: echo }]
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cfg.Close()
		if got := len(cfg.Identity.SVID.Certificate.Certificate); got != 2 || cfg.File.Identity.TrustDomain != "cluster.local" {
			t.Errorf("got %d certificates in trust domain %q, want leaf and intermediate in the default cluster.local", got, cfg.File.Identity.TrustDomain)
		}
		if cfg.File.Listeners[0].TLS.ClientAuth != "none" {
			t.Errorf("client_auth: got %q, want the default none", cfg.File.Listeners[0].TLS.ClientAuth)
		}
	})
}
