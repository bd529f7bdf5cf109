package authz

import (
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// conditionGroups cover every `when` key Istio documents, with values and
// notValues.
func conditionGroups() []group {
	td := "cluster.local"
	claims := &plugins.RequestAuth{
		Principal: "https://idp.example/alice", Audiences: []string{"api", "web"}, Presenter: "frontend",
		Claims: map[string]any{
			"iss": "https://idp.example", "sub": "alice",
			"groups": []any{"dev", "ops"}, "scope": "read write",
			"org":   map[string]any{"team": map[string]any{"name": "core"}, "tier": "gold"},
			"level": 3.0, "a[b]": "bracketed",
		},
	}
	return []group{
		{name: "request.headers",
			docs: policy("p", `
rules:
- when:
  - { key: "request.headers[X-Tenant]", values: ["acme", "beta-*"] }
- when:
  - { key: "request.headers[x-debug]", values: ["*"] }
  - { key: "request.headers[x-debug]", notValues: ["off"] }`),
			cases: []tableCase{
				{"exact", rq{headers: []string{"X-Tenant", "acme"}}, a("p", 0)},
				{"name in other case", rq{headers: []string{"x-tenant", "acme"}}, a("p", 0)},
				{"prefix", rq{headers: []string{"X-Tenant", "beta-1"}}, a("p", 0)},
				{"value case matters", rq{headers: []string{"X-Tenant", "ACME"}}, denyNone},
				{"two values are joined", rq{headers: []string{"X-Tenant", "acme", "X-Tenant", "evil"}}, denyNone},
				{"joined prefix still matches", rq{headers: []string{"X-Tenant", "beta-1", "X-Tenant", "x"}}, a("p", 0)},
				{"absent", rq{}, denyNone},
				{"present, any value", rq{headers: []string{"X-Debug", "on"}}, a("p", 1)},
				{"present, empty value", rq{headers: []string{"X-Debug", ""}}, a("p", 1)},
				{"present, excluded value", rq{headers: []string{"X-Debug", "off"}}, denyNone},
			}},
		{name: "pseudo-headers",
			docs: policy("p", `
rules:
- when: [ { key: "request.headers[:authority]", values: ["*.internal"] } ]
- when: [ { key: "request.headers[:path]", values: ["/search?q=*"] } ]
- when: [ { key: "request.headers[:method]", values: ["PURGE"] } ]`),
			cases: []tableCase{
				{":authority", rq{host: "svc.internal"}, a("p", 0)},
				{":path with its query", rq{target: "/search?q=x"}, a("p", 1)},
				{":path without the query", rq{target: "/search"}, denyNone},
				{":method", rq{method: "PURGE"}, a("p", 2)},
			}},
		{name: "source.ip and remote.ip",
			docs: policy("p", `
rules:
- when: [ { key: source.ip, values: ["10.0.0.0/8"], notValues: ["10.66.0.0/16"] } ]
- when: [ { key: remote.ip, values: ["203.0.113.1"] } ]`),
			cases: []tableCase{
				{"peer in range", rq{peer: "10.1.1.1"}, a("p", 0)},
				{"peer excluded", rq{peer: "10.66.1.1"}, denyNone},
				{"client exact", rq{peer: "192.0.2.1", client: "203.0.113.1"}, a("p", 1)},
				{"client other", rq{peer: "192.0.2.1", client: "203.0.113.2"}, denyNone},
			}},
		{name: "source identity keys",
			docs: policy("p", `
rules:
- when: [ { key: source.namespace, values: ["ns1", "team-*"] } ]
- when: [ { key: source.principal, values: ["cluster.local/ns/x/sa/admin"] } ]
- when: [ { key: source.serviceAccount, values: ["y/robot"] } ]
- when: [ { key: source.trustDomain, values: ["partner.org"] } ]
- when: [ { key: source.namespace, notValues: ["*"] } ]
  to: [ { operation: { paths: ["/no-ns"] } } ]`),
			cases: []tableCase{
				{"namespace", rq{principal: td + "/ns/ns1/sa/a"}, a("p", 0)},
				{"namespace wildcard", rq{principal: td + "/ns/team-x/sa/a"}, a("p", 0)},
				{"principal", rq{principal: td + "/ns/x/sa/admin"}, a("p", 1)},
				{"service account", rq{principal: td + "/ns/y/sa/robot"}, a("p", 2)},
				{"trust domain", rq{principal: "partner.org/ns/z/sa/b"}, a("p", 3)},
				{"none of them", rq{principal: td + "/ns/z/sa/b"}, denyNone},
				{"notValues * matches no identity", rq{target: "/no-ns"}, a("p", 4)},
				{"notValues * refuses an identity", rq{target: "/no-ns", principal: td + "/ns/z/sa/b"}, denyNone},
			}},
		{name: "request.auth",
			docs: policy("p", `
rules:
- when: [ { key: request.auth.principal, values: ["https://idp.example/alice"] } ]
  to: [ { operation: { paths: ["/principal"] } } ]
- when: [ { key: request.auth.audiences, values: ["web"] } ]
  to: [ { operation: { paths: ["/aud"] } } ]
- when: [ { key: request.auth.presenter, values: ["front*"] } ]
  to: [ { operation: { paths: ["/azp"] } } ]
- when: [ { key: "request.auth.claims[groups]", values: ["ops"] } ]
  to: [ { operation: { paths: ["/group"] } } ]
- when: [ { key: "request.auth.claims[org][team][name]", values: ["core"] } ]
  to: [ { operation: { paths: ["/nested"] } } ]
- when: [ { key: "request.auth.claims[scope]", values: ["write"] } ]
  to: [ { operation: { paths: ["/scope"] } } ]
- when: [ { key: "request.auth.claims[org][tier]", notValues: ["gold"] } ]
  to: [ { operation: { paths: ["/not-gold"] } } ]
- when: [ { key: "request.auth.claims[level]", values: ["3"] } ]
  to: [ { operation: { paths: ["/number"] } } ]
- when: [ { key: "request.auth.claims[a[b]]", values: ["bracketed"] } ]
  to: [ { operation: { paths: ["/bracketed"] } } ]`),
			cases: []tableCase{
				{"principal", rq{auth: claims, target: "/principal"}, a("p", 0)},
				{"principal, no token", rq{target: "/principal"}, denyNone},
				{"audience in list", rq{auth: claims, target: "/aud"}, a("p", 1)},
				{"presenter prefix", rq{auth: claims, target: "/azp"}, a("p", 2)},
				{"list claim element", rq{auth: claims, target: "/group"}, a("p", 3)},
				{"nested claim", rq{auth: claims, target: "/nested"}, a("p", 4)},
				{"space-delimited scope", rq{auth: claims, target: "/scope"}, a("p", 5)},
				{"notValues on a gold tier", rq{auth: claims, target: "/not-gold"}, denyNone},
				{"notValues without a token", rq{target: "/not-gold"}, a("p", 6)},
				{"a number claim is not a string", rq{auth: claims, target: "/number"}, denyNone},
				{"nested claim, no token", rq{target: "/nested"}, denyNone},
				{"brackets that do not nest name one claim", rq{auth: claims, target: "/bracketed"}, a("p", 8)},
			}},
		{name: "destination and connection",
			docs: policy("p", `
rules:
- when: [ { key: destination.ip, values: ["10.0.0.0/24"] }, { key: destination.port, values: ["8443"] } ]
- when: [ { key: connection.sni, values: ["*.mesh.internal"] } ]
- when: [ { key: destination.port, notValues: ["8443", "8080", "9000"] } ]`),
			cases: []tableCase{
				{"address and port", rq{local: "10.0.0.5:8443"}, a("p", 0)},
				{"address, other port", rq{local: "10.0.0.5:8080"}, denyNone},
				{"other address", rq{local: "10.0.1.5:8443"}, denyNone},
				{"SNI", rq{local: "10.0.1.5:8080", sni: "a.mesh.internal"}, a("p", 1)},
				{"SNI absent", rq{local: "10.0.1.5:8080"}, denyNone},
				{"port outside notValues", rq{local: "10.0.1.5:7000"}, a("p", 2)},
			}},
		{name: "when entries are ANDed",
			docs: policy("p", `
rules:
- when:
  - { key: "request.headers[a]", values: ["1"] }
  - { key: "request.headers[b]", values: ["2"] }`),
			cases: []tableCase{
				{"both", rq{headers: []string{"a", "1", "b", "2"}}, a("p", 0)},
				{"one", rq{headers: []string{"a", "1"}}, denyNone},
			}},
	}
}

func TestDecideConditions(t *testing.T) { runGroups(t, conditionGroups()) }
