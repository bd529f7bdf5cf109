package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// authzPolicies are DESIGN.md's seed example, unchanged, a DENY on /admin
// in the root namespace, a dry-run DENY and an AUDIT on /audited, and a
// DENY on the host internal.example in the root namespace.
const authzPolicies = `apiVersion: security.istio.io/v1beta1
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
  rules: [ { to: [ { operation: { paths: ["/allowed-path/admin", "/allowed-path/admin/*"] } } ] } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: would-deny, namespace: target-app-namespace, annotations: { istio.io/dry-run: "true" } }
spec:
  action: DENY
  rules: [ { to: [ { operation: { paths: ["/allowed-path/audited"] } } ] } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: audit, namespace: target-app-namespace }
spec:
  action: AUDIT
  rules: [ { to: [ { operation: { paths: ["/allowed-path/audited"] } } ] } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-internal, namespace: istio-system }
spec:
  action: DENY
  rules: [ { to: [ { operation: { hosts: ["internal.example", "internal.example:*"] } } ] } ]
`

// authzGateway serves a mesh listener that requires callers' SVIDs of ca,
// guarding upstream app (namespace target-app-namespace) with
// authzPolicies; its authz metrics join reg.
func authzGateway(t *testing.T, ca *devca.CA, endpoint string, reg prometheus.Registerer) *testGateway {
	t.Helper()
	dir := t.TempDir()
	if _, err := devca.WriteSVID(dir, issueSVID(t, ca, gatewayID, nil), ca.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "policies", "seed.yaml"), authzPolicies)
	plugs, _ := plugins.NewRegistry(headers.Factory(), authz.New(reg).Factory())
	cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
identity: { trust_domain: cluster.local, svid: { cert: tls.crt, key: tls.key }, bundle: ca.crt }
listeners:
  - %s
