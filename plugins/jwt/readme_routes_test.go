package jwt

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
)

var routesBlock = regexp.MustCompile("(?ms)^```yaml routes\n(.*?)^```")

func readme(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readmeRoutes loads the README's routes file with its examples as the
// policy files, with the authz and jwt plugins as the binary has them, and
// checks what each route checks.
func readmeRoutes(t *testing.T, readme []byte) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range yamlBlock.FindAllSubmatch(readme, -1) {
		if err := os.WriteFile(filepath.Join(dir, "policies", fmt.Sprintf("example%d.yaml", i+1)), b[1], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	block := routesBlock.FindSubmatch(readme)
	if block == nil {
		t.Fatal("got no routes file in README.md")
	}
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, block[1], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tls"), 0o755); err != nil {
		t.Fatal(err)
	}
	issuerCA := newJWKSServer(t, "{}").caPEM
	if err := os.WriteFile(filepath.Join(dir, "tls", "issuer-ca.pem"), issuerCA, 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := plugins.NewRegistry(authz.New(nil).Factory(), New(Options{}).Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	want := map[string][]string{
		"/api/x":      {"https://login.example.com", "https://sso.example.com", "https://sso.partner.example"},
		"/partners/x": {"https://login.example.com", "https://sso.example.com", "https://sso.partner.example", "https://idp.partner.example"},
	}
	for p, issuers := range want {
		rule, _ := cfg.Table.Match("shop.example.com", p, http.MethodGet, http.Header{})
		i := slices.Index(rule.Chain.Names, Name)
		if i < 0 {
			t.Fatalf("%s: got chain %q, want jwt in it", p, rule.Chain.Names)
		}
		var got []string
		for _, r := range rule.Chain.Handlers[i].(*Handler).rules {
			got = append(got, r.issuer)
		}
		slices.Sort(got)
		slices.Sort(issuers)
		if !slices.Equal(got, issuers) {
			t.Errorf("%s: got rules of %q, want %q", p, got, issuers)
		}
	}
}
