package authz

import (
	"strings"
	"testing"
)

// TestValidateRefuses feeds documents istiod refuses, and those the gateway
// refuses, each with the fault's message and the line it must name.
func TestValidateRefuses(t *testing.T) {
	head := "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n"
	cases := []struct {
		name, spec string
		line       int // of the fault, counted in the whole document
		want       string
	}{
		{"DENY without rules", "  action: DENY\n", 5, "DENY action without `rules` is meaningless"},
		{"DENY with an empty list of rules", "  action: DENY\n  rules: []\n", 5, "DENY action without `rules` is meaningless"},
		{"CUSTOM without rules", "  action: CUSTOM\n  provider: {name: ext}\n", 5, "CUSTOM action without `rules`"},
		{"CUSTOM without provider name", "  action: CUSTOM\n  provider: {}\n  rules: [{}]\n", 5, "`provider.name` must not be empty"},
		{"provider without CUSTOM", "  provider: {name: ext}\n  rules: [{}]\n", 5, "`provider` must not be with non CUSTOM action, found ALLOW"},
		{"unknown action", "  action: PERMIT\n", 5, `Unsupported value: "PERMIT"`},
		{"selector and targetRefs", "  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Gateway, name: g}]\n", 5, "only one of targetRefs or workloadSelector can be set"},
		{"wildcard selector", "  selector: {matchLabels: {app: \"a*\"}}\n", 5, "wildcard is not supported in selector"},
		{"unknown spec field", "  rule: []\n", 5, `unknown field "rule"`},
		{"unknown source field", "  rules: [{from: [{source: {principal: [a]}}]}]\n", 5, `unknown field "principal"`},
		{"unknown operation field", "  rules: [{to: [{operation: {path: [/a]}}]}]\n", 5, `unknown field "path"`},
		{"empty from", "  rules:\n  - from: []\n", 6, "`from` must not be empty, found at rule 0"},
		{"empty to", "  rules:\n  - to: []\n", 6, "`to` must not be empty, found at rule 0"},
		{"nil source", "  rules:\n  - from:\n    - source:\n", 7, "`from.source` must not be nil, found at rule 0"},
		{"empty source", "  rules:\n  - from:\n    - source: {}\n", 7, "`from.source` must not be empty, found at rule 0"},
		{"nil operation", "  rules:\n  - to:\n    - operation:\n", 7, "`to.operation` must not be nil, found at rule 0"},
		{"empty operation", "  rules:\n  - to:\n    - operation: {}\n", 7, "`to.operation` must not be empty, found at rule 0"},
		{"empty value", "  rules:\n  - from:\n    - source: {principals: [\"\"]}\n", 7, "empty value not allowed, found in Principals"},
		{"empty path", "  rules:\n  - to:\n    - operation: {paths: [\"/a\", \"\"]}\n", 7, "empty value not allowed, found in Paths"},
		{"bad CIDR", "  rules:\n  - from:\n    - source: {ipBlocks: [\"10.0.0.0/33\"]}\n", 7, "bad CIDR range (10.0.0.0/33)"},
		{"bad IP", "  rules:\n  - from:\n    - source: {remoteIpBlocks: [\"10.0.0.256\"]}\n", 7, "bad IP address (10.0.0.256)"},
		{"zoned IP", "  rules:\n  - from:\n    - source: {notIpBlocks: [\"fe80::1%eth0\"]}\n", 7, "bad IP address (fe80::1%eth0)"},
		{"port out of range", "  rules:\n  - to:\n    - operation: {ports: [\"65536\"]}\n", 7, "bad port (65536)"},
		{"port not a number", "  rules:\n  - to:\n    - operation: {notPorts: [\"http\"]}\n", 7, "bad port (http)"},
		{"port as an integer", "  rules:\n  - to:\n    - operation: {ports: [80]}\n", 7, "must be of type string"},
		{"negative port", "  rules:\n  - to:\n    - operation: {ports: [\"-1\"]}\n", 7, "bad port (-1)"},
		{"template not last", "  rules:\n  - to:\n    - operation: {paths: [\"/a/{**}/b/{*}\"]}\n", 7, "{**} is not the last operator"},
		{"template in a segment", "  rules:\n  - to:\n    - operation: {paths: [\"/a/{*}.txt\"]}\n", 7, "Contains '{' or '}' beyond a supported path template"},
		{"template with a bad literal", "  rules:\n  - to:\n    - operation: {notPaths: [\"/a b/{*}\"]}\n", 7, "with invalid string literal"},
		{"named template", "  rules:\n  - to:\n    - operation: {paths: [\"/a/{id}\"]}\n", 7, "Contains '{' or '}'"},
		{"service account with principals", "  rules:\n  - from:\n    - source: {serviceAccounts: [a], principals: [b]}\n", 7, "Cannot set serviceAccounts with namespaces or principals"},
		{"service account wildcard", "  rules:\n  - from:\n    - source: {serviceAccounts: [\"ns/*\"]}\n", 7, "wildcard not allowed, found in ServiceAccounts"},
		{"service account with two slashes", "  rules:\n  - from:\n    - source: {serviceAccounts: [\"a/b/c\"]}\n", 7, "expected format 'serviceAccount' or 'namespace/serviceAccount'"},
		{"service account empty namespace", "  rules:\n  - from:\n    - source: {notServiceAccounts: [\"/sa\"]}\n", 7, "found empty namespace"},
		{"trust domain wildcard in the middle", "  rules:\n  - from:\n    - source: {trustDomains: [\"a*b\"]}\n", 7, `wildcard is only allowed at the start or end, found in TrustDomains: "a*b"`},
		{"trust domain two wildcards", "  rules:\n  - from:\n    - source: {trustDomains: [\"*a*\"]}\n", 7, `at most one wildcard is allowed, found in TrustDomains: "*a*"`},
		{"trust domain with a slash", "  rules:\n  - from:\n    - source: {notTrustDomains: [\"td/ns/a\"]}\n", 7, `trust domain must not contain '/', found in NotTrustDomains: "td/ns/a"`},
		{"source.trustDomain two wildcards", "  rules:\n  - when:\n    - {key: source.trustDomain, values: [\"*a*\"]}\n", 7, `at most one wildcard is allowed, found in source.trustDomain: "*a*"`},
		{"null rule", "  rules:\n  - {}\n  -\n", 7, "`rule` must not be nil, found at rule 1"},
		{"null rule of a DENY", "  action: DENY\n  rules: [~]\n", 6, "`rule` must not be nil, found at rule 0"},
		{"when without values", "  rules:\n  - when:\n    - key: source.ip\n", 7, "at least one of `values` or `notValues` must be set for key source.ip"},
		{"when without key", "  rules:\n  - when:\n    - values: [a]\n", 7, "`key` must not be empty"},
		{"unknown when key", "  rules:\n  - when:\n    - {key: request.host, values: [a]}\n", 7, "invalid `value` for `key` request.host: unknown attribute: request.host"},
		{"destination.namespace", "  rules:\n  - when:\n    - {key: destination.namespace, values: [a]}\n", 7, "is replaced by the metadata.namespace"},
		{"destination.labels", "  rules:\n  - when:\n    - {key: \"destination.labels[app]\", values: [a]}\n", 7, "is replaced by the workload selector"},
		{"destination.user", "  rules:\n  - when:\n    - {key: destination.user, values: [a]}\n", 7, "deprecated attribute destination.user: only supported in v1alpha1"},
		{"header key without name", "  rules:\n  - when:\n    - {key: \"request.headers[]\", values: [a]}\n", 7, "bad key (request.headers[]): should have format a[b]"},
		{"header key with a longer prefix", "  rules:\n  - when:\n    - {key: \"request.headersX[a]\", values: [a]}\n", 7, "bad key (request.headersX[a]): want request.headers[<name>]"},
		{"claims key with a longer prefix", "  rules:\n  - when:\n    - {key: \"request.auth.claimsX[a]\", values: [a]}\n", 7, "bad key (request.auth.claimsX[a]): want request.auth.claims[<name>]"},
		{"claims key without brackets", "  rules:\n  - when:\n    - {key: request.auth.claims, values: [a]}\n", 7, "should have format a[b]"},
		{"bad destination.port", "  rules:\n  - when:\n    - {key: destination.port, notValues: [\"99999\"]}\n", 7, "invalid `notValue` for `key` destination.port: bad port (99999)"},
		{"bad source.ip", "  rules:\n  - when:\n    - {key: source.ip, values: [\"1.2.3\"]}\n", 7, "bad IP address (1.2.3)"},
		{"empty condition value", "  rules:\n  - when:\n    - {key: connection.sni, values: [\"\"]}\n", 7, "empty value not allowed"},
		{"experimental key", "  rules:\n  - when:\n    - {key: \"experimental.envoy.filters.a.b[c]\", values: [x]}\n", 7, "Envoy filter's dynamic metadata"},
		{"rules not a list", "  rules: {}\n", 5, "spec.rules: must be of type array"},
		{"values not a list", "  rules:\n  - from:\n    - source: {principals: a}\n", 7, "must be of type array"},
		{"duplicate key", "  action: DENY\n  action: ALLOW\n", 6, `duplicate field "action"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			err := s.Parse("p.yaml", []byte(head+c.spec))
			if err == nil {
				t.Fatalf("loaded, want %q", c.want)
			}
			for _, e := range err.(Errors) {
				if strings.Contains(e.Msg, c.want) {
					if e.Line != c.line {
						t.Errorf("got line %d, want %d: %v", e.Line, c.line, e)
					}
					if !strings.HasPrefix(e.Msg, "AuthorizationPolicy foo/p: ") {
						t.Errorf("message names no policy: %v", e)
					}
					return
				}
			}
			t.Errorf("got %v, want %q", err, c.want)
		})
	}
}

// TestDocuments covers the file around the policies: kinds, versions,
// metadata, several documents and RequestAuthentication kept for the jwt
// plugin.
func TestDocuments(t *testing.T) {
	pol := "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: ns}\nspec: {}\n"
	cases := []struct {
		name, file string
		want       string // "" when it loads
	}{
		{"v1", pol, ""},
		{"v1beta1", strings.Replace(pol, "/v1\n", "/v1beta1\n", 1), ""},
		{"v1alpha1 refused", strings.Replace(pol, "/v1\n", "/v1alpha1\n", 1), `apiVersion "security.istio.io/v1alpha1"`},
		{"other kind refused", strings.Replace(pol, "AuthorizationPolicy", "PeerAuthentication", 1), `kind "PeerAuthentication" is not read by the gateway`},
		{"misspelt kind refused", strings.Replace(pol, "AuthorizationPolicy", "AuthorisationPolicy", 1), `kind "AuthorisationPolicy"`},
		{"no kind", strings.Replace(pol, "kind: AuthorizationPolicy\n", "", 1), "kind: required value"},
		{"no name", strings.Replace(pol, "name: a, ", "", 1), "name: required value"},
		{"bad name", strings.Replace(pol, "name: a,", "name: A_b,", 1), "metadata.name: a lowercase RFC 1123 subdomain"},
		{"bad namespace", strings.Replace(pol, "namespace: ns", "namespace: Ns.x", 1), "metadata.namespace: a lowercase RFC 1123 label"},
		{"duplicate policy", pol + "---\n" + pol, "AuthorizationPolicy ns/a is also defined at x.yaml:1"},
		{"same name, other namespace", pol + "---\n" + strings.Replace(pol, "namespace: ns", "namespace: ns2", 1), ""},
		{"empty documents skipped", "---\n" + pol + "---\n---\n", ""},
		{"not YAML", "a: [", "YAML:"},
		{"unknown top-level key", pol + "extra: 1\n", `unknown field "extra"`},
		{"status is Kubernetes'", pol + "status: {x: 1}\n", ""},
		{"metadata kept as Kubernetes writes it", strings.Replace(pol, "namespace: ns}", "namespace: ns, uid: x, labels: {a: b}}", 1), ""},
		{"not a mapping", "- a\n", "document: must be of type object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			err := s.Parse("x.yaml", []byte(c.file))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("got %v, want it to load", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	t.Run("namespace defaults to default", func(t *testing.T) {
		var s Set
		if err := s.Parse("x.yaml", []byte(strings.Replace(pol, ", namespace: ns", "", 1))); err != nil {
			t.Fatal(err)
		}
		if got := s.Policies[0].Namespace; got != "default" {
			t.Errorf("got %q, want default", got)
		}
	})
	t.Run("RequestAuthentication kept undecoded", func(t *testing.T) {
		ra := "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: ns}\n" +
			"spec:\n  selector: {matchLabels: {app: api}}\n  jwtRules:\n  - issuer: https://idp.example\n    jwksUri: https://idp.example/jwks\n"
		var s Set
		if err := s.Parse("x.yaml", []byte(pol+"---\n"+ra)); err != nil {
			t.Fatal(err)
		}
		if len(s.RequestAuthentications) != 1 || len(s.Policies) != 1 {
			t.Fatalf("got %d RequestAuthentications and %d policies, want 1 and 1", len(s.RequestAuthentications), len(s.Policies))
		}
		r := s.RequestAuthentications[0]
		if r.File != "x.yaml" || r.Line != 6 || r.Name != "jwt" || r.Namespace != "ns" || r.Selector["app"] != "api" {
			t.Errorf("got %+v", r)
		}
		if !strings.Contains(string(r.Spec), "jwksUri: https://idp.example/jwks") {
			t.Errorf("got spec %q", r.Spec)
		}
	})
}

// TestWarnings covers what loads but deserves a word.
func TestWarnings(t *testing.T) {
	docs := policy("deny-admin", "action: DENY\nrules: [ { to: [ { operation: { paths: [/admin, /ok, /ok/] } } ] } ]") +
		policy("scheme", "rules: [ { from: [ { source: { principals: [\"spiffe://cluster.local/ns/a/sa/b\"] } } ] } ]") +
		policy("gw", "targetRefs: [ { kind: Gateway, group: gateway.networking.k8s.io, name: edge } ]\naction: DENY\nrules: [ {} ]") +
		policy("hosts", "action: DENY\nrules: [ { to: [ { operation: { hosts: [a.example, \"a.example:*\", b.example, \"*.c.example\", \"d.example:80\"] } } ] } ]") +
		policy("not-hosts", "rules: [ { to: [ { operation: { notHosts: [internal.example] } } ] } ]") +
		policy("spelling", "rules: [ { to: [ { operation: { paths: [\"/caf\u00e9\", \"/%61dmin\", \"/a%2fb\", \"/ok%2F*\", \"/x/{*}\"] } } ] } ]")
	var s Set
	if err := s.Parse("w.yaml", []byte(docs)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range s.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		`w.yaml:8:43: AuthorizationPolicy foo/deny-admin: DENY on the exact path "/admin" does not deny "/admin/"`,
		`w.yaml:16:47: AuthorizationPolicy foo/scheme: principals value "spiffe://cluster.local/ns/a/sa/b" never matches`,
		`w.yaml:24:3: AuthorizationPolicy foo/gw: the policy attaches by targetRefs, which Istio honours on Gateway API gateways and waypoints only: it guards no upstream here`,
		`w.yaml:35:69: AuthorizationPolicy foo/hosts: DENY on the host "b.example" does not deny "b.example" with a port, such as "b.example:443"`,
		`w.yaml:43:46: AuthorizationPolicy foo/not-hosts: ALLOW with notHosts "internal.example" does not exclude "internal.example" with a port`,
		`w.yaml:51:43: AuthorizationPolicy foo/spelling: paths value "/café" is not in the normalised form requests are compared in, "/caf%C3%A9"`,
		`w.yaml:51:52: AuthorizationPolicy foo/spelling: paths value "/%61dmin" is not in the normalised form requests are compared in, "/admin"`,
		`w.yaml:51:64: AuthorizationPolicy foo/spelling: paths value "/a%2fb" is not in the normalised form requests are compared in, "/a%2Fb"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %d warnings", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("got %q, want %q…", got[i], want[i])
		}
	}
}

