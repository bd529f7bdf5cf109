package gateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity/devca"
)

// extAuthzPolicies send /check/* of namespace shop to provider ext, every
// request of namespace slow to the same authorizer with a short timeout,
// every request of namespace open to a provider that is down and fails
// open, and every request of namespace closed to one that is down and
// fails closed.
const extAuthzPolicies = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: shop }
spec:
  action: CUSTOM
  provider: { name: ext }
  rules: [ { to: [ { operation: { paths: ["/check/*"] } } ] } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: slow }
spec: { action: CUSTOM, provider: { name: ext-slow }, rules: [ {} ] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: open }
spec: { action: CUSTOM, provider: { name: down-open }, rules: [ {} ] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ask, namespace: closed }
spec: { action: CUSTOM, provider: { name: down-closed }, rules: [ {} ] }
`

// authorizerAnswer is the test's external authorizer: it allows
// /authz/check/allow (naming the user upstream) and a body of "payload",
// denies /authz/check/deny with its own body and headers, and answers
// /authz/slow/… after the gateway has given up.
func authorizerAnswer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.URL.Path == "/authz/check/allow" && r.Header.Get("X-Want") == "in" && r.Header.Get("X-Forwarded-Proto") == "https":
		w.Header().Set("X-User", "alice")
	case r.URL.Path == "/authz/check/body" && string(body) == "payload" && r.Header.Get("Content-Length") == "7":
		w.Header().Set("X-User", "bob")
	case strings.HasPrefix(r.URL.Path, "/authz/slow/"):
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	default:
		w.Header().Set("X-Reason", "not you")
		w.Header().Set("X-Internal", "secret")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "denied by authorizer")
	}
}

func extAuthzGateway(t *testing.T, ca *devca.CA, app, authorizer string, reg prometheus.Registerer) *testGateway {
	t.Helper()
	dir := t.TempDir()
	if _, err := devca.WriteSVID(dir, issueSVID(t, ca, gatewayID, nil), ca.BundlePEM()); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "policies.yaml"), extAuthzPolicies)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	plugs, _ := plugins.NewRegistry(authz.New(reg).Factory())
	cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
identity: { trust_domain: cluster.local, svid: { cert: tls.crt, key: tls.key }, bundle: ca.crt }
listeners:
  - %s
policies: [ policies.yaml ]
mesh:
  extension_providers:
    - name: ext
      envoy_ext_authz_http:
        service: authorizer
        path_prefix: /authz
        timeout: 10s # generous: a loaded machine must not make a check time out
        include_request_headers_in_check: [ "x-want" ]
        headers_to_upstream_on_allow: [ "x-user" ]
        headers_to_downstream_on_deny: [ "x-reason" ]
        include_request_body_in_check: { max_request_bytes: 1024 }
    - { name: ext-slow, envoy_ext_authz_http: { service: authorizer, path_prefix: /authz, timeout: 300ms } }
    - { name: down-open, envoy_ext_authz_http: { service: nowhere, fail_open: true } }
    - { name: down-closed, envoy_ext_authz_http: { service: nowhere, status_on_error: "503" } }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: slow, match: { path_prefix: /slow/ }, upstream: app-slow }
      - { name: open, match: { path_prefix: /open/ }, upstream: app-open }
      - { name: closed, match: { path_prefix: /closed/ }, upstream: app-closed }
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams:
  - { name: app, endpoints: [%[2]q], namespace: shop }
  - { name: app-slow, endpoints: [%[2]q], namespace: slow }
  - { name: app-open, endpoints: [%[2]q], namespace: open }
  - { name: app-closed, endpoints: [%[2]q], namespace: closed }
  - { name: authorizer, endpoints: [%[3]q] }
  - { name: nowhere, endpoints: [%[4]q], connect_timeout: 1s }
`, meshListener("mesh", "127.0.0.1:0", "require"), app, authorizer, down)), plugs)
	if err != nil {
		t.Fatal(err)
	}
	return startGatewayWith(t, cfg)
}

