package authz

import (
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// a and d are the verdicts of an allow and a deny by rule i of policy name
// (namespace/name, or a name in foo).
func a(name string, i int) string { return "allow:" + ruleID(name, i) }
func d(name string, i int) string { return "deny:" + ruleID(name, i) }

func ruleID(name string, i int) string {
	p := &Policy{Namespace: "foo", Name: name}
	for j := 0; j < len(name); j++ {
		if name[j] == '/' {
			p.Namespace, p.Name = name[:j], name[j+1:]
		}
	}
	return p.ID(i)
}

const (
	allowed  = "allow"
	denyNone = "deny:none"
)

// sourceGroups cover every field of a source, each with its negation, and
// the callers that lack the attribute.
func sourceGroups() []group {
	td := "cluster.local"
	return []group{
		{name: "seed example", ns: "target-app-namespace",
			docs: policy("target-app-namespace/allow-specific-namespaces", `
rules:
- from: [ { source: { namespaces: ["allowed-namespace"] } } ]
  to:   [ { operation: { paths: ["/allowed-path/*"] } } ]`),
			cases: []tableCase{
				{"allowed namespace and path", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/allowed-path/x"}, a("target-app-namespace/allow-specific-namespaces", 0)},
				{"allowed namespace, the prefix itself", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/allowed-path/"}, a("target-app-namespace/allow-specific-namespaces", 0)},
				{"query is not part of the path", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/allowed-path/x?a=/other"}, a("target-app-namespace/allow-specific-namespaces", 0)},
				{"path without the trailing slash", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/allowed-path"}, denyNone},
				{"other path", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/other"}, denyNone},
				{"other namespace", rq{principal: td + "/ns/other/sa/app", target: "/allowed-path/x"}, denyNone},
				{"namespace as a prefix of another", rq{principal: td + "/ns/allowed-namespace-2/sa/app", target: "/allowed-path/x"}, denyNone},
				{"no certificate", rq{target: "/allowed-path/x"}, denyNone},
				{"upper-case path", rq{principal: td + "/ns/allowed-namespace/sa/app", target: "/ALLOWED-PATH/x"}, denyNone},
			}},
		{name: "principals",
			docs: policy("p", `
rules:
- from: [ { source: { principals: ["cluster.local/ns/a/sa/exact"] } } ]
- from: [ { source: { principals: ["cluster.local/ns/b/*"] } } ]
- from: [ { source: { principals: ["*/sa/suffix"] } } ]`),
			cases: []tableCase{
				{"exact", rq{principal: td + "/ns/a/sa/exact"}, a("p", 0)},
				{"exact differs", rq{principal: td + "/ns/a/sa/exact2"}, denyNone},
				{"prefix", rq{principal: td + "/ns/b/sa/any"}, a("p", 1)},
				{"prefix boundary", rq{principal: td + "/ns/bb/sa/any"}, denyNone},
				{"suffix", rq{principal: "other.td/ns/z/sa/suffix"}, a("p", 2)},
				{"suffix needs the whole tail", rq{principal: td + "/ns/z/sa/xsuffix"}, denyNone},
				{"no identity", rq{}, denyNone},
				{"case matters", rq{principal: td + "/ns/a/sa/EXACT"}, denyNone},
			}},
		{name: "principals star and not",
			docs: policy("p", `
rules:
- from: [ { source: { principals: ["*"], notPrincipals: ["cluster.local/ns/bad/*"] } } ]`),
			cases: []tableCase{
				{"any identity", rq{principal: td + "/ns/x/sa/y"}, a("p", 0)},
				{"excluded identity", rq{principal: td + "/ns/bad/sa/y"}, denyNone},
				{"no identity", rq{}, denyNone},
			}},
		{name: "notPrincipals matches a caller without one",
			docs: policy("p", `
action: DENY
rules:
- from: [ { source: { notPrincipals: ["*"] } } ]`),
			cases: []tableCase{
				{"plaintext denied", rq{}, d("p", 0)},
				{"mTLS passes", rq{principal: td + "/ns/x/sa/y"}, allowed},
			}},
		{name: "namespaces",
			docs: policy("p", `
rules:
- from: [ { source: { namespaces: ["team-*-prod", "exact"] } } ]
- from: [ { source: { namespaces: ["*"] } } ]
  to: [ { operation: { paths: ["/any-ns"] } } ]`),
			cases: []tableCase{
				{"exact", rq{principal: td + "/ns/exact/sa/x"}, a("p", 0)},
				{"middle wildcard", rq{principal: td + "/ns/team-a-prod/sa/x"}, a("p", 0)},
				{"middle wildcard, longer", rq{principal: td + "/ns/team-a-b-prod/sa/x"}, a("p", 0)},
				{"middle wildcard, wrong end", rq{principal: td + "/ns/team-a-dev/sa/x"}, denyNone},
				{"star needs a namespace", rq{principal: "spiffe-td/svc", target: "/any-ns"}, denyNone},
				{"star with a namespace", rq{principal: td + "/ns/q/sa/x", target: "/any-ns"}, a("p", 1)},
				{"not Istio's shape", rq{principal: "td/workload/exact"}, denyNone},
				{"the slash of spiffe:// counts", rq{principal: "ns/exact/sa/x"}, a("p", 0)},
				{"trust domain ns, namespace of its name", rq{principal: "ns/ns/team-a-prod/sa/x"}, a("p", 0)},
				{"no identity", rq{target: "/any-ns"}, denyNone},
			}},
		{name: "notNamespaces",
			docs: policy("p", `
action: DENY
rules:
- from: [ { source: { notNamespaces: ["trusted", "ops-*"] } } ]`),
			cases: []tableCase{
				{"trusted passes", rq{principal: td + "/ns/trusted/sa/x"}, allowed},
				{"wildcard passes", rq{principal: td + "/ns/ops-1/sa/x"}, allowed},
				{"other denied", rq{principal: td + "/ns/web/sa/x"}, d("p", 0)},
				{"no identity denied", rq{}, d("p", 0)},
			}},
		{name: "serviceAccounts",
			docs: policy("p", `
rules:
- from: [ { source: { serviceAccounts: ["bar/sa1", "local"] } } ]
- from: [ { source: { notServiceAccounts: ["foo/blocked"], ipBlocks: ["10.1.0.0/16"] } } ]`),
			cases: []tableCase{
				{"namespace and account", rq{principal: td + "/ns/bar/sa/sa1"}, a("p", 0)},
				{"account in the policy's namespace", rq{principal: td + "/ns/foo/sa/local"}, a("p", 0)},
				{"account in another namespace", rq{principal: td + "/ns/bar/sa/local"}, denyNone},
				{"other account", rq{principal: td + "/ns/bar/sa/sa2"}, denyNone},
				{"account as a prefix", rq{principal: td + "/ns/bar/sa/sa10"}, denyNone},
				{"other trust domain", rq{principal: "other.org/ns/bar/sa/sa1"}, a("p", 0)},
				{"not: other account from the block", rq{principal: td + "/ns/foo/sa/x", peer: "10.1.2.3"}, a("p", 1)},
				{"not: the blocked account", rq{principal: td + "/ns/foo/sa/blocked", peer: "10.1.2.3"}, denyNone},
				{"not: no identity from the block", rq{peer: "10.1.2.3"}, a("p", 1)},
			}},
		{name: "trustDomains",
			docs: policy("p", `
rules:
- from: [ { source: { trustDomains: ["cluster.local", "partner-*"] } } ]
- from: [ { source: { notTrustDomains: ["bad*", "untrusted"], namespaces: ["open"] } } ]`),
			cases: []tableCase{
				{"exact", rq{principal: td + "/ns/x/sa/y"}, a("p", 0)},
				{"prefix", rq{principal: "partner-eu/ns/x/sa/y"}, a("p", 0)},
				{"other", rq{principal: "elsewhere/ns/x/sa/y"}, denyNone},
				{"not: good one", rq{principal: "elsewhere/ns/open/sa/y"}, a("p", 1)},
				{"not: prefix bad", rq{principal: "badland/ns/open/sa/y"}, denyNone},
				{"not: exact bad", rq{principal: "untrusted/ns/open/sa/y"}, denyNone},
			}},
		{name: "requestPrincipals",
			docs: policy("p", `
rules:
- from: [ { source: { requestPrincipals: ["https://issuer.example/user-1"] } } ]
- from: [ { source: { requestPrincipals: ["https://accounts.example/*"] } } ]
- from: [ { source: { requestPrincipals: ["*/admin"] } } ]
- from: [ { source: { requestPrincipals: ["*"] } } ]
  to: [ { operation: { paths: ["/any-token"] } } ]`),
			cases: []tableCase{
				{"exact", rq{auth: jwt("https://issuer.example", "user-1")}, a("p", 0)},
				{"exact, other subject", rq{auth: jwt("https://issuer.example", "user-2")}, denyNone},
				{"issuer with any subject", rq{auth: jwt("https://accounts.example", "x")}, a("p", 1)},
				{"issuer with no subject", rq{auth: jwt("https://accounts.example", "")}, denyNone},
				{"any issuer, subject", rq{auth: jwt("iss", "admin")}, a("p", 2)},
				{"star", rq{auth: jwt("iss", "someone"), target: "/any-token"}, a("p", 3)},
				{"star needs a subject", rq{auth: jwt("iss", ""), target: "/any-token"}, denyNone},
				{"no token", rq{target: "/any-token"}, denyNone},
			}},
		{name: "requestPrincipals split at the last slash",
			docs: policy("p", `
rules:
- from: [ { source: { requestPrincipals: ["https://accounts.example/*"] } } ]
- from: [ { source: { requestPrincipals: ["https://issuer.example/team/user-1"] } } ]
- from: [ { source: { requestPrincipals: ["*.example/admin"] } } ]
- from: [ { source: { requestPrincipals: ["https://pre.example/ops-*"] } } ]
- from: [ { source: { requestPrincipals: ["*-svc"] } } ]
- from: [ { source: { requestPrincipals: ["open-issuer*"] } } ]
- from: [ { source: { requestPrincipals: ["https://url.example*"] } } ]`),
			cases: []tableCase{
				{"issuer with any subject", rq{auth: jwt("https://accounts.example", "x")}, a("p", 0)},
				{"longer issuer is another issuer", rq{auth: jwt("https://accounts.example/tenant", "x")}, denyNone},
				{"issuer with a slash, exact", rq{auth: jwt("https://issuer.example/team", "user-1")}, a("p", 1)},
				{"slash moved into the subject", rq{auth: jwt("https://issuer.example", "team/user-1")}, denyNone},
				{"issuer suffix, exact subject", rq{auth: jwt("https://a.example", "admin")}, a("p", 2)},
				{"issuer suffix, subject with a slash", rq{auth: jwt("https://a", "b.example/admin")}, denyNone},
				{"issuer suffix needs the issuer", rq{auth: jwt("", "admin")}, denyNone},
				{"subject prefix", rq{auth: jwt("https://pre.example", "ops-1")}, a("p", 3)},
				{"subject prefix, issuer longer", rq{auth: jwt("https://pre.example/x", "ops-1")}, denyNone},
				{"no slash: subject suffix", rq{auth: jwt("any", "billing-svc")}, a("p", 4)},
				{"no slash: subject suffix needs an issuer", rq{auth: jwt("", "billing-svc")}, denyNone},
				{"no slash: issuer prefix", rq{auth: jwt("open-issuer-2", "u")}, a("p", 5)},
				{"no slash: issuer prefix needs a subject", rq{auth: jwt("open-issuer-2", "")}, denyNone},
				{"a URL's slashes split it too", rq{auth: jwt("https://url.example.org", "u")}, denyNone},
				{"a URL split as Istio splits it", rq{auth: jwt("https:/", "url.example.org")}, a("p", 6)},
			}},
		{name: "trustDomains stand for the mesh's aliases",
			mesh: Mesh{TrustDomain: "new.td", TrustDomainAliases: []string{"old.td"}},
			docs: policy("p", `
rules:
- from: [ { source: { trustDomains: ["old.td"] } } ]`),
			cases: []tableCase{
				{"alias written, alias sent", rq{principal: "old.td/ns/x/sa/y"}, a("p", 0)},
				{"alias written, trust domain sent", rq{principal: "new.td/ns/x/sa/y"}, a("p", 0)},
				{"other trust domain", rq{principal: "other.td/ns/x/sa/y"}, denyNone},
			}},
		{name: "source.trustDomain stands for the mesh's aliases",
			mesh: Mesh{TrustDomain: "new.td", TrustDomainAliases: []string{"old.td"}},
			docs: policy("p", `
rules:
- when: [ { key: source.trustDomain, values: ["new.td"] } ]`),
			cases: []tableCase{
				{"trust domain sent", rq{principal: "new.td/ns/x/sa/y"}, a("p", 0)},
				{"alias sent", rq{principal: "old.td/ns/x/sa/y"}, a("p", 0)},
				{"other trust domain", rq{principal: "other.td/ns/x/sa/y"}, denyNone},
			}},
		{name: "trustDomains cluster.local is literal when not the mesh's",
			mesh: Mesh{TrustDomain: "new.td", TrustDomainAliases: []string{"old.td"}},
			docs: policy("p", `
rules:
- from: [ { source: { trustDomains: ["cluster.local"] } } ]`),
			cases: []tableCase{
				{"the mesh's trust domain", rq{principal: "new.td/ns/x/sa/y"}, denyNone},
				{"cluster.local itself", rq{principal: "cluster.local/ns/x/sa/y"}, a("p", 0)},
			}},
		{name: "notTrustDomains stand for the mesh's aliases",
			mesh: Mesh{TrustDomain: "new.td", TrustDomainAliases: []string{"old.td"}},
			docs: policy("p", `
action: DENY
rules:
- from: [ { source: { notTrustDomains: ["new.td"] } } ]`),
			cases: []tableCase{
				{"trust domain passes", rq{principal: "new.td/ns/x/sa/y"}, allowed},
				{"alias passes", rq{principal: "old.td/ns/x/sa/y"}, allowed},
				{"other denied", rq{principal: "other.td/ns/x/sa/y"}, d("p", 0)},
			}},
		{name: "notRequestPrincipals",
			docs: policy("p", `
action: DENY
rules:
- from: [ { source: { notRequestPrincipals: ["*"] } } ]`),
			cases: []tableCase{
				{"no token denied", rq{}, d("p", 0)},
				{"token passes", rq{auth: jwt("iss", "sub")}, allowed},
				{"token without subject denied", rq{auth: jwt("iss", "")}, d("p", 0)},
			}},
		{name: "ipBlocks and remoteIpBlocks",
			docs: policy("p", `
rules:
- from: [ { source: { ipBlocks: ["10.1.0.0/16", "192.0.2.7"] } } ]
- from: [ { source: { remoteIpBlocks: ["203.0.113.0/24", "2001:db8::/32"] } } ]
- from: [ { source: { ipBlocks: ["172.16.0.0/12"], notIpBlocks: ["172.16.5.0/24"] } } ]
- from: [ { source: { remoteIpBlocks: ["198.51.100.0/24"], notRemoteIpBlocks: ["198.51.100.66"] } } ]`),
			cases: []tableCase{
				{"peer in block", rq{peer: "10.1.200.3"}, a("p", 0)},
				{"single address", rq{peer: "192.0.2.7"}, a("p", 0)},
				{"next address", rq{peer: "192.0.2.8"}, denyNone},
				{"peer mapped IPv4", rq{peer: "::ffff:10.1.0.1"}, a("p", 0)},
				{"client in remote block", rq{peer: "10.200.0.1", client: "203.0.113.9"}, a("p", 1)},
				{"peer in remote block is not the client", rq{peer: "203.0.113.9", client: "10.200.0.1"}, denyNone},
				{"client in ipBlocks is not the peer", rq{peer: "10.200.0.1", client: "10.1.0.1"}, denyNone},
				{"IPv6 client", rq{client: "2001:db8::1"}, a("p", 1)},
				{"not ip: excluded", rq{peer: "172.16.5.1"}, denyNone},
				{"not ip: kept", rq{peer: "172.16.6.1"}, a("p", 2)},
				{"not remote: excluded", rq{client: "198.51.100.66"}, denyNone},
				{"not remote: kept", rq{client: "198.51.100.67"}, a("p", 3)},
			}},
		{name: "source fields are ANDed, values ORed, entries ORed",
			docs: policy("p", `
rules:
- from:
  - source: { namespaces: ["a"], ipBlocks: ["10.0.0.0/8"] }
  - source: { principals: ["cluster.local/ns/b/sa/x", "cluster.local/ns/c/sa/x"] }`),
			cases: []tableCase{
				{"both fields", rq{principal: td + "/ns/a/sa/z", peer: "10.2.3.4"}, a("p", 0)},
				{"one field only", rq{principal: td + "/ns/a/sa/z", peer: "11.2.3.4"}, denyNone},
				{"second entry, first value", rq{principal: td + "/ns/b/sa/x", peer: "11.2.3.4"}, a("p", 0)},
				{"second entry, second value", rq{principal: td + "/ns/c/sa/x"}, a("p", 0)},
				{"neither", rq{principal: td + "/ns/d/sa/x"}, denyNone},
			}},
	}
}

// jwt is a verified token's request.auth; an empty sub is a token
// without that claim.
func jwt(iss, sub string) *plugins.RequestAuth {
	claims := map[string]any{"iss": iss}
	if sub != "" {
		claims["sub"] = sub
	}
	return &plugins.RequestAuth{Principal: iss + "/" + sub, Claims: claims}
}

func TestDecideSources(t *testing.T) { runGroups(t, sourceGroups()) }
