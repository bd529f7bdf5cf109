package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

const checkPolicies = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: allow-specific-namespaces, namespace: target-app-namespace }
spec:
  rules:
  - from: [ { source: { namespaces: ["allowed-namespace"] } } ]
    to:   [ { operation: { paths: ["/allowed-path/*"] } } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-admin, namespace: istio-system }
spec:
  action: DENY
  rules: [ { to: [ { operation: { paths: ["/admin"] } } ] } ]
`

const checkRoutes = `listeners: [ { name: web, address: "127.0.0.1:0" } ]
policies: [ "policies/*.yaml" ]
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes: [ { name: app, upstream: app } ]
upstreams: [ { name: app, builtin: echo, namespace: target-app-namespace } ]
`

// checkFiles writes the routes file and its policies and returns the
// routes file's path.
func checkFiles(t *testing.T, policies string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policies", "p.yaml"), []byte(policies), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(path, []byte(checkRoutes), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAuthzCheck decides requests without a cluster: the route, each
// policy's verdict with its file:line and the rule, and the decision, with
// the exit status saying allowed (0) or denied (1).
func TestAuthzCheck(t *testing.T) {
	routesPath := checkFiles(t, checkPolicies)
	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("cluster.local"), 0)
	if err != nil {
		t.Fatal(err)
	}
	svid, err := ca.Issue(spiffeid.RequireFromString("spiffe://cluster.local/ns/allowed-namespace/sa/client"), devca.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "client.crt")
	if err := os.WriteFile(certFile, svid.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"allowed by principal", []string{"--principal", "cluster.local/ns/allowed-namespace/sa/c", "https://svc/allowed-path/x"}, 0, []string{
			`route: site/app (upstream app, namespace "target-app-namespace", labels map[])`,
			"ALLOW              target-app-namespace/allow-specific-namespaces (" + filepath.Join(filepath.Dir(routesPath), "policies", "p.yaml") + ":1): rule 0 matched: ns[target-app-namespace]-policy[allow-specific-namespaces]-rule[0]",
			"DENY               istio-system/no-admin (",
			"p.yaml:9): no rule matched",
			"decision: ALLOW by ns[target-app-namespace]-policy[allow-specific-namespaces]-rule[0]",
		}},
		{"allowed by certificate", []string{"--cert", certFile, "https://svc/allowed-path/x"}, 0, []string{"decision: ALLOW by"}},
		{"other namespace", []string{"--principal", "cluster.local/ns/other/sa/c", "https://svc/allowed-path/x"}, 1, []string{
			"decision: DENY, 403 RBAC: access denied, rbac_access_denied_matched_policy[none]",
		}},
		{"no certificate", []string{"https://svc/allowed-path/x"}, 1, []string{"rbac_access_denied_matched_policy[none]"}},
		{"root DENY after normalisation", []string{"--principal", "cluster.local/ns/allowed-namespace/sa/c", "https://svc//x/../admin"}, 1, []string{
			"rule 0 matched: ns[istio-system]-policy[no-admin]-rule[0]",
			"decision: DENY, 403 RBAC: access denied, rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]",
		}},
		{"escaped slash refused first", []string{"https://svc/admin%2F"}, 1, []string{"refused with 400 before any policy"}},
		{"backslashes read as the gateway reads them", []string{"https://svc/x\\..\\admin"}, 1, []string{
			"decision: DENY, 403 RBAC: access denied, rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]",
		}},
		{"the path as sent, escapes kept", []string{"https://svc/%61dmin?x=1"}, 1, []string{
			"rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"authz", "check", "--config", routesPath}, c.args...)
			if code := run(args, &out, &errb); code != c.code {
				t.Fatalf("got exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errb.String())
			}
			wantAll(t, "output", out.String(), c.want)
		})
	}
	for _, bad := range [][]string{{"authz"}, {"authz", "decide"}, {"authz", "check", "https://svc/"}, {"authz", "check", "--config", routesPath}} {
		var out, errb bytes.Buffer
		if code := run(bad, &out, &errb); code != 2 {
			t.Errorf("%q: got exit %d, want 2", bad, code)
		}
	}
}

// TestValidatePolicyFiles: validate tells policy files from routes files
// by their content and reports each error with file:line:column, and the
// warnings of the policies a routes file names.
func TestValidatePolicyFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	writeTestFile(t, good, checkPolicies)
	writeTestFile(t, bad, strings.Replace(checkPolicies, `paths: ["/admin"]`, `ports: ["99999"]`, 1))
	var out, errb bytes.Buffer
	if code := run([]string{"validate", good}, &out, &errb); code != 0 {
		t.Fatalf("got exit %d: %s", code, errb.String())
	}
	wantAll(t, "stdout", out.String(), []string{good + ": 2 AuthorizationPolicy, 0 RequestAuthentication"})
	wantAll(t, "stderr", errb.String(), []string{good + `:14:43: warning: AuthorizationPolicy istio-system/no-admin: DENY on the exact path "/admin"`})
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", bad}, &out, &errb); code != 1 {
		t.Fatalf("got exit %d, want 1", code)
	}
	wantAll(t, "stderr", errb.String(), []string{bad + ":14:43: AuthorizationPolicy istio-system/no-admin: bad port (99999): above 65535"})
	out.Reset()
	errb.Reset()
	routesPath := checkFiles(t, checkPolicies)
	if code := run([]string{"validate", routesPath}, &out, &errb); code != 0 {
		t.Fatalf("got exit %d: %s", code, errb.String())
	}
	wantAll(t, "stderr", errb.String(), []string{`p.yaml:14:43: warning: AuthorizationPolicy istio-system/no-admin: DENY on the exact path "/admin"`})
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAuthzCheckCustom: a CUSTOM policy is shown with the provider the
// gateway would ask, which the check cannot call, before what the other
// policies decide.
func TestAuthzCheckCustom(t *testing.T) {
	routesPath := checkFiles(t, checkPolicies+`---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: target-app-namespace }
