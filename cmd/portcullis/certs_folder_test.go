package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// TestSVIDDirName checks that the default folder of an ID keeps the
// familiar spelling of a plain ID and is never another ID's: paths that
// differ only in where a '-', '_' or '/' stands get distinct folders.
func TestSVIDDirName(t *testing.T) {
	if got := svidDirName(spiffeid.RequireFromString("spiffe://cluster.local/ns/shop/sa/api")); got != "ns-shop-sa-api" {
		t.Errorf("got %q, want ns-shop-sa-api", got)
	}
	paths := []string{"/a-b", "/a/b", "/a_b", "/a--b", "/a/-b", "/a-/b", "/a_-b", "/a/_b", "/a_/b", "/a__b", "/a_/-b", "/a-_b",
		"/a/b/c", "/a-b-c", "/a/b-c", "/a-b/c", "/-/-", "/--", "/_-", "/-_", "/a_--b", "/a_/_b"}
	seen := map[string]string{}
	for _, p := range paths {
		name := svidDirName(spiffeid.RequireFromString("spiffe://cluster.local" + p))
		if other, dup := seen[name]; dup {
			t.Errorf("%s and %s share the folder %q", other, p, name)
		}
		seen[name] = p
		if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
			t.Errorf("%s: folder %q is not one plain name", p, name)
		}
	}
}

// TestCertsIssueKeepsOthersFiles issues IDs whose folders once collided
// into one CA folder, then tries to write one ID over another's files:
// issue refuses and the files stay as they were; renewing an ID's own
// files works.
func TestCertsIssueKeepsOthersFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, errs := runCmd("certs", "init", "--trust-domain", "cluster.local", "--dir", dir); code != 0 {
		t.Fatal(errs)
	}
	issue := func(id string, extra ...string) (int, string) {
		code, _, errs := runCmd(append([]string{"certs", "issue", "--dir", dir, "--spiffe-id", id}, extra...)...)
		return code, errs
	}
	ids := []string{"spiffe://cluster.local/a-b", "spiffe://cluster.local/a/b"}
	for _, id := range ids {
		if code, errs := issue(id); code != 0 {
			t.Fatalf("issue %s: exit %d, %s", id, code, errs)
		}
	}
	holder := func(folder string) string {
		t.Helper()
		s, err := x509svid.Load(filepath.Join(folder, "tls.crt"), filepath.Join(folder, "tls.key"))
		if err != nil {
			t.Fatal(err)
		}
		return s.ID.String()
	}
	for _, id := range ids {
		if got := holder(filepath.Join(dir, svidDirName(spiffeid.RequireFromString(id)))); got != id {
			t.Errorf("the folder of %s holds %s", id, got)
		}
	}
	first := filepath.Join(dir, svidDirName(spiffeid.RequireFromString(ids[0])))
	before, _ := os.ReadFile(filepath.Join(first, "tls.crt"))
	code, errs := issue(ids[1], "--out-dir", first)
	if code != 1 || !strings.Contains(errs, "holds the SVID of "+ids[0]) {
		t.Errorf("issue over another's files: exit %d, %q; want 1 and a refusal naming %s", code, errs, ids[0])
	}
	if after, _ := os.ReadFile(filepath.Join(first, "tls.crt")); string(after) != string(before) {
		t.Error("the refused issue changed the other ID's certificate")
	}
	if code, errs := issue(ids[0]); code != 0 {
		t.Errorf("renewing %s: exit %d, %s", ids[0], code, errs)
	}
	if after, _ := os.ReadFile(filepath.Join(first, "tls.crt")); string(after) == string(before) {
		t.Error("renewing did not write a new certificate")
	}
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "tls.crt"), []byte("not a certificate"), 0o600)
	if code, errs := issue(ids[0], "--out-dir", junk); code != 1 || !strings.Contains(errs, "holds no certificate") {
		t.Errorf("issue over a foreign tls.crt: exit %d, %q; want 1 and a refusal", code, errs)
	}
}