policies: [ "policies/*.yaml" ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes: [ { name: main, match: { path_prefix: / }, upstream: app } ]
upstreams: [ { name: app, endpoints: [%q], namespace: target-app-namespace } ]
`, meshListener("mesh", "127.0.0.1:0", "require"), endpoint)), plugs)
	if err != nil {
		t.Fatal(err)
	}
	return startGatewayWith(t, cfg)
}

// TestAuthzSeedExample runs DESIGN.md's example through the mesh listener
// over HTTP/1.1, HTTP/2 and HTTP/3 with certificates of the development
// CA: the allowed namespace reaches the allowed path, anything else gets
// Envoy's 403 and the upstream sees nothing of it; the access log names
// the rule, and the metrics count it.
func TestAuthzSeedExample(t *testing.T) {
	be := newBackend(t, nil)
	ca := newDevCA(t)
	reg := prometheus.NewRegistry()
	tg := authzGateway(t, ca, be.addr(), reg)
	allowed := issueSVID(t, ca, "spiffe://cluster.local/ns/allowed-namespace/sa/client", nil)
	other := issueSVID(t, ca, "spiffe://cluster.local/ns/other-namespace/sa/client", nil)
	cases := []struct {
		name    string
		svid    *devca.SVID
		path    string
		status  int
		details string
		host    string // the authority sent; default the listener's address
	}{
		{"allowed", allowed, "/allowed-path/resource", 200, "via_upstream", ""},
		{"other namespace", other, "/allowed-path/resource", 403, "rbac_access_denied_matched_policy[none]", ""},
		{"other path", allowed, "/other-path", 403, "rbac_access_denied_matched_policy[none]", ""},
		{"root DENY", allowed, "/allowed-path/admin", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]", ""},
		{"root DENY past merged slashes", allowed, "//allowed-path//admin/x", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]", ""},
		{"root DENY past dot segments", allowed, "/allowed-path/x/../admin", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-admin]-rule[0]]", ""},
		{"escaped slash refused at the edge", allowed, "/allowed-path/admin%2Fx", 400, "path_normalization_failed", ""},
		{"dry-run DENY not enforced", allowed, "/allowed-path/audited", 200, "via_upstream", ""},
		{"root DENY on a host", allowed, "/allowed-path/x", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-internal]-rule[0]]", "internal.example"},
		{"root DENY on a host, upper case", allowed, "/allowed-path/x", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-internal]-rule[0]]", "Internal.EXAMPLE"},
		{"root DENY on a host, fully qualified", allowed, "/allowed-path/x", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-internal]-rule[0]]", "internal.example."},
		{"root DENY on a host, with a port", allowed, "/allowed-path/x", 403, "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-internal]-rule[0]]", "internal.example:8443"},
	}
	for _, proto := range httpVersions {
		t.Run(proto, func(t *testing.T) {
			clients := map[*devca.SVID]*http.Client{
				allowed: protoClient(t, proto, meshClientTLS(allowed, ca)),
				other:   protoClient(t, proto, meshClientTLS(other, ca)),
			}
			for i, c := range cases {
				id := fmt.Sprintf("authz-%s-%d", proto, i)
				before := be.hits.Load()
				req, _ := http.NewRequest("GET", tg.url("mesh")+c.path, nil)
				req.Header.Set("X-Request-Id", id)
				if c.host != "" {
					req.Host = c.host
				}
				resp, err := clients[c.svid].Do(req)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status {
					t.Errorf("%s: got %d %q, want %d", c.name, resp.StatusCode, body, c.status)
				}
				if c.status == 403 && string(body) != "RBAC: access denied" {
					t.Errorf("%s: got body %q, want RBAC: access denied", c.name, body)
				}
				if hit := be.hits.Load() != before; hit != (c.status == 200) {
					t.Errorf("%s: upstream reached: %v", c.name, hit)
				}
				e := tg.logFor(id)
				if e["response_code_details"] != c.details {
					t.Errorf("%s: got details %v, want %s", c.name, e["response_code_details"], c.details)
				}
				if c.status == 403 && e["response_flags"] != "-" {
					t.Errorf("%s: got flags %v, want -", c.name, e["response_flags"])
				}
				if c.name == "dry-run DENY not enforced" {
					md, _ := e["dynamic_metadata"].(map[string]any)
					common, _ := md["envoy.common"].(map[string]any)
					rbac, _ := md["envoy.filters.http.rbac"].(map[string]any)
					if common["access_log_hint"] != "true" ||
						rbac["istio_dry_run_deny_shadow_engine_result"] != "denied" ||
						rbac["istio_dry_run_deny_shadow_effective_policy_id"] != "ns[target-app-namespace]-policy[would-deny]-rule[0]" {
						t.Errorf("%s: got dynamic metadata %v, want the audit and the dry-run verdict", c.name, md)
					}
				}
			}
		})
	}
	count := func(ns, policy, action, dry, result string) float64 {
		c, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c {
			for _, m := range f.GetMetric() {
				l := map[string]string{}
				for _, p := range m.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if l["namespace"] == ns && l["policy"] == policy && l["action"] == action && l["dry_run"] == dry && l["result"] == result {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	n := float64(len(httpVersions))
	for _, w := range []struct {
		labels [5]string
		want   float64
	}{
		{[5]string{"target-app-namespace", "allow-specific-namespaces", "ALLOW", "false", "allowed"}, 2 * n},
		{[5]string{"", "none", "ALLOW", "false", "denied"}, 2 * n},
		{[5]string{"istio-system", "no-admin", "DENY", "false", "denied"}, 3 * n},
		{[5]string{"target-app-namespace", "would-deny", "DENY", "true", "denied"}, n},
		{[5]string{"target-app-namespace", "audit", "AUDIT", "false", "audited"}, n},
	} {
		if got := count(w.labels[0], w.labels[1], w.labels[2], w.labels[3], w.labels[4]); got != w.want {
			t.Errorf("portcullis_authz_decisions_total%v: got %v, want %v", w.labels, got, w.want)
		}
	}
}

// TestAuthzTrustedProxyCount decides remote.ip with mesh.num_trusted_proxies,
// as Istio's gateways do with numTrustedProxies: the address one hop from
// the right of X-Forwarded-For is the client that remoteIpBlocks reads.
func TestAuthzTrustedProxyCount(t *testing.T) {
	be := newBackend(t, nil)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.yaml"), `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: office, namespace: istio-system }
