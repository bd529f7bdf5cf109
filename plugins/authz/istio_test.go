package authz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// documents splits a file of Istio's test data into its documents.
func documents(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "istio", file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n---\n")
}

// withoutExperimental removes `when` entries on experimental.envoy.filters
// keys, which the gateway refuses (see validateCondition).
func withoutExperimental(doc string) string {
	lines := strings.Split(doc, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if strings.Contains(lines[i], `key: "experimental.envoy.filters.`) {
			for i+1 < len(lines) && strings.Contains(lines[i+1], "alues:") && !strings.Contains(lines[i+1], "key:") {
				i++
			}
			continue
		}
		out = append(out, lines[i])
	}
	return strings.Join(out, "\n")
}

// TestIstioValid loads every document that istiod accepts. The one kind of
// document the gateway refuses on purpose, a condition on an Envoy filter's
// metadata, must be refused for that alone: without the condition the
// document loads.
func TestIstioValid(t *testing.T) {
	for i, doc := range documents(t, "authz-valid.yaml") {
		var s Set
		err := s.Parse("authz-valid.yaml", []byte(doc))
		if strings.Contains(doc, "experimental.envoy.filters.") {
			if err == nil || !strings.Contains(err.Error(), "Envoy filter's dynamic metadata") {
				t.Errorf("document %d: got %v, want the experimental key refused", i, err)
			}
			for _, e := range err.(Errors) {
				if !strings.Contains(e.Msg, "experimental.envoy.filters.") {
					t.Errorf("document %d: unexpected error %v", i, e)
				}
			}
			doc = withoutExperimental(doc)
			s = Set{}
			err = s.Parse("authz-valid.yaml", []byte(doc))
		}
		if err != nil {
			t.Errorf("document %d: %v", i, err)
		}
		if _, err := Compile(&s, Mesh{}); err != nil {
			t.Errorf("document %d: compile: %v", i, err)
		}
	}
}

// TestIstioInvalid refuses every document that istiod refuses, with the
// fault Istio names (its `_err:` line) in the message.
func TestIstioInvalid(t *testing.T) {
	docs := documents(t, "authz-invalid.yaml")
	if len(docs) < 2 {
		t.Fatalf("got %d documents", len(docs))
	}
	for i, doc := range docs {
		first, rest, _ := strings.Cut(strings.TrimLeft(doc, "\n"), "\n")
		want, ok := strings.CutPrefix(first, "_err: ")
		if !ok {
			t.Fatalf("document %d has no _err line", i)
		}
		var s Set
		err := s.Parse("authz-invalid.yaml", []byte(rest))
		if err == nil {
			t.Errorf("document %d: loaded, want %q", i, want)
			continue
		}
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Errorf("document %d: got %v, want %q", i, err, want)
		}
	}
}

