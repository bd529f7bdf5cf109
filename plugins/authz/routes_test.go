package authz_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes"
)

// seedPolicy is DESIGN.md's example, unchanged.
const seedPolicy = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: allow-specific-namespaces, namespace: target-app-namespace }
spec:
  rules:
  - from: [ { source: { namespaces: ["allowed-namespace"] } } ]
    to:   [ { operation: { paths: ["/allowed-path/*"] } } ]
`

// rootDeny is a mesh-wide DENY in the root namespace.
const rootDeny = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-debug, namespace: istio-system }
spec:
  action: DENY
  rules: [ { to: [ { operation: { paths: ["/debug/*"] } } ] } ]
`

const routesFile = `listeners:
  - { name: web, address: "127.0.0.1:0" }
policies: [ "policies/*.yaml" ]
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - name: app
        match: { path_prefix: /allowed-path/ }
        upstream: app
      - name: other
        match: { path_prefix: /other/ }
        upstream: other
      - name: moved
        match: { path: /moved }
        redirect: { path: /allowed-path/new }
      - name: named
        match: { path_prefix: /named/ }
        upstream: other
        plugins: [ { authz: { policies: [ target-app-namespace/allow-specific-namespaces ] } } ]
upstreams:
  - { name: app, builtin: echo, namespace: target-app-namespace, labels: { app: target } }
  - { name: other, builtin: echo, namespace: elsewhere }
`