spec:
  rules: [ { from: [ { source: { remoteIpBlocks: ["203.0.113.0/24"] } } ] } ]
`)
	plugs, _ := plugins.NewRegistry(authz.New(nil).Factory())
	cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
policies: [ p.yaml ]
mesh: { num_trusted_proxies: 1 }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr())), plugs)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayWith(t, cfg)
	for _, c := range []struct {
		xff  string
		want int
	}{
		{"203.0.113.7", 200},
		{"198.51.100.1, 203.0.113.7", 200},
		{"203.0.113.7, 198.51.100.1", 403}, // a spoofed left entry is not the client
		{"", 403},                          // the peer, 127.0.0.1
	} {
		req, _ := http.NewRequest("GET", tg.url("web")+"/x", nil)
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("X-Forwarded-For %q: got %d, want %d", c.xff, resp.StatusCode, c.want)
		}
	}
}

// TestAuthzReload reloads the policies with the routes file: a bad policy
// fails the reload with its file:line and the running policies stay
// enforced; a good one takes over.
func TestAuthzReload(t *testing.T) {
	be := newBackend(t, nil)
	dir := t.TempDir()
	deny := func(path string) string {
		return fmt.Sprintf(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny, namespace: istio-system }
spec:
  action: DENY
  rules: [ { to: [ { operation: { paths: [%q] } } ] } ]
`, path)
	}
	policy := filepath.Join(dir, "policies", "deny.yaml")
	if err := os.MkdirAll(filepath.Dir(policy), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, policy, deny("/secret"))
	path := filepath.Join(dir, "routes.yaml")
	writeFile(t, path, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
policies: [ "policies/*.yaml" ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	reg, _ := plugins.NewRegistry(authz.New(nil).Factory())
	cfg, err := routes.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayWith(t, cfg)
	loaded := make(chan error, 4)
	w, err := routes.NewWatcher(path, cfg, reg, func(next *routes.Config, err error) {
		if err == nil {
			err = tg.Reload(next)
		} else {
			tg.ReloadFailed(path, err)
		}
		loaded <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Debounce = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	status := func(p string) int {
		resp, err := http.Get(tg.url("web") + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	next := func() error {
		select {
		case err := <-loaded:
			return err
		case <-time.After(deadline().Sub(time.Now())):
			t.Fatal("no reload")
			return nil
		}
	}
	if got := status("/secret"); got != 403 {
		t.Fatalf("/secret: got %d, want 403", got)
	}
	writeFile(t, policy, strings.Replace(deny("/other"), "action: DENY", "action: DENNY", 1))
	if err := next(); err == nil || !strings.Contains(err.Error(), policy+`:5:11: AuthorizationPolicy istio-system/deny: spec.action: Unsupported value: "DENNY"`) {
		t.Fatalf("bad policy: got %v, want its file:line", err)
	}
	if a, b := status("/secret"), status("/other"); a != 403 || b != 200 {
		t.Errorf("after the failed reload: got /secret %d and /other %d, want the running set: 403 and 200", a, b)
	}
	writeFile(t, policy, deny("/other"))
	if err := next(); err != nil {
		t.Fatalf("good policy: %v", err)
	}
	if a, b := status("/secret"), status("/other"); a != 200 || b != 403 {
		t.Errorf("after the reload: got /secret %d and /other %d, want 200 and 403", a, b)
	}
	// A deleted policy file that leaves its glob matching nothing fails
	// the reload: the running set stays enforced.
	if err := os.Remove(policy); err != nil {
		t.Fatal(err)
	}
	if err := next(); err == nil || !strings.Contains(err.Error(), `no file matches "policies/*.yaml"`) {
		t.Fatalf("deleted policy: got %v, want the glob that matches nothing", err)
	}
	if got := status("/other"); got != 403 {
		t.Errorf("after the deletion: got /other %d, want the running set's 403", got)
	}
}