// TestExtAuthz runs CUSTOM policies through the mesh listener over
// HTTP/1.1, HTTP/2 and HTTP/3 with an external authorizer run by the test:
// its allow adds its headers upstream, its deny reaches the client with
// its status, body and allowed headers and never the upstream, a timeout
// and a provider that is down fail closed or open as configured, the body
// is checked, and a request no CUSTOM rule matches is not asked about.
func TestExtAuthz(t *testing.T) {
	be := newBackend(t, nil)
	az := newBackend(t, authorizerAnswer)
	ca := newDevCA(t)
	reg := prometheus.NewRegistry()
	tg := extAuthzGateway(t, ca, be.addr(), az.addr(), reg)
	svid := issueSVID(t, ca, "spiffe://cluster.local/ns/caller/sa/client", nil)
	cases := []struct {
		name, method, path, body string
		status                   int
		asked                    bool
		flags, details           string
		user                     string // X-User upstream
	}{
		{"allow", "GET", "/check/allow", "", 200, true, "-", "via_upstream", "alice"},
		{"deny", "GET", "/check/deny", "", 401, true, "UAEX", "ext_authz_denied", ""},
		{"timeout", "GET", "/slow/x", "", 403, true, "UAEX", "ext_authz_error", ""},
		{"body", "POST", "/check/body", "payload", 200, true, "-", "via_upstream", "bob"},
		{"no CUSTOM rule", "GET", "/public", "", 200, false, "-", "via_upstream", "forged"},
		{"down, fail open", "GET", "/open/x", "", 200, false, "-", "via_upstream", "forged"},
		{"down, fail closed", "GET", "/closed/x", "", 503, false, "UAEX", "ext_authz_error", ""},
	}
	for _, proto := range httpVersions {
		t.Run(proto, func(t *testing.T) {
			client := protoClient(t, proto, meshClientTLS(svid, ca))
			for i, c := range cases {
				id := fmt.Sprintf("extauthz-%s-%d", proto, i)
				hits, asked := be.hits.Load(), az.hits.Load()
				req, _ := http.NewRequest(c.method, tg.url("mesh")+c.path, strings.NewReader(c.body))
				req.Header.Set("X-Request-Id", id)
				req.Header.Set("X-Want", "in")
				req.Header.Set("X-User", "forged")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status {
					t.Errorf("%s: got %d %q, want %d", c.name, resp.StatusCode, body, c.status)
				}
				if got := az.hits.Load() != asked; got != c.asked {
					t.Errorf("%s: authorizer asked: %v, want %v", c.name, got, c.asked)
				}
				reached := be.hits.Load() != hits
				if reached != (c.status == 200) {
					t.Errorf("%s: upstream reached: %v", c.name, reached)
				}
				if reached {
					if s := decodeSeen(t, string(body)); s.Header.Get("X-User") != c.user || s.Body != c.body {
						t.Errorf("%s: upstream got X-User %q body %q, want %q %q", c.name, s.Header.Get("X-User"), s.Body, c.user, c.body)
					}
				}
				if c.name == "deny" {
					if string(body) != "denied by authorizer" || resp.Header.Get("X-Reason") != "not you" || resp.Header.Get("X-Internal") != "" {
						t.Errorf("deny: got body %q X-Reason %q X-Internal %q, want the authorizer's body and only its listed header",
							body, resp.Header.Get("X-Reason"), resp.Header.Get("X-Internal"))
					}
				}
				e := tg.logFor(id)
				if e["response_flags"] != c.flags || e["response_code_details"] != c.details {
					t.Errorf("%s: got log %v %v, want %s %s", c.name, e["response_flags"], e["response_code_details"], c.flags, c.details)
				}
				if c.name == "down, fail open" {
					md, _ := e["dynamic_metadata"].(map[string]any)
					ext, _ := md["envoy.filters.http.ext_authz"].(map[string]any)
					if ext["failure_mode_allowed"] != "true" {
						t.Errorf("%s: got dynamic metadata %v, want failure_mode_allowed", c.name, md)
					}
				}
			}
		})
	}
	n := float64(len(httpVersions))
	for _, w := range []struct {
		provider, result string
		want             float64
	}{
		{"ext", "ok", 2 * n}, {"ext", "denied", n}, {"ext", "error", 0}, {"ext-slow", "error", n},
		{"down-open", "failure_mode_allowed", n}, {"down-closed", "error", n},
	} {
		if got := extAuthzChecks(t, reg, w.provider, w.result); got != w.want {
			t.Errorf("portcullis_authz_ext_authz_total{provider=%q,result=%q}: got %v, want %v", w.provider, w.result, got, w.want)
		}
	}
}

func extAuthzChecks(t *testing.T, reg *prometheus.Registry, provider, result string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "portcullis_authz_ext_authz_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["provider"] == provider && l["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
