package jwt_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/jwt"
	"github.com/portcullis-gw/portcullis/routes"
)

// load writes a routes file and one policy file, policy.yaml, and loads
// them with the authz and jwt plugins, as the binary does. The caller
// closes the configuration.
func load(t *testing.T, routesYAML, policy string) (*routes.Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(routesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := plugins.NewRegistry(authz.New(nil).Factory(), jwt.New(jwt.Options{}).Factory())
	if err != nil {
		t.Fatal(err)
	}
	return routes.Load(path, reg)
}

const twoRoutes = `listeners: [{ name: web, address: "127.0.0.1:0" }]
policies: [ "policy.yaml" ]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - { name: api, match: { path_prefix: /api/ }, upstream: api }
      - { name: web, match: { path_prefix: /web/ }, upstream: web }
      - { name: named, match: { path_prefix: /named/ }, upstream: web, plugins: [ { jwt: { policies: [ shop/api-tokens ] } } ] }
upstreams:
  - { name: api, builtin: echo, namespace: shop, labels: { app: api } }
  - { name: web, builtin: echo, namespace: shop, labels: { app: web } }
`

const apiTokens = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: api-tokens, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  jwtRules:
  - issuer: https://issuer.example.com
    jwksUri: https://issuer.example.com/keys
`

// TestRoutesChains checks which routes' chains check tokens: those whose
// upstream a document selects, and those that name a document.
func TestRoutesChains(t *testing.T) {
	cfg, err := load(t, twoRoutes, apiTokens)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	for path, want := range map[string]bool{"/api/x": true, "/web/x": false, "/named/x": true} {
		rule, _ := cfg.Table.Match("shop.example.com", path, http.MethodGet, http.Header{})
		if rule == nil {
			t.Fatalf("got no rule for %s", path)
		}
		if got := slices.Contains(rule.Chain.Names, jwt.Name); got != want {
			t.Errorf("%s: got chain %q, want jwt in it: %v", path, rule.Chain.Names, want)
		}
	}
}

// TestRoutesErrors checks that a RequestAuthentication's faults fail the
// load at the policy file's line, and a route that names an unknown one at
// its entry.
func TestRoutesErrors(t *testing.T) {
	bad := apiTokens + "    fromParams: [\"\"]\n"
	_, err := load(t, twoRoutes, bad)
	var errs routes.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("got %v, want one error", err)
	}
	if e := errs[0]; filepath.Base(e.File) != "policy.yaml" || e.Line != 9 ||
		e.Msg != `RequestAuthentication shop/api-tokens: jwtRules[0].fromParams[0]: location query must be non-empty string` {
		t.Errorf("got %s:%d: %s, want policy.yaml:9 and the field", e.File, e.Line, e.Msg)
	}

	unknown := `listeners: [{ name: web, address: "127.0.0.1:0" }]
policies: [ "policy.yaml" ]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - { name: named, upstream: web, plugins: [ { jwt: { policies: [ shop/none ] } } ] }
upstreams:
  - { name: web, builtin: echo, namespace: shop }
`
	_, err = load(t, unknown, apiTokens)
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 7 {
		t.Fatalf("got %v, want one error at line 7", err)
	}
	if want := `no RequestAuthentication "shop/none" is loaded`; !strings.Contains(errs[0].Msg, want) {
		t.Errorf("got %q, want it to say %q", errs[0].Msg, want)
	}
}

// TestRoutesWithoutUpstream checks that a redirect is checked by the root
// namespace's documents without a selector, and by no other.
func TestRoutesWithoutUpstream(t *testing.T) {
	file := `listeners: [{ name: web, address: "127.0.0.1:0" }]
policies: [ "policy.yaml" ]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - { name: moved, match: { path: /moved }, redirect: { path: /new } }
`
	root := strings.Replace(strings.Replace(apiTokens, "namespace: shop", "namespace: istio-system", 1), "  selector: { matchLabels: { app: api } }\n", "", 1)
	for _, tt := range []struct {
		name, policy string
		want         bool
	}{{"root namespace", root, true}, {"workload namespace", apiTokens, false}} {
		cfg, err := load(t, file, tt.policy)
		if err != nil {
			t.Fatal(err)
		}
		rule, _ := cfg.Table.Match("shop.example.com", "/moved", http.MethodGet, http.Header{})
		if got := slices.Contains(rule.Chain.Names, jwt.Name); got != tt.want {
			t.Errorf("%s: got chain %q, want jwt in it: %v", tt.name, rule.Chain.Names, tt.want)
		}
		cfg.Close()
	}
}