// write puts the routes file and policy files in a new directory.
func write(t *testing.T, routesYAML string, policies map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range policies {
		if err := os.WriteFile(filepath.Join(dir, "policies", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(routesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func registry(t *testing.T) *plugins.Registry {
	t.Helper()
	reg, err := plugins.NewRegistry(authz.New(nil).Factory())
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func loadRoutes(t *testing.T, routesYAML string, policies map[string]string) *routes.Config {
	t.Helper()
	cfg, err := routes.Load(write(t, routesYAML, policies), registry(t))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { _ = cfg.Close() })
	return cfg
}

// decide routes a request as the gateway does and runs the route's chain.
func decide(t *testing.T, cfg *routes.Config, path, principal string) (string, error) {
	t.Helper()
	rule, _ := cfg.Table.Match("svc", path, "GET", http.Header{})
	if rule == nil {
		t.Fatalf("no route for %s", path)
	}
	r := plugintest.Get(nil)
	r.RequestView.(*plugins.StdRequest).SetTarget(path, "")
	if principal != "" {
		ns := strings.Split(principal, "/")[2]
		r.Identity = &plugins.Identity{Principal: principal, SPIFFEID: "spiffe://" + principal, TrustDomain: "cluster.local", Namespace: ns}
	}
	return rule.Name, rule.Chain.HandleRequest(context.Background(), r)
}

// TestRoutesGuard: policies guard the routes whose upstream they select,
// without the routes naming the plugin; a route may also name policies;
// routes without an upstream are guarded by the root namespace's.
func TestRoutesGuard(t *testing.T) {
	cfg := loadRoutes(t, routesFile, map[string]string{"seed.yaml": seedPolicy, "root.yaml": rootDeny})
	allowed := "cluster.local/ns/allowed-namespace/sa/client"
	other := "cluster.local/ns/other/sa/client"
	cases := []struct {
		path, principal string
		want            string // "" allowed, else the details
	}{
		{"/allowed-path/x", allowed, ""},
		{"/allowed-path/x", other, authz.DetailsNone},
		{"/allowed-path/x", "", authz.DetailsNone},
		{"/other/x", other, ""}, // elsewhere: no ALLOW policy applies
		{"/moved", other, ""},   // no upstream: only root policies
		{"/named/x", other, authz.DetailsNone},
		{"/named/allowed-path/x", allowed, authz.DetailsNone}, // named, and its path does not match
	}
	for _, c := range cases {
		name, err := decide(t, cfg, c.path, c.principal)
		var rej *plugins.Reject
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s (route %s) as %q: got %v, want allowed", c.path, name, c.principal, err)
		case c.want != "" && (!errors.As(err, &rej) || rej.Details != c.want || rej.Status != 403 || rej.Body != "RBAC: access denied"):
			t.Errorf("%s (route %s) as %q: got %v, want 403 %s", c.path, name, c.principal, err, c.want)
		}
	}
	seedOnly := loadRoutes(t, routesFile, map[string]string{"seed.yaml": seedPolicy})
	for _, route := range []string{"/other/x", "/moved"} {
		rule, _ := seedOnly.Table.Match("svc", route, "GET", http.Header{})
		if slices.Contains(rule.Chain.Names, "authz") {
			t.Errorf("route %s: got authz in its chain %v, want none (no policy applies)", rule.Name, rule.Chain.Names)
		}
	}
	if !slices.ContainsFunc(cfg.Files(), func(f string) bool { return strings.HasSuffix(f, "seed.yaml") }) {
		t.Errorf("got watched files %v, want the policy files among them", cfg.Files())
	}
}

// TestRoutesRootPolicies: a root-namespace DENY guards every route,
// upstream or not.
func TestRoutesRootPolicies(t *testing.T) {
	file := strings.Replace(routesFile, "match: { path: /moved }", "match: { path: /debug/moved }", 1)
	cfg := loadRoutes(t, file, map[string]string{"root.yaml": rootDeny, "seed.yaml": seedPolicy})
	_, err := decide(t, cfg, "/debug/moved", "")
	var rej *plugins.Reject
	if !errors.As(err, &rej) || rej.Details != "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-debug]-rule[0]]" {
		t.Errorf("got %v, want the root DENY", err)
	}
}

// TestRoutesPolicyErrors: a bad policy fails the load with its own file
// and line, as does a glob that names no file and a route that names a
// policy not loaded.
func TestRoutesPolicyErrors(t *testing.T) {
	bad := strings.Replace(seedPolicy, `paths: ["/allowed-path/*"]`, `ports: ["http"]`, 1)
	cases := []struct {
		name, routes string
		policies     map[string]string
		want         []string
	}{
		{"bad policy", routesFile, map[string]string{"seed.yaml": bad},
			[]string{"policies/seed.yaml:7:36: AuthorizationPolicy target-app-namespace/allow-specific-namespaces: bad port (http)"}},
		{"no file", routesFile, nil, []string{`routes.yaml:3:13: policies[0]: no file matches "policies/*.yaml"`}},
		{"unknown named policy", routesFile, map[string]string{"root.yaml": rootDeny},
			[]string{`route "named": plugins[0] authz: policies: no policy "target-app-namespace/allow-specific-namespaces" is loaded`}},
		{"bad mesh", strings.Replace(routesFile, "policies:", "mesh: { path_normalization: strict, num_trusted_proxies: -1 }\npolicies:", 1),
			map[string]string{"root.yaml": rootDeny},
			[]string{`mesh: path_normalization: unknown value "strict"`, "mesh: num_trusted_proxies: must not be negative"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := routes.Load(write(t, c.routes, c.policies), registry(t))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got\n%v\nwant %q", err, w)
				}
			}
		})
	}
}

// TestRoutesMesh: every mesh setting is reachable from the routes file.
func TestRoutesMesh(t *testing.T) {
	policies := map[string]string{"root.yaml": strings.Replace(rootDeny, "istio-system", "mesh-root", 1), "seed.yaml": seedPolicy}
	cases := []struct {
		mesh  string
		paths routes.PathOptions
	}{
		{"", routes.PathOptions{MergeSlashes: true, EscapedSlashes: "reject"}},
		{"mesh: { path_normalization: edge }", routes.PathOptions{MergeSlashes: true, EscapedSlashes: "reject"}},
		{"mesh: { path_normalization: base }", routes.PathOptions{EscapedSlashes: "keep"}},
		{"mesh: { path_normalization: merge_slashes }", routes.PathOptions{MergeSlashes: true, EscapedSlashes: "keep"}},
		{"mesh: { path_normalization: decode_and_merge_slashes }", routes.PathOptions{MergeSlashes: true, EscapedSlashes: "unescape"}},
		{"mesh: { path_normalization: none }", routes.PathOptions{Verbatim: true, EscapedSlashes: "keep"}},
		{"path_normalization: { escaped_slashes: unescape }", routes.PathOptions{EscapedSlashes: "unescape"}},
	}
	for _, c := range cases {
		file := strings.Replace(routesFile, "policies:", c.mesh+"\npolicies:", 1)
		file = strings.Replace(file, "match: { path: /moved }", "match: { path: /debug/moved }", 1)
		if strings.HasPrefix(c.mesh, "mesh:") {
			file = strings.Replace(file, "mesh: { ", "mesh: { root_namespace: mesh-root, num_trusted_proxies: 2, ", 1)
		}
		cfg := loadRoutes(t, file, policies)
		if got := cfg.Table.Paths(); got != c.paths {
			t.Errorf("%q: got paths %+v, want %+v", c.mesh, got, c.paths)
		}
		_, err := decide(t, cfg, "/debug/moved", "")
		if strings.HasPrefix(c.mesh, "mesh:") {
			if cfg.NumTrustedProxies != 2 {
				t.Errorf("%q: got num_trusted_proxies %d, want 2", c.mesh, cfg.NumTrustedProxies)
			}
			if err == nil {
				t.Errorf("%q: got allowed, want mesh-root's DENY", c.mesh)
			}
		} else if err != nil {
			t.Errorf("%q: got %v, want mesh-root a namespace like others", c.mesh, err)
		}
	}
	conflict := strings.Replace(routesFile, "policies:", "path_normalization: { merge_slashes: true }\nmesh: { path_normalization: base }\npolicies:", 1)
	if _, err := routes.Load(write(t, conflict, policies), registry(t)); err == nil || !strings.Contains(err.Error(), "may not be set with the top-level path_normalization") {
		t.Errorf("got %v, want the two settings refused together", err)
	}
	both := strings.Replace(routesFile, "policies:", "trusted_proxies: [10.0.0.0/8]\nmesh: { num_trusted_proxies: 1 }\npolicies:", 1)
	if _, err := routes.Load(write(t, both, policies), registry(t)); err == nil || !strings.Contains(err.Error(), "may not be set with trusted_proxies") {
		t.Errorf("got %v, want the two settings refused together", err)
	}
}

// TestRoutesTrustDomain: mesh.trust_domain and its aliases decide what a
// principal written with cluster.local stands for.
func TestRoutesTrustDomain(t *testing.T) {
	byPrincipal := strings.Replace(seedPolicy, `namespaces: ["allowed-namespace"]`, `principals: ["cluster.local/ns/allowed-namespace/sa/c"]`, 1)
	file := strings.Replace(routesFile, "policies:", "mesh: { trust_domain: example.org, trust_domain_aliases: [old.example] }\npolicies:", 1)
	cfg := loadRoutes(t, file, map[string]string{"seed.yaml": byPrincipal})
	for _, c := range []struct {
		principal string
		allowed   bool
	}{
		{"example.org/ns/allowed-namespace/sa/c", true},
		{"old.example/ns/allowed-namespace/sa/c", true},
		{"cluster.local/ns/allowed-namespace/sa/c", false},
	} {
		if _, err := decide(t, cfg, "/allowed-path/x", c.principal); (err == nil) != c.allowed {
			t.Errorf("%s: got %v, want allowed %v", c.principal, err, c.allowed)
		}
	}
}
