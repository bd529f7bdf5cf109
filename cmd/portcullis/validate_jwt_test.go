package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRequestAuthentication checks that validate reports the
// faults of a RequestAuthentication's rules at their line, whether it is
// given the policy file or the routes file that names it.
func TestValidateRequestAuthentication(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "jwt.yaml")
	if err := os.WriteFile(policy, []byte(`apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: api, namespace: shop }
spec:
  jwtRules:
  - issuer: https://issuer.example.com
    jwksUri: https://issuer.example.com/keys
    fromParams: [""]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	routesPath := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routesPath, []byte(`listeners: [{ name: web, address: "127.0.0.1:0" }]
policies: [ "jwt.yaml" ]
virtual_hosts:
  - { name: shop, hosts: ["*"], routes: [ { name: api, upstream: api } ] }
upstreams: [ { name: api, builtin: echo, namespace: shop } ]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	want := policy + ":8:18: RequestAuthentication shop/api: jwtRules[0].fromParams[0]: location query must be non-empty string"
	for _, f := range []string{policy, routesPath} {
		var out, errb bytes.Buffer
		if code := run([]string{"validate", f}, &out, &errb); code != 1 || !strings.Contains(errb.String(), want) {
			t.Errorf("validate %s: got exit %d and %q, want 1 and %q", filepath.Base(f), code, errb.String(), want)
		}
	}
}