spec:
  action: CUSTOM
  provider: { name: ext }
  rules: [ { to: [ { operation: { paths: ["/allowed-path/ask/*"] } } ] } ]
`)
	withMesh := strings.Replace(checkRoutes, "policies:", "mesh: { extension_providers: [ { name: ext, envoy_ext_authz_http: { service: authorizer } } ] }\npolicies:", 1)
	withMesh = strings.Replace(withMesh, "upstreams: [ ", "upstreams: [ { name: authorizer, builtin: echo }, ", 1)
	if err := os.WriteFile(routesPath, []byte(withMesh), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want []string
		not  string
	}{
		{"/allowed-path/ask/x", []string{
			"CUSTOM             target-app-namespace/ask (",
			"p.yaml:16): rule 0 matched: ns[target-app-namespace]-policy[ask]-rule[0]",
			"custom: ns[target-app-namespace]-policy[ask]-rule[0] would ask provider ext (upstream authorizer); a denial there is final, else:",
			"decision: ALLOW by ns[target-app-namespace]-policy[allow-specific-namespaces]-rule[0]",
		}, ""},
		{"/allowed-path/x", []string{"p.yaml:16): no rule matched", "decision: ALLOW by"}, "would ask"},
	} {
		var out, errb bytes.Buffer
		args := []string{"authz", "check", "--config", routesPath, "--principal", "cluster.local/ns/allowed-namespace/sa/c", "https://svc" + c.path}
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%s: got exit %d; stdout:\n%s\nstderr:\n%s", c.path, code, out.String(), errb.String())
		}
		wantAll(t, c.path, out.String(), c.want)
		if c.not != "" && strings.Contains(out.String(), c.not) {
			t.Errorf("%s: got\n%s\nwant no %q", c.path, out.String(), c.not)
		}
	}
}