// TestIstioBuilderInputs loads Istio's builder test inputs and decides
// requests as Istio's expected RBAC configurations say.
func TestIstioBuilderInputs(t *testing.T) {
	httpbin := map[string]string{"app": "httpbin", "version": "v1"}
	type want struct {
		q    rq
		want string
	}
	cases := []struct {
		file  string
		mesh  Mesh
		cases []want
	}{
		{"allow-empty-rule-in.yaml", Mesh{}, []want{{rq{}, a("allow-all", 0)}}},
		{"allow-nil-rule-in.yaml", Mesh{}, []want{{rq{}, denyNone}}},
		{"deny-empty-rule-in.yaml", Mesh{}, []want{{rq{}, d("deny-all", 0)}}},
		{"audit-full-rule-in.yaml", Mesh{}, []want{{rq{}, allowed}}},
		{"allow-path-in.yaml", Mesh{}, []want{
			// paths "*" and notPaths "*" together: every path is in both.
			{rq{target: "/exact"}, denyNone},
		}},
		{"allow-host-before-111-in.yaml", Mesh{}, []want{
			{rq{host: "example.com"}, denyNone}, // notHosts "*" excludes every host
		}},
		{"deny-and-allow-in.yaml", Mesh{}, []want{
			{rq{principal: "deny"}, d("httpbin-deny", 0)},
			{rq{principal: "allow"}, a("httpbin-allow", 0)},
			{rq{principal: "other"}, denyNone},
		}},
		{"dry-run-allow-in.yaml", Mesh{}, []want{{rq{target: "/x"}, allowed}}},
		{"dry-run-allow-and-deny-in.yaml", Mesh{}, []want{{rq{target: "/deny"}, allowed}, {rq{target: "/x"}, allowed}}},
		{"dry-run-mix-in.yaml", Mesh{}, []want{
			{rq{target: "/allow"}, denyNone},
			{rq{target: "/another"}, a("httpbin-2", 0)},
		}},
		{"multiple-policies-in.yaml", Mesh{}, []want{
			{rq{method: "GET"}, a("httpbin-1", 0)},
			{rq{method: "PUT", target: "/v2"}, a("httpbin-2", 0)},
			{rq{method: "PUT", host: "HTTPBIN.org"}, a("httpbin-3", 0)},
			{rq{method: "PUT", local: "10.0.0.1:90"}, a("httpbin-4", 0)},
			{rq{method: "PUT", principal: "principals2"}, a("httpbin-5", 0)},
			{rq{method: "PUT", auth: jwt("requestPrincipals1", "")}, denyNone},
			{rq{method: "PUT", principal: "cluster.local/ns/namespaces1/sa/s"}, a("httpbin-7", 0)},
			{rq{method: "PUT", peer: "5.6.7.8"}, a("httpbin-8", 0)},
			{rq{method: "PUT", headers: []string{"X-abc", "abc2"}}, a("httpbin-9", 0)},
			{rq{method: "PUT"}, denyNone},
		}},
		{"simple-policy-td-aliases-in.yaml", Mesh{TrustDomain: "td1", TrustDomainAliases: []string{"cluster.local"}}, []want{
			{rq{principal: "td1/ns/rule[0]/sa/from[0]-principal[0]", method: "rule[0]-to[0]-method[0]"}, a("httpbin", 0)},
			{rq{principal: "cluster.local/ns/rule[0]/sa/from[0]-principal[0]", method: "rule[0]-to[0]-method[0]"}, a("httpbin", 0)},
			{rq{principal: "cluster.local/ns/rule[1]/sa/from[0]-principal[0]", method: "rule[1]-to[0]-method[0]"}, a("httpbin", 1)},
			{rq{principal: "td2/ns/rule[1]/sa/from[0]-principal[0]", method: "rule[1]-to[0]-method[0]"}, denyNone},
		}},
		{"simple-policy-multiple-td-aliases-in.yaml", Mesh{TrustDomain: "td1", TrustDomainAliases: []string{"cluster.local", "some-td"}}, []want{
			{rq{principal: "some-td/ns/rule[0]/sa/from[0]-principal[0]"}, a("httpbin", 0)},
			{rq{principal: "td1/ns/rule[0]/sa/from[1]-principal[0]"}, denyNone}, // needs the namespace too
		}},
		{"simple-policy-principal-with-wildcard-in.yaml", Mesh{}, []want{
			{rq{principal: "x/ns/foo/sa/rule[0]-from[1]-principal[0]"}, a("httpbin", 0)},
			{rq{}, denyNone},
		}},
		{"td-aliases-source-principal-in.yaml", Mesh{TrustDomain: "td1", TrustDomainAliases: []string{"cluster.local"}}, []want{
			{rq{principal: "td1/ns/istio-system/sa/a"}, a("httpbin", 0)},
			{rq{principal: "td1/ns/other/sa/a"}, denyNone},
		}},
		{"trust-domains-in.yaml", Mesh{}, []want{
			{rq{principal: "another.local/ns/a/sa/b"}, a("httpbin", 0)},
			{rq{principal: "good.org/ns/a/sa/b"}, a("httpbin", 0)},
			{rq{principal: "badlands/ns/a/sa/b"}, denyNone},
			{rq{}, a("httpbin", 0)}, // notTrustDomains matches a caller without one
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "istio", c.file))
			if err != nil {
				t.Fatal(err)
			}
			g := load(t, string(data), c.mesh).ForWorkload("foo", httpbin)
			for i, w := range c.cases {
				if got := verdict(g.Decide(w.q.request(t))); got != w.want {
					t.Errorf("request %d: got %s, want %s", i, got, w.want)
				}
			}
		})
	}
	for _, file := range []string{"allow-full-rule-in.yaml", "single-policy-in.yaml"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "istio", file))
		load(t, withoutExperimental(string(data)), Mesh{})
	}
}
