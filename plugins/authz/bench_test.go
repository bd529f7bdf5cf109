package authz

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// realistic writes n policies of the shapes teams write: per namespace, a
// few ALLOW policies by caller namespace or principal and path prefix, one
// with a header condition, a DENY on an admin path, and a few mesh-wide
// ones in the root namespace.
func realistic(n, namespaces int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("ns-%d", i/5%namespaces)
		name := fmt.Sprintf("p-%d", i)
		var spec string
		switch i % 5 {
		case 0:
			spec = fmt.Sprintf(`
selector: { matchLabels: { app: svc-%d } }
rules:
- from: [ { source: { namespaces: ["ns-%d", "ns-%d"] } } ]
  to: [ { operation: { methods: ["GET", "HEAD"], paths: ["/api/v%d/*"] } } ]`, i%7, i%50, (i+1)%50, i%3)
		case 1:
			spec = fmt.Sprintf(`
rules:
- from: [ { source: { principals: ["cluster.local/ns/ns-%d/sa/client-%d"] } } ]
  to: [ { operation: { paths: ["/orders/*", "/carts/{*}/items"] } } ]`, i%50, i%9)
		case 2:
			spec = fmt.Sprintf(`
selector: { matchLabels: { app: svc-%d } }
rules:
- to: [ { operation: { methods: ["POST"], paths: ["/hooks/%d"] } } ]
  when:
  - { key: "request.headers[x-tenant]", values: ["tenant-%d", "shared-*"] }
  - { key: remote.ip, values: ["10.%d.0.0/16"] }`, i%7, i, i%20, i%200)
		case 3:
			spec = `
action: DENY
rules:
- to: [ { operation: { paths: ["/admin", "/admin/*"] } } ]
  from: [ { source: { notNamespaces: ["ops"] } } ]`
		default:
			spec = fmt.Sprintf(`
rules:
- from: [ { source: { requestPrincipals: ["https://idp.example/*"] } } ]
  to: [ { operation: { paths: ["/me/*"], notMethods: ["DELETE"] } } ]
  when: [ { key: "request.auth.claims[groups]", values: ["group-%d"] } ]`, i%11)
		}
		if i < 5 {
			ns = "istio-system"
		}
		b.WriteString(policy(ns+"/"+name, spec))
	}
	return b.String()
}

// benchmarkDecide decides for a workload of namespace ns-<ns> a request
// that policy p-<last> (of the principal shape) allows, so that the
// policies before it are evaluated.
func benchmarkDecide(b *testing.B, n, namespaces, ns, last int) {
	e := load(b, realistic(n, namespaces), Mesh{})
	g := e.ForWorkload(fmt.Sprintf("ns-%d", ns), map[string]string{"app": "svc-3"})
	principal := fmt.Sprintf("cluster.local/ns/ns-%d/sa/client-%d", last%50, last%9)
	r := rq{principal: principal, target: "/carts/77/items", method: "GET",
		client: "10.1.2.3", headers: []string{"X-Tenant", "tenant-3", "User-Agent", "bench"}}.request(b)
	d := g.Decide(r)
	b.ReportMetric(float64(len(g.Policies())), "policies/decision")
	if !d.Allowed {
		b.Fatalf("got %s, want allowed", verdict(d))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Decide(r)
	}
}

// BenchmarkDecide is a decision against 1,000 policies in 100 namespaces:
// the workload's guard holds the root namespace's and its own namespace's.
func BenchmarkDecide(b *testing.B) { benchmarkDecide(b, 1000, 100, 42, 711) }

// BenchmarkDecideAllApply is the worst case: the 1,000 policies are all in
// the workload's namespace, and every one is evaluated.
func BenchmarkDecideAllApply(b *testing.B) { benchmarkDecide(b, 1000, 1, 0, 996) }

// TestDecideAllocs holds a decision to no allocation.
func TestDecideAllocs(t *testing.T) {
	e := load(t, realistic(200, 1), Mesh{})
	g := e.ForWorkload("ns-0", map[string]string{"app": "svc-3"})
	r := rq{principal: "cluster.local/ns/ns-46/sa/client-6", target: "/carts/77/items",
		headers: []string{"X-Tenant", "tenant-3"}, auth: jwt("https://idp.example", "u")}.request(t)
	if n := testing.AllocsPerRun(100, func() { g.Decide(r) }); n != 0 {
		t.Errorf("got %v allocations per decision, want 0", n)
	}
}

// BenchmarkHandle is the plugin's whole cost on a request, decision,
// metrics and notes included, against the 1,000 policies of
// BenchmarkDecide, beside the same call with no policy loaded (none), in
// the same run:
//
//	go test ./plugins/authz -run '^$' -bench 'Handle|Decide' -benchmem -count 6
func BenchmarkHandle(b *testing.B) {
	r := rq{principal: "cluster.local/ns/ns-11/sa/client-0", target: "/carts/77/items", method: "GET",
		client: "10.1.2.3", headers: []string{"X-Tenant", "tenant-3"}}.request(b)
	for _, c := range []struct {
		name string
		docs string
	}{{"none", ""}, {"1000-policies", realistic(1000, 100)}} {
		b.Run(c.name, func(b *testing.B) {
			h := newHandler(load(b, c.docs, Mesh{}).ForWorkload("ns-42", map[string]string{"app": "svc-3"}), newMetrics(nil))
			b.ReportAllocs()
			for b.Loop() {
				r.Metadata.Reset()
				if err := h.HandleRequest(context.Background(), r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