// TestDryRunAnnotation reads istio.io/dry-run as istiod does: any value
// strconv.ParseBool takes, refused when it takes none, and only on ALLOW
// and DENY policies.
func TestDryRunAnnotation(t *testing.T) {
	doc := func(kind, action, value string) string {
		return "apiVersion: security.istio.io/v1\nkind: " + kind + "\nmetadata:\n  name: p\n  namespace: foo\n" +
			"  annotations: {istio.io/dry-run: \"" + value + "\"}\nspec:\n  action: " + action + "\n  rules: [{}]\n"
	}
	for _, c := range []struct {
		name, file string
		dryRun     bool
		err        string
	}{
		{"true", doc("AuthorizationPolicy", "ALLOW", "true"), true, ""},
		{"True", doc("AuthorizationPolicy", "ALLOW", "True"), true, ""},
		{"TRUE", doc("AuthorizationPolicy", "DENY", "TRUE"), true, ""},
		{"1", doc("AuthorizationPolicy", "ALLOW", "1"), true, ""},
		{"t", doc("AuthorizationPolicy", "DENY", "t"), true, ""},
		{"false", doc("AuthorizationPolicy", "ALLOW", "false"), false, ""},
		{"0", doc("AuthorizationPolicy", "DENY", "0"), false, ""},
		{"yes", doc("AuthorizationPolicy", "ALLOW", "yes"), false, "foo/p has annotation istio.io/dry-run with invalid value (yes)"},
		{"empty", doc("AuthorizationPolicy", "DENY", ""), false, "with invalid value ()"},
		{"on AUDIT", doc("AuthorizationPolicy", "AUDIT", "true"), false,
			"the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action AUDIT in foo/p"},
		{"false on AUDIT", doc("AuthorizationPolicy", "AUDIT", "false"), false, "currently only supports action ALLOW/DENY"},
		{"on RequestAuthentication", strings.Replace(doc("RequestAuthentication", "ALLOW", "true"), "  action: ALLOW\n  rules: [{}]\n", "  jwtRules: [{issuer: i}]\n", 1),
			false, "foo/p has unsupported annotation istio.io/dry-run, please remove the annotation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			err := s.Parse("x.yaml", []byte(c.file))
			switch {
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("got %v, want %q", err, c.err)
				}
			case err != nil:
				t.Errorf("got %v, want it to load", err)
			case s.Policies[0].DryRun != c.dryRun:
				t.Errorf("got dry run %v, want %v", s.Policies[0].DryRun, c.dryRun)
			}
		})
	}
}

