package jwt

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/portcullis-gw/portcullis/plugins"
)

// openSection opens sec with one RequestAuthentication in namespace shop
// whose keys come from jwksURI, and returns the handler of a workload
// there.
func openSection(t *testing.T, sec *Section, jwksURI string) (*Handler, *Set) {
	t.Helper()
	return openWith(t, New(Options{Now: func() time.Time { return t0 }, RetryInterval: time.Hour}), sec, jwksURI)
}

// openWith is openSection with the plugin p.
func openWith(t *testing.T, p *Plugin, sec *Section, jwksURI string) (*Handler, *Set) {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	ra := "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: ra, namespace: shop }\n" +
		"spec:\n  jwtRules:\n  - issuer: " + issuer + "\n    jwksUri: " + jwksURI + "\n"
	if err := os.WriteFile(policy, []byte(ra), 0o644); err != nil {
		t.Fatal(err)
	}
	sec.SetPolicies(plugins.Policies{Files: []string{policy}})
	sc, err := p.open(sec)
	if err != nil {
		t.Fatal(err)
	}
	h, err := sc.(*Scope).Guard(plugins.Workload{Namespace: "shop"}, nil)
	if err != nil || h == nil {
		t.Fatalf("got handler %v and error %v, want a handler", h, err)
	}
	t.Cleanup(func() { h.(*Handler).Close(); sc.Close() })
	return h.(*Handler), sc.(*Scope).set
}

// TestSectionCAFile fetches keys from an issuer whose certificate a private
// CA signed: refused with the system's roots alone, verified once the
// section's ca_file names the CA.
func TestSectionCAFile(t *testing.T) {
	es := keyFor(jose.ES256)
	srv := newJWKSServer(t, jwks(t, es))
	tok := sign(t, es, claims(), nil)

	h, _ := openSection(t, &Section{}, srv.url)
	_, err := run(t, h, "/", bearer(tok))
	if rej := rejection(err); rej == nil || rej.Body != statusFetchFail {
		t.Errorf("system roots: got %v, want %q", err, statusFetchFail)
	}

	ca := filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(ca, srv.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ = openSection(t, &Section{JWKSFetch: JWKSFetch{CAFile: plugins.FilePath(ca)}}, srv.url)
	if req, err := run(t, h, "/", bearer(tok)); err != nil || req.Auth == nil {
		t.Errorf("ca_file: got %v and Auth %v, want the token verified", err, req.Auth)
	}
}

// TestSectionTimeout bounds the fetches of rules without a timeout of
// their own by the section's timeout, and leaves 5s, Istio's, without it.
func TestSectionTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  time.Duration
		want time.Duration
	}{
		{"default", 0, 5 * time.Second},
		{"set", 1500 * time.Millisecond, 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, set := openSection(t, &Section{JWKSFetch: JWKSFetch{Timeout: tc.set}}, "https://127.0.0.1:1/jwks")
			if got := set.remotes["https://127.0.0.1:1/jwks"].timeout; got != tc.want {
				t.Errorf("got timeout %s, want %s", got, tc.want)
			}
		})
	}
}
