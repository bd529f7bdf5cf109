package authz

import "testing"

// actionGroups cover the actions and their precedence, empty specs and
// rules, selectors and the root namespace, trust-domain aliases and
// dry-run.
func actionGroups() []group {
	td := "cluster.local"
	return []group{
		{name: "no policy allows", docs: policy("other/p", "rules: [ {} ]"), cases: []tableCase{
			{"any request", rq{}, allowed},
		}},
		{name: "spec {} allows nothing", docs: policy("nothing", "{}"), cases: []tableCase{
			{"plain", rq{}, denyNone},
			{"with identity", rq{principal: td + "/ns/foo/sa/x"}, denyNone},
		}},
		{name: "empty rule allows everything", docs: policy("all", "rules: [ {} ]"), cases: []tableCase{
			{"plain", rq{}, a("all", 0)},
			{"with token", rq{auth: jwt("i", "s")}, a("all", 0)},
		}},
		{name: "DENY with an empty rule denies everything",
			docs: policy("deny-all", "action: DENY\nrules: [ {} ]") + policy("all", "rules: [ {} ]"),
			cases: []tableCase{
				{"plain", rq{}, d("deny-all", 0)},
				{"DELETE", rq{method: "DELETE"}, d("deny-all", 0)},
			}},
		{name: "DENY beats ALLOW",
			docs: policy("httpbin-deny", `
action: DENY
rules: [ { from: [ { source: { principals: ["deny"] } } ] } ]`) + policy("httpbin-allow", `
action: ALLOW
rules: [ { from: [ { source: { principals: ["allow", "deny"] } } ] } ]`),
			cases: []tableCase{
				{"deny principal", rq{principal: "deny"}, d("httpbin-deny", 0)},
				{"allow principal", rq{principal: "allow"}, a("httpbin-allow", 0)},
				{"other principal", rq{principal: "x"}, denyNone},
			}},
		{name: "only DENY policies allow the rest",
			docs: policy("d", "action: DENY\nrules: [ { to: [ { operation: { methods: [DELETE] } } ] } ]"),
			cases: []tableCase{
				{"DELETE", rq{method: "DELETE"}, d("d", 0)},
				{"GET", rq{}, allowed},
			}},
		{name: "ALLOW policies are ORed, rules too, first match named",
			docs: policy("one", `
rules:
- to: [ { operation: { paths: ["/a"] } } ]
- to: [ { operation: { paths: ["/b"] } } ]`) + policy("two", `
rules:
- to: [ { operation: { paths: ["/c"] } } ]`),
			cases: []tableCase{
				{"first rule", rq{target: "/a"}, a("one", 0)},
				{"second rule", rq{target: "/b"}, a("one", 1)},
				{"second policy", rq{target: "/c"}, a("two", 0)},
				{"none", rq{target: "/d"}, denyNone},
			}},
		{name: "from and to and when are ANDed",
			docs: policy("p", `
rules:
- from: [ { source: { namespaces: ["a"] } } ]
  to: [ { operation: { methods: ["GET"] } } ]
  when: [ { key: "request.headers[x]", values: ["1"] } ]`),
			cases: []tableCase{
				{"all three", rq{principal: td + "/ns/a/sa/s", headers: []string{"x", "1"}}, a("p", 0)},
				{"no when", rq{principal: td + "/ns/a/sa/s"}, denyNone},
				{"no from", rq{headers: []string{"x", "1"}}, denyNone},
				{"no to", rq{method: "POST", principal: td + "/ns/a/sa/s", headers: []string{"x", "1"}}, denyNone},
			}},
		{name: "AUDIT never decides",
			docs: policy("audit-all", "action: AUDIT\nrules: [ {} ]") + policy("d", "action: DENY\nrules: [ { to: [ { operation: { paths: [/x] } } ] } ]"),
			cases: []tableCase{
				{"audited and allowed", rq{}, allowed},
				{"audited and denied", rq{target: "/x"}, d("d", 0)},
			}},
		{name: "AUDIT alone does not make ALLOW apply",
			docs: policy("audit", "action: AUDIT\nrules: [ { to: [ { operation: { paths: [/a] } } ] } ]"),
			cases: []tableCase{
				{"audited path", rq{target: "/a"}, allowed},
				{"other path", rq{target: "/b"}, allowed},
			}},
		{name: "dry-run DENY is not enforced",
			docs: dryRun(policy("dry-deny", "action: DENY\nrules: [ {} ]")),
			cases: []tableCase{
				{"allowed", rq{}, allowed},
			}},
		{name: "dry-run ALLOW does not make ALLOW apply",
			docs: dryRun(policy("dry-allow", "rules: [ { to: [ { operation: { paths: [/a] } } ] } ]")),
			cases: []tableCase{
				{"matching", rq{target: "/a"}, allowed},
				{"not matching", rq{target: "/b"}, allowed},
			}},
		{name: "dry-run beside enforced",
			docs: dryRun(policy("dry", "rules: [ { to: [ { operation: { paths: [/allow] } } ] } ]")) +
				policy("real", "rules: [ { to: [ { operation: { paths: [/another] } } ] } ]"),
			cases: []tableCase{
				{"dry path is denied", rq{target: "/allow"}, denyNone},
				{"enforced path", rq{target: "/another"}, a("real", 0)},
			}},
		{name: "selector and root namespace", labels: map[string]string{"app": "httpbin", "version": "v1"},
			docs: policy("selected", `
selector: { matchLabels: { app: httpbin } }
action: DENY
rules: [ { to: [ { operation: { paths: [/selected] } } ] } ]`) + policy("unselected", `
selector: { matchLabels: { app: other } }
action: DENY
rules: [ { to: [ { operation: { paths: [/unselected] } } ] } ]`) + policy("istio-system/mesh-wide", `
action: DENY
rules: [ { to: [ { operation: { paths: [/mesh] } } ] } ]`) + policy("istio-system/mesh-selector", `
selector: { matchLabels: { version: v1 } }
action: DENY
rules: [ { to: [ { operation: { paths: [/mesh-v1] } } ] } ]`) + policy("bar/elsewhere", `
action: DENY
rules: [ { to: [ { operation: { paths: [/bar] } } ] } ]`),
			cases: []tableCase{
				{"selected", rq{target: "/selected"}, d("selected", 0)},
				{"selector of other labels", rq{target: "/unselected"}, allowed},
				{"root namespace", rq{target: "/mesh"}, d("istio-system/mesh-wide", 0)},
				{"root namespace with a selector", rq{target: "/mesh-v1"}, d("istio-system/mesh-selector", 0)},
				{"another namespace", rq{target: "/bar"}, allowed},
			}},
		{name: "custom root namespace", mesh: Mesh{RootNamespace: "mesh-root"},
			docs: policy("mesh-root/all", "action: DENY\nrules: [ { to: [ { operation: { paths: [/root] } } ] } ]") +
				policy("istio-system/not-root", "action: DENY\nrules: [ { to: [ { operation: { paths: [/istio] } } ] } ]"),
			cases: []tableCase{
				{"the root's", rq{target: "/root"}, d("mesh-root/all", 0)},
				{"istio-system is a namespace like others", rq{target: "/istio"}, allowed},
			}},
		{name: "trust domain aliases", mesh: Mesh{TrustDomain: "td1", TrustDomainAliases: []string{"td2", "td3"}},
			docs: policy("p", `
rules:
- from: [ { source: { principals: ["cluster.local/ns/a/sa/x"] } } ]
- from: [ { source: { principals: ["td2/ns/b/sa/x"] } } ]
- from: [ { source: { principals: ["some-td/ns/c/sa/x"] } } ]
- from: [ { source: { principals: ["*/ns/d/sa/x"] } } ]
- when: [ { key: source.principal, values: ["cluster.local/ns/e/sa/x"] } ]`),
			cases: []tableCase{
				{"cluster.local means td1", rq{principal: "td1/ns/a/sa/x"}, a("p", 0)},
				{"and its alias td2", rq{principal: "td2/ns/a/sa/x"}, a("p", 0)},
				{"and its alias td3", rq{principal: "td3/ns/a/sa/x"}, a("p", 0)},
				{"cluster.local itself is not the mesh's", rq{principal: "cluster.local/ns/a/sa/x"}, denyNone},
				{"an alias stands for all", rq{principal: "td3/ns/b/sa/x"}, a("p", 1)},
				{"a foreign domain stays", rq{principal: "some-td/ns/c/sa/x"}, a("p", 2)},
				{"a foreign domain is not expanded", rq{principal: "td1/ns/c/sa/x"}, denyNone},
				{"wildcard domain", rq{principal: "any/ns/d/sa/x"}, a("p", 3)},
				{"source.principal expanded", rq{principal: "td2/ns/e/sa/x"}, a("p", 4)},
			}},
		{name: "wildcard trust domain matching an alias", mesh: Mesh{TrustDomain: "old-td", TrustDomainAliases: []string{"new.local"}},
			docs: policy("p", `
rules:
- from: [ { source: { principals: ["*-td/ns/x/sa/y"] } } ]`),
			cases: []tableCase{
				{"the domain the wildcard matches", rq{principal: "old-td/ns/x/sa/y"}, a("p", 0)},
				{"another that it matches", rq{principal: "any-td/ns/x/sa/y"}, a("p", 0)},
				{"the alias it does not match, written for it", rq{principal: "new.local/ns/x/sa/y"}, a("p", 0)},
				{"a foreign domain", rq{principal: "other.org/ns/x/sa/y"}, denyNone},
			}},
		{name: "wildcard trust domain matching none of the mesh's", mesh: Mesh{TrustDomain: "td1"},
			docs: policy("p", `
rules:
- from: [ { source: { principals: ["*-td/ns/x/sa/y"] } } ]`),
			cases: []tableCase{
				{"kept as written", rq{principal: "old-td/ns/x/sa/y"}, a("p", 0)},
				{"the mesh's domain is not added", rq{principal: "td1/ns/x/sa/y"}, denyNone},
			}},
		{name: "default trust domain",
			docs: policy("p", "rules: [ { from: [ { source: { principals: [cluster.local/ns/a/sa/x] } } ] } ]"),
			cases: []tableCase{
				{"cluster.local", rq{principal: "cluster.local/ns/a/sa/x"}, a("p", 0)},
				{"other domain", rq{principal: "example.org/ns/a/sa/x"}, denyNone},
			}},
		{name: "targetRefs policies guard no upstream",
			docs: policy("by-ref", `
targetRefs: [ { kind: Gateway, group: gateway.networking.k8s.io, name: gw } ]
action: DENY
rules: [ {} ]`),
			cases: []tableCase{
				{"not applied", rq{}, allowed},
			}},
		{name: "hostile spellings under an exact DENY",
			docs: policy("deny-admin", "action: DENY\nrules: [ { to: [ { operation: { paths: [/admin, /admin/*] } } ] } ]"),
			cases: []tableCase{
				{"/admin", rq{target: "/admin"}, d("deny-admin", 0)},
				{"/admin/", rq{target: "/admin/"}, d("deny-admin", 0)},
				{"/admin/x", rq{target: "/admin/x"}, d("deny-admin", 0)},
				{"//admin is another path unless slashes are merged", rq{target: "//admin"}, allowed},
				{"/ADMIN is another path", rq{target: "/ADMIN"}, allowed},
				{"/admin%2f.. is another path unless escaped slashes are refused", rq{target: "/admin%2f.."}, allowed},
				{"/admin;x is another path", rq{target: "/admin;x"}, allowed},
				{"/admin?x=1 is /admin", rq{target: "/admin?x=1"}, d("deny-admin", 0)},
			}},
	}
}

// dryRun marks the documents with istio.io/dry-run: "true".
func dryRun(docs string) string {
	return replaceAll(docs, "metadata:\n", "metadata:\n  annotations: { istio.io/dry-run: \"true\" }\n")
}

func TestDecideActions(t *testing.T) { runGroups(t, actionGroups()) }