// TestTargetRefsAttach reads targetRef and targetRefs as Istio's policy
// attachment does: a policy whose list is empty or null has no target
// reference and guards by its selector; one with a reference guards no
// upstream; a selector or both forms together are refused.
func TestTargetRefsAttach(t *testing.T) {
	for _, c := range []struct {
		name, spec string
		applies    bool
		err        string
	}{
		{"no reference", "", true, ""},
		{"empty targetRefs", "targetRefs: []\n", true, ""},
		{"null targetRefs", "targetRefs: null\n", true, ""},
		{"null targetRef", "targetRef: null\n", true, ""},
		{"empty targetRefs with a selector", "targetRefs: []\nselector: {matchLabels: {app: a}}\n", false, "only one of targetRefs or workloadSelector can be set"},
		{"targetRefs", "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: g}]\n", false, ""},
		{"targetRef", "targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: g}\n", false, ""},
		{"targetRefs not a list", "targetRefs: {kind: Gateway, name: g}\n", false, "spec.targetRefs: must be of type array"},
		{"targetRef not an object", "targetRef: [{kind: Gateway, name: g}]\n", false, "spec.targetRef: must be of type object"},
		{"targetRef and targetRefs", "targetRef: {kind: Gateway, name: g}\ntargetRefs: [{kind: Gateway, name: h}]\n", false,
			"only one of targetRefs or workloadSelector can be set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Set
			err := s.Parse("x.yaml", []byte(policy("p", c.spec+"action: DENY\nrules: [{}]")))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e, err := Compile(&s, Mesh{})
			if err != nil {
				t.Fatal(err)
			}
			if got := !e.ForWorkload("foo", map[string]string{"app": "a"}).Decide(rq{}.request(t)).Allowed; got != c.applies {
				t.Errorf("got denied %v, want %v", got, c.applies)
			}
		})
	}
}

// TestAliasExpansion refuses a file whose YAML aliases expand it past what
// any set of policies needs: a few kilobytes that name one list of values
// through aliases of aliases must not cost the gateway its memory at a
// reload.
func TestAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n  rules: [")
	b.WriteString("&r {from: [&s {source: {principals: [a")
	for i := 1; i < 100; i++ {
		b.WriteString(", a")
	}
	b.WriteString("]}}")
	for i := 1; i < 100; i++ {
		b.WriteString(", *s")
	}
	b.WriteString("]}")
	for i := 1; i < 100; i++ {
		b.WriteString(", *r")
	}
	b.WriteString("]\n")
	var s Set
	err := s.Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("got %v, want the expansion refused", err)
	}
	// The same aliases, a few times over, load.
	small := b.String()
	small = small[:strings.Index(small, ", *r")] + "]\n"
	s = Set{}
	if err := s.Parse("small.yaml", []byte(small)); err != nil {
		t.Errorf("small: %v", err)
	}
}
