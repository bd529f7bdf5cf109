package authz

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// templateRegexp is Envoy's reading of a uri_template as a regular
// expression, the oracle the template matcher is checked against.
func templateRegexp(t string) *regexp.Regexp {
	const pchar = `[a-zA-Z0-9\-._~%!$&'()+,;:@=]`
	var b strings.Builder
	b.WriteString("^")
	for t != "" {
		switch {
		case strings.HasPrefix(t, "{**}"):
			b.WriteString(`(?:` + pchar[:len(pchar)-1] + `/]*)`)
			t = t[4:]
		case strings.HasPrefix(t, "{*}"):
			b.WriteString(pchar + "+")
			t = t[3:]
		default:
			b.WriteString(regexp.QuoteMeta(t[:1]))
			t = t[1:]
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// stringRegexp is Istio's reading of a path value without a template:
// "*" is .+, a leading '*' a suffix, a trailing one a prefix. A '*' stands
// for any bytes, a newline among them ((?s)): no path the gateway forwards
// holds one, and the matcher does not look.
func stringRegexp(v string) *regexp.Regexp {
	switch {
	case v == "*":
		return regexp.MustCompile(`(?s)^.+$`)
	case strings.HasPrefix(v, "*"):
		return regexp.MustCompile(`(?s)^.*` + regexp.QuoteMeta(v[1:]) + `$`)
	case strings.HasSuffix(v, "*"):
		return regexp.MustCompile(`(?s)^` + regexp.QuoteMeta(v[:len(v)-1]) + `.*$`)
	}
	return regexp.MustCompile(`^` + regexp.QuoteMeta(v) + `$`)
}

// FuzzPathMatch checks the path matcher, templates included, against
// regular expressions that say what Istio and Envoy mean, on hostile paths.
func FuzzPathMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"/allow/admin/{**}", "/allow/admin/"}, {"/foo/{*}/bar/{**}", "/foo/x/bar/y/z"},
		{"/store/{**}/cart", "/store//cart"}, {"/{**}/path/template", "/a/b/path/template"},
		{"/prefix/*", "/prefix/%2e%2e/x"}, {"*/suffix", "//suffix"}, {"*", ""}, {"/exact", "/exact"},
		{"/a/{*}", "/a/b%2F"}, {"/a/{**}", "/a/\x00/\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, value, path string) {
		if value == "" || !utf8.ValidString(value) || pathTemplateError(value) != "" || len(value) > 200 || len(path) > 400 {
			return
		}
		m := newPathMatch(value)
		got := m.match(path)
		var want bool
		if isTemplate(value) {
			want = templateRegexp(value).MatchString(path)
		} else {
			want = stringRegexp(value).MatchString(path)
		}
		if got != want {
			t.Errorf("value %q, path %q: got %v, want %v", value, path, got, want)
		}
	})
}

// FuzzParse feeds the loader hostile YAML: it must never panic, and a file
// it accepts must compile and decide.
func FuzzParse(f *testing.F) {
	f.Add(policy("p", "rules: [ { from: [ { source: { namespaces: [a] } } ], to: [ { operation: { paths: [\"/x/{*}\"] } } ] } ]"))
	f.Add(policy("p", "action: DENY\nrules: [ { when: [ { key: \"request.auth.claims[a][b]\", values: [x] } ] } ]"))
	f.Add("a: &x [*x, *x]\n")
	f.Add("apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: r}\nspec: {jwtRules: [{issuer: i}]}\n")
	f.Fuzz(func(t *testing.T, data string) {
		if len(data) > 1<<14 {
			return
		}
		var s Set
		if err := s.Parse("fuzz.yaml", []byte(data)); err != nil {
			return
		}
		e, err := Compile(&s, Mesh{TrustDomainAliases: []string{"alias"}})
		if err != nil {
			t.Fatalf("a validated set does not compile: %v", err)
		}
		for _, p := range s.Policies {
			g := e.ForWorkload(p.Namespace, p.Selector)
			g.Decide(rq{principal: "cluster.local/ns/a/sa/b", target: "/x/y", auth: jwt("i", "s")}.request(t))
		}
	})
}
