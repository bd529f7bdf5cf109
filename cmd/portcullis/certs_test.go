package main

import (
	"bytes"
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
	"github.com/portcullis-gw/portcullis/waf"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestCertsSession runs the development CA as a newcomer would: init,
// issue, bundle, inspect; every file 0600 and named in the output.
func TestCertsSession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	code, out, errs := runCmd("certs", "init", "--trust-domain", "cluster.local", "--dir", dir)
	if code != 0 || !strings.Contains(out, "wrote "+filepath.Join(dir, "ca.crt")+"\n") || !strings.Contains(out, "wrote "+filepath.Join(dir, "ca.key")+"\n") {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCmd("certs", "init", "--trust-domain", "cluster.local", "--dir", dir)
	if code != 1 || !strings.Contains(errs, "a CA is already there") {
		t.Errorf("a second init: exit %d, stderr %q; want 1 and a refusal", code, errs)
	}
	code, out, errs = runCmd("certs", "issue", "--dir", dir, "--spiffe-id", "spiffe://cluster.local/ns/shop/sa/api", "--dns", "api.shop", "--dns", "localhost", "--ttl", "2h")
	svidDir := filepath.Join(dir, "ns-shop-sa-api")
	if code != 0 || !strings.Contains(out, "issued an X.509-SVID for spiffe://cluster.local/ns/shop/sa/api") {
		t.Fatalf("issue: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, f := range []string{"tls.crt", "tls.key", "ca.crt"} {
		p := filepath.Join(svidDir, f)
		if !strings.Contains(out, "wrote "+p+"\n") {
			t.Errorf("issue output %q does not name %s", out, p)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, fi.Mode().Perm())
		}
	}
	svid, err := x509svid.Load(filepath.Join(svidDir, "tls.crt"), filepath.Join(svidDir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	if leaf := svid.Certificates[0]; strings.Join(leaf.DNSNames, ",") != "api.shop,localhost" || leaf.NotAfter.After(time.Now().Add(2*time.Hour+time.Minute)) {
		t.Errorf("SVID: DNS %v, not after %s; want api.shop,localhost and 2h", leaf.DNSNames, leaf.NotAfter)
	}
	_, bundle, _ := runCmd("certs", "bundle", "--dir", dir)
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if bundle != string(caPEM) {
		t.Errorf("bundle: got %q, want ca.crt", bundle)
	}
	out2 := filepath.Join(t.TempDir(), "bundle.pem")
	if code, out, _ := runCmd("certs", "bundle", "--dir", dir, "--out", out2); code != 0 || !strings.Contains(out, "wrote "+out2) {
		t.Errorf("bundle --out: exit %d, %q", code, out)
	}
	code, out, _ = runCmd("certs", "inspect", "--bundle", filepath.Join(dir, "ca.crt"), filepath.Join(svidDir, "tls.crt"))
	for _, want := range []string{"SPIFFE ID:     spiffe://cluster.local/ns/shop/sa/api", "trust domain:  cluster.local",
		"principal:     cluster.local/ns/shop/sa/api", "namespace:     shop", "issuer:        CN=cluster.local development root CA",
		"verifies against"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`\(expires in (1h59m\d+s|2h0m0s)\)`).MatchString(out) {
		t.Errorf("inspect output lacks the 2h left:\n%s", out)
	}
	if code != 0 || strings.Contains(out, "problem") {
		t.Errorf("inspect of a good SVID: exit %d:\n%s", code, out)
	}
	t.Run("issue refuses another trust domain's ID", func(t *testing.T) {
		code, _, errs := runCmd("certs", "issue", "--dir", dir, "--spiffe-id", "spiffe://example.org/ns/a/sa/b")
		if code != 1 || !strings.Contains(errs, "is not in the CA's trust domain cluster.local") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

// TestCertsUsage checks the help texts and the refusals of bad arguments.
func TestCertsUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args       []string
		code       int
		out, errIn string
	}{
		{[]string{"help"}, 0, "portcullis certs init|issue|bundle|inspect", ""},
		{[]string{"certs", "help"}, 0, "portcullis certs issue --dir DIR --spiffe-id ID", ""},
		{[]string{"certs"}, 2, "", "portcullis certs inspect [--bundle FILE] FILE"},
		{[]string{"certs", "init", "-h"}, 0, "", "portcullis certs init --trust-domain DOMAIN --dir DIR"},
		{[]string{"certs", "frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"certs", "init", "--dir", dir}, 2, "", "--trust-domain is required"},
		{[]string{"certs", "init", "--trust-domain", "Bad_Domain", "--dir", dir}, 2, "", `--trust-domain "Bad_Domain"`},
		{[]string{"certs", "issue", "--dir", dir}, 2, "", "--spiffe-id is required"},
		{[]string{"certs", "issue", "--dir", dir, "--spiffe-id", "cluster.local/ns/a/sa/b"}, 2, "", "scheme is missing or invalid"},
		{[]string{"certs", "issue", "--dir", dir, "--spiffe-id", "spiffe://cluster.local/ns/a/sa/b"}, 1, "", "no CA in " + dir},
		{[]string{"certs", "inspect"}, 2, "", "missing FILE"},
		{[]string{"certs", "inspect", "a", "b"}, 2, "", `unexpected argument "b"`},
		{[]string{"certs", "bundle", "--dir", dir, "extra"}, 2, "", `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCmd(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errIn) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errs, tt.code, tt.out, tt.errIn)
			}
		})
	}
}

// TestCertsInspectProblems inspects hostile certificates and checks that
// each is called out for what is wrong, with exit status 1.
func TestCertsInspectProblems(t *testing.T) {
	td := spiffeid.RequireTrustDomainFromString("cluster.local")
	id := spiffeid.RequireFromString("spiffe://cluster.local/ns/shop/sa/api")
	ca, err := devca.New(td, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	os.WriteFile(bundle, ca.BundlePEM(), 0o600)
	other, _ := devca.New(td, 0)
	write := func(name string, ca *devca.CA, edit func(*x509.Certificate)) string {
		s, err := ca.Issue(id, devca.IssueOptions{Edit: edit})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, s.CertPEM(), 0o600)
		return p
	}
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	tests := []struct {
		name, file, want string
	}{
		{"expired", write("expired.crt", ca, func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-3 * time.Hour) }), "problem: certificate \"O=cluster.local\" expired at"},
		{"not yet valid", write("future.crt", ca, func(c *x509.Certificate) { c.NotBefore = time.Now().Add(time.Hour) }), "is not valid before"},
		{"no URI SAN", write("nouri.crt", ca, func(c *x509.Certificate) { c.URIs = nil }), "problem: the certificate has no URI SAN, so no SPIFFE ID"},
		{"two URI SANs", write("two.crt", ca, func(c *x509.Certificate) { c.URIs = append(c.URIs, u("spiffe://cluster.local/x")) }), "problem: the certificate has 2 URI SANs; an X.509-SVID has exactly one"},
		{"malformed", write("bad.crt", ca, func(c *x509.Certificate) { c.URIs = []*url.URL{u("spiffe://cluster.local/a/../b")} }), "is not a SPIFFE ID"},
		{"server only", write("server.crt", ca, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }), "problem: cannot authenticate a client"},
		{"a signing leaf", write("signing.crt", ca, func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCertSign }), "problem: a CA certificate (or one that may sign certificates) where a workload's SVID belongs"},
		{"another CA", write("other.crt", other, nil), "problem: does not verify against " + bundle + ": peer certificate refused (unknown_ca)"},
		{"not a certificate", func() string { p := filepath.Join(dir, "junk"); os.WriteFile(p, []byte("hello"), 0o600); return p }(), "holds no PEM certificate, nor a DER one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd("certs", "inspect", "--bundle", bundle, tt.file)
			if code != 1 || !strings.Contains(out+errs, tt.want) {
				t.Errorf("got exit %d, output:\n%s%s\nwant 1 and %q", code, out, errs, tt.want)
			}
		})
	}
}

// TestReadmeIdentityExample loads the identity example the README shows,
// with files the development CA makes where it names them.
func TestReadmeIdentityExample(t *testing.T) {
	example := readmeYAML(t, "identity-example")
	dir := t.TempDir()
	ca, _ := devca.New(spiffeid.RequireTrustDomainFromString("cluster.local"), 0)
	partner, _ := devca.New(spiffeid.RequireTrustDomainFromString("partner.example"), 0)
	svid, err := ca.Issue(spiffeid.RequireFromString("spiffe://cluster.local/ns/edge/sa/portcullis"), devca.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devca.WriteSVID(filepath.Join(dir, "spiffe"), svid, ca.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "partner"), 0o700)
	os.WriteFile(filepath.Join(dir, "partner", "ca.crt"), partner.BundlePEM(), 0o600)
	reg, _ := registry(waf.New(waf.Options{}), authz.New(nil))
	cfg, err := routes.Parse(filepath.Join(dir, "README.md"), example, reg)
	if err != nil {
		t.Fatalf("README identity example: %v", err)
	}
	defer cfg.Close()
	if cfg.Identity == nil || len(cfg.Identity.Bundles()) != 3 || cfg.File.Listeners[0].TLS.ClientAuth != "require" {
		t.Errorf("README identity example: got identity %v, want the SVID and three bundles on a listener that requires callers' certificates", cfg.Identity)
	}
}
