package devca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

var (
	td    = spiffeid.RequireTrustDomainFromString("cluster.local")
	apiID = spiffeid.RequireFromString("spiffe://cluster.local/ns/shop/sa/api")
)

// TestIssue checks an issued SVID as go-spiffe reads it: the ID, the key
// type, the usages, the chain to the root.
func TestIssue(t *testing.T) {
	root, err := New(td, 0)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range []*CA{root, inter} {
		s, err := ca.Issue(apiID, IssueOptions{DNSNames: []string{"api.shop.svc"}, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, err := s.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := x509svid.Parse(s.CertPEM(), keyPEM)
		if err != nil {
			t.Fatalf("go-spiffe refuses the SVID: %v", err)
		}
		leaf := parsed.Certificates[0]
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		switch {
		case parsed.ID != apiID:
			t.Errorf("ID: got %s, want %s", parsed.ID, apiID)
		case !ok || pub.Curve != elliptic.P256():
			t.Errorf("key: got %T, want ECDSA P-256", leaf.PublicKey)
		case !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}):
			t.Errorf("extended key usage: got %v, want server and client auth", leaf.ExtKeyUsage)
		case leaf.KeyUsage != x509.KeyUsageDigitalSignature || leaf.IsCA:
			t.Errorf("key usage %v, CA %v: want digitalSignature only, no CA", leaf.KeyUsage, leaf.IsCA)
		case !slices.Equal(leaf.DNSNames, []string{"api.shop.svc"}):
			t.Errorf("DNS names: got %v", leaf.DNSNames)
		case leaf.NotAfter.Sub(leaf.NotBefore) != time.Hour+backdate:
			t.Errorf("validity: got %s, want 1h after a %s backdate", leaf.NotAfter.Sub(leaf.NotBefore), backdate)
		}
		bundle, err := x509bundle.Parse(td, ca.BundlePEM())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := x509svid.Verify(parsed.Certificates, bundle); err != nil {
			t.Errorf("the SVID does not verify against the bundle: %v", err)
		}
	}
	for _, bad := range []string{"spiffe://example.org/ns/shop/sa/api", "spiffe://cluster.local"} {
		if _, err := root.Issue(spiffeid.RequireFromString(bad), IssueOptions{}); err == nil {
			t.Errorf("issued %s, want a refusal", bad)
		}
	}
	short, _ := root.NewIntermediate(time.Hour)
	s, _ := short.Issue(apiID, IssueOptions{TTL: 48 * time.Hour})
	if s.Certificates[0].NotAfter.After(short.Cert.NotAfter) {
		t.Errorf("an SVID outlives its issuer: %s after %s", s.Certificates[0].NotAfter, short.Cert.NotAfter)
	}
}

// TestSaveLoad keeps a CA in a directory: files 0600, no overwrite, and the
// same CA read back.
func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := New(td, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := ca.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(paths, dir) {
		fi, err := os.Stat(p)
		want := os.FileMode(0o600)
		if p == dir {
			want = 0o700
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	again, _ := New(td, 0)
	if _, err := again.Save(dir); err == nil || !strings.Contains(err.Error(), "a CA is already there") {
		t.Errorf("second save: got %v, want a refusal", err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert.Equal(ca.Cert) || loaded.TrustDomain != td {
		t.Errorf("loaded %s of %s, want the saved CA", loaded.Cert.Subject, loaded.TrustDomain)
	}
	os.WriteFile(filepath.Join(dir, CAKeyFile), mustKeyPEM(t), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("a foreign key: got %v, want a refusal", err)
	}
}

func mustKeyPEM(t *testing.T) []byte {
	k, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriteSVID writes the csi-driver-spiffe shape, each file 0600, and
// replaces files that are there.
func TestWriteSVID(t *testing.T) {
	ca, _ := New(td, 0)
	dir := filepath.Join(t.TempDir(), "api")
	for range 2 {
		s, err := ca.Issue(apiID, IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		paths, err := WriteSVID(dir, s, ca.BundlePEM())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range paths {
			names = append(names, filepath.Base(p))
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
			}
		}
		if got := strings.Join(names, ","); got != "tls.key,tls.crt,ca.crt" {
			t.Errorf("files: got %s", got)
		}
		if _, err := x509svid.Load(paths[1], paths[0]); err != nil {
			t.Errorf("go-spiffe cannot load the written SVID: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("the directory holds %d files, want 3 (no temporary files left)", len(entries))
	}
}
