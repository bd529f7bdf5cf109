package authz

import "testing"

// operationGroups cover every field of an operation, each match form and
// each negation, and Istio's path templating vectors.
func operationGroups() []group {
	return []group{
		{name: "hosts",
			docs: policy("p", `
rules:
- to: [ { operation: { hosts: ["exact.com", "*.suffix.com", "prefix.*"] } } ]
- to: [ { operation: { hosts: ["port.com:8443"] } } ]`),
			cases: []tableCase{
				{"exact", rq{host: "exact.com"}, a("p", 0)},
				{"exact in upper case", rq{host: "EXACT.COM"}, a("p", 0)},
				{"exact with a port is another host", rq{host: "exact.com:443"}, denyNone},
				{"suffix", rq{host: "a.suffix.com"}, a("p", 0)},
				{"suffix, mixed case", rq{host: "A.Suffix.COM"}, a("p", 0)},
				{"suffix with a port misses", rq{host: "a.suffix.com:80"}, denyNone},
				{"prefix", rq{host: "prefix.org"}, a("p", 0)},
				{"prefix with port", rq{host: "prefix.org:80"}, a("p", 0)},
				{"host with port as sent", rq{host: "port.com:8443"}, a("p", 1)},
				{"port host without its port", rq{host: "port.com"}, denyNone},
				{"other", rq{host: "other.com"}, denyNone},
				{"exact with a trailing dot, as routes read it", rq{host: "exact.com."}, a("p", 0)},
				{"suffix with a trailing dot", rq{host: "a.suffix.com."}, a("p", 0)},
				{"trailing dot before the port", rq{host: "port.com.:8443"}, a("p", 1)},
				{"two trailing dots", rq{host: "exact.com.."}, denyNone},
			}},
		{name: "hosts in a DENY",
			docs: policy("p", `
action: DENY
rules:
- to: [ { operation: { hosts: ["internal.example.com"] } } ]`),
			cases: []tableCase{
				{"exact", rq{host: "internal.example.com"}, d("p", 0)},
				{"upper case", rq{host: "Internal.Example.COM"}, d("p", 0)},
				{"trailing dot, routed as the host", rq{host: "internal.example.com."}, d("p", 0)},
				{"with a port, as Istio reads it", rq{host: "internal.example.com:443"}, allowed},
			}},
		{name: "notHosts",
			docs: policy("p", `
action: DENY
rules:
- to: [ { operation: { notHosts: ["public.example.com", "*.public.example.com"] } } ]`),
			cases: []tableCase{
				{"public passes", rq{host: "public.example.com"}, allowed},
				{"public in upper case passes", rq{host: "PUBLIC.EXAMPLE.COM"}, allowed},
				{"sub passes", rq{host: "api.public.example.com"}, allowed},
				{"other denied", rq{host: "internal.example.com"}, d("p", 0)},
				{"public with a port denied", rq{host: "public.example.com:443"}, d("p", 0)},
				{"public with a trailing dot passes", rq{host: "public.example.com."}, allowed},
				{"other with a trailing dot denied", rq{host: "internal.example.com."}, d("p", 0)},
			}},
		{name: "ports",
			docs: policy("p", `
rules:
- to: [ { operation: { ports: ["8443", "9000"] } } ]
- to: [ { operation: { notPorts: ["8443", "9000", "15443"] } } ]
  from: [ { source: { namespaces: ["other-ports"] } } ]`),
			cases: []tableCase{
				{"listed port", rq{local: "10.0.0.1:8443"}, a("p", 0)},
				{"second port", rq{local: "10.0.0.1:9000"}, a("p", 0)},
				{"other port", rq{local: "10.0.0.1:8080"}, denyNone},
				{"Host port does not count", rq{local: "10.0.0.1:8080", host: "svc:8443"}, denyNone},
				{"notPorts: unlisted", rq{local: "10.0.0.1:8080", principal: "cluster.local/ns/other-ports/sa/x"}, a("p", 1)},
				{"notPorts: listed", rq{local: "10.0.0.1:15443", principal: "cluster.local/ns/other-ports/sa/x"}, denyNone},
			}},
		{name: "methods",
			docs: policy("p", `
rules:
- to: [ { operation: { methods: ["GET", "HEAD"] } } ]
- to: [ { operation: { methods: ["P*"], paths: ["/write"] } } ]
- to: [ { operation: { notMethods: ["DELETE"], paths: ["/nodelete"] } } ]`),
			cases: []tableCase{
				{"GET", rq{method: "GET"}, a("p", 0)},
				{"HEAD", rq{method: "HEAD"}, a("p", 0)},
				{"POST elsewhere", rq{method: "POST"}, denyNone},
				{"prefix POST", rq{method: "POST", target: "/write"}, a("p", 1)},
				{"prefix PUT", rq{method: "PUT", target: "/write"}, a("p", 1)},
				{"prefix PATCH", rq{method: "PATCH", target: "/write"}, a("p", 1)},
				{"DELETE on write", rq{method: "DELETE", target: "/write"}, denyNone},
				{"not DELETE: PUT", rq{method: "PUT", target: "/nodelete"}, a("p", 2)},
				{"not DELETE: DELETE", rq{method: "DELETE", target: "/nodelete"}, denyNone},
			}},
		{name: "paths",
			docs: policy("p", `
rules:
- to: [ { operation: { paths: ["/exact"] } } ]
- to: [ { operation: { paths: ["/prefix/*"] } } ]
- to: [ { operation: { paths: ["*.png"] } } ]
- to: [ { operation: { paths: ["*"], methods: ["OPTIONS"] } } ]`),
			cases: []tableCase{
				{"exact", rq{target: "/exact"}, a("p", 0)},
				{"exact with a query", rq{target: "/exact?x=1"}, a("p", 0)},
				{"exact with a trailing slash", rq{target: "/exact/"}, denyNone},
				{"exact with two slashes", rq{target: "//exact"}, denyNone},
				{"exact upper case", rq{target: "/EXACT"}, denyNone},
				{"exact, escaped slash after", rq{target: "/exact%2F.."}, denyNone},
				{"prefix", rq{target: "/prefix/a/b"}, a("p", 1)},
				{"prefix itself", rq{target: "/prefix/"}, a("p", 1)},
				{"prefix without slash", rq{target: "/prefix"}, denyNone},
				{"suffix", rq{target: "/img/a.png"}, a("p", 2)},
				{"suffix in the query only", rq{target: "/img/a?f=.png"}, denyNone},
				{"star", rq{method: "OPTIONS", target: "/anything"}, a("p", 3)},
			}},
		{name: "notPaths",
			docs: policy("p", `
action: DENY
rules:
- to: [ { operation: { notPaths: ["/public/*", "/healthz"] } } ]`),
			cases: []tableCase{
				{"public", rq{target: "/public/x"}, allowed},
				{"health", rq{target: "/healthz"}, allowed},
				{"health with query", rq{target: "/healthz?full=1"}, allowed},
				{"private", rq{target: "/private"}, d("p", 0)},
				{"health with slash", rq{target: "/healthz/"}, d("p", 0)},
			}},
		{name: "path templates (Istio's TestAuthz_PathTemplating)",
			docs: policy("p", `
rules:
- to: [ { operation: { paths: ["/allow/admin/{**}", "/foo/{*}/bar/{**}", "/store/{**}/cart"] } } ]`),
			cases: []tableCase{
				{"/allow/admin/", rq{target: "/allow/admin/"}, a("p", 0)},
				{"/allow/admin/temp", rq{target: "/allow/admin/temp"}, a("p", 0)},
				{"/allow/admin/temp.txt", rq{target: "/allow/admin/temp.txt"}, a("p", 0)},
				{"/allow/admin/foo/temp.txt", rq{target: "/allow/admin/foo/temp.txt"}, a("p", 0)},
				{"/foo/buzz/bar/bat.txt", rq{target: "/foo/buzz/bar/bat.txt"}, a("p", 0)},
				{"/foo/buzz/bar/bat.temp.txt", rq{target: "/foo/buzz/bar/bat.temp.txt"}, a("p", 0)},
				{"/foo/buzz/bar/bat/fuzz.txt", rq{target: "/foo/buzz/bar/bat/fuzz.txt"}, a("p", 0)},
				{"/foo/buzz/bar/bat", rq{target: "/foo/buzz/bar/bat"}, a("p", 0)},
				{"/store//cart", rq{target: "/store//cart"}, a("p", 0)},
				{"/store/foo/cart", rq{target: "/store/foo/cart"}, a("p", 0)},
				{"/store/foo/bar/cart", rq{target: "/store/foo/bar/cart"}, a("p", 0)},
				{"/allow/admin", rq{target: "/allow/admin"}, denyNone},
				{"/allow/user/", rq{target: "/allow/user/"}, denyNone},
				{"/allow/admin?param=value", rq{target: "/allow/admin?param=value"}, denyNone},
				{"/allow", rq{target: "/allow"}, denyNone},
				{"/foo/bar/bat.txt", rq{target: "/foo/bar/bat.txt"}, denyNone},
				{"/foo//bar/bat.txt", rq{target: "/foo//bar/bat.txt"}, denyNone},
				{"/store/cart", rq{target: "/store/cart"}, denyNone},
			}},
		{name: "path templates (the proto's examples)",
			docs: policy("p", `
rules:
- to: [ { operation: { paths: ["/one/{*}"] } } ]
- to: [ { operation: { paths: ["/many/{**}/"] } } ]`),
			cases: []tableCase{
				{"/one/bar", rq{target: "/one/bar"}, a("p", 0)},
				{"/one/bar/baz", rq{target: "/one/bar/baz"}, denyNone},
				{"/one/ needs a segment", rq{target: "/one/"}, denyNone},
				{"/many/bar/", rq{target: "/many/bar/"}, a("p", 1)},
				{"/many/bar/baz.txt/", rq{target: "/many/bar/baz.txt/"}, a("p", 1)},
				{"/many//", rq{target: "/many//"}, a("p", 1)},
				{"/many/bar", rq{target: "/many/bar"}, denyNone},
				{"segment with a character outside pchar", rq{target: "/one/a%7Cb"}, a("p", 0)},
				{"segment with a raw quote", rq{target: "/one/a\"b"}, denyNone},
			}},
		{name: "operation fields are ANDed, entries ORed",
			docs: policy("p", `
rules:
- to:
  - operation: { methods: ["GET"], paths: ["/read/*"] }
  - operation: { methods: ["POST"], paths: ["/write"] }`),
			cases: []tableCase{
				{"GET read", rq{method: "GET", target: "/read/1"}, a("p", 0)},
				{"POST write", rq{method: "POST", target: "/write"}, a("p", 0)},
				{"GET write", rq{method: "GET", target: "/write"}, denyNone},
				{"POST read", rq{method: "POST", target: "/read/1"}, denyNone},
			}},
		{name: "DENY /admin and ALLOW /allow* (Istio's TestAuthz_PathPrecedence)",
			docs: policy("deny-admin", `
action: DENY
rules: [ { to: [ { operation: { paths: ["/allow/admin"] } } ] } ]`) + policy("allow-all", `
rules: [ { to: [ { operation: { paths: ["/allow*"] } } ] } ]`),
			cases: []tableCase{
				{"/allow/admin", rq{target: "/allow/admin"}, d("deny-admin", 0)},
				{"/allow/admin?param=value", rq{target: "/allow/admin?param=value"}, d("deny-admin", 0)},
				{"/allow", rq{target: "/allow"}, a("allow-all", 0)},
				{"/allow?param=value", rq{target: "/allow?param=value"}, a("allow-all", 0)},
				{"/other", rq{target: "/other"}, denyNone},
			}},
	}
}

func TestDecideOperations(t *testing.T) { runGroups(t, operationGroups()) }
