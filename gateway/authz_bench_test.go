package gateway

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
)

// BenchmarkProxy1KiBAuthz is the request path of BenchmarkProxy1KiBGateway
// with 1,000 AuthorizationPolicies loaded (none) or not (none loaded): 100
// namespaces of ten policies each and a few mesh-wide ones, the upstream's
// namespace guarded by its own and the root's, the request allowed by the
// last. The ratio of the two is what policies cost a request:
//
//	go test ./gateway -run '^$' -bench 'Proxy1KiBAuthz' -benchmem -count 6
func BenchmarkProxy1KiBAuthz(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			be := benchBackend(b)
			dir := b.TempDir()
			var docs strings.Builder
			for i := range n {
				ns := fmt.Sprintf("ns-%d", i/10)
				if i < 5 {
					ns = "istio-system"
				}
				action, when := "ALLOW", fmt.Sprintf(`[ { key: "request.headers[x-tenant]", values: ["tenant-%d"] } ]`, i)
				if i%10 == 3 {
					action, when = "DENY", `[ { key: remote.ip, values: ["203.0.113.0/24"] } ]`
				}
				fmt.Fprintf(&docs, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: p-%d, namespace: %s }
spec:
  action: %s
  rules:
  - to: [ { operation: { methods: ["GET"], paths: ["/api/v%d/*", "/bench*"] } } ]
    from: [ { source: { ipBlocks: ["127.0.0.0/8"], notNamespaces: ["blocked"] } } ]
    when: %s
---
`, i, ns, action, i, when)
			}
			if err := os.WriteFile(filepath.Join(dir, "policies.yaml"), []byte(docs.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			policies := ""
			if n > 0 {
				policies = `policies: [ policies.yaml ]`
			}
			reg, _ := plugins.NewRegistry(authz.New(nil).Factory())
			cfg, err := routes.Parse(filepath.Join(dir, "routes.yaml"), []byte(fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
%s
virtual_hosts:
  - name: bench
    hosts: ["*"]
    routes: [ { name: all, match: { path_prefix: / }, upstream: app } ]
upstreams: [ { name: app, endpoints: [%q], namespace: ns-42 } ]
`, policies, be)), reg)
			if err != nil {
				b.Fatal(err)
			}
			gw := serveForTest(b, cfg, "envoy", zerolog.Nop())
			c := benchClient()
			url := "http://" + gw.Addr("web").String() + "/bench"
			// The last ALLOW policy of ns-42 allows the request; the
			// others of the namespace and the root's are evaluated first.
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("X-Tenant", "tenant-429")
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
