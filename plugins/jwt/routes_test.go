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

// TestRoutesSection loads the top-level jwt block and reports each fault
// of it at its line, with the field.
func TestRoutesSection(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, block string
		line        int
		msg         string // "" for a file that loads
	}{
		{"defaults", "jwt: {}\n", 0, ""},
		{"timeout", "jwt:\n  jwks_fetch: { timeout: 2s }\n", 0, ""},
		{"negative timeout", "jwt:\n  jwks_fetch:\n    timeout: -1s\n", 15, "jwt.jwks_fetch.timeout: invalid duration \"-1s\": must not be negative"},
		{"timeout not a duration", "jwt:\n  jwks_fetch:\n    timeout: soon\n", 15, "soon"},
		{"missing ca_file", "jwt:\n  jwks_fetch:\n    ca_file: none.pem\n", 15, "jwt.jwks_fetch.ca_file: open "},
		{"ca_file without a certificate", "jwt:\n  jwks_fetch:\n    ca_file: " + notPEM + "\n", 15, "holds no PEM certificate"},
		{"unknown key", "jwt:\n  jwks_fetch:\n    ca: x.pem\n", 15, "ca"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, twoRoutes+tt.block, apiTokens)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("got %v, want the file loaded", err)
				}
				cfg.Close()
				return
			}
			var errs routes.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("got %v, want one error", err)
			}
			if e := errs[0]; e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got line %d: %s, want line %d and %q", e.Line, e.Msg, tt.line, tt.msg)
			}
		})
	}
}
