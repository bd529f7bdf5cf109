package jwt

import (
	"errors"
	"strings"
	"testing"
)

// TestSpecErrors checks that every fault of a document is reported at
// once, each at the file line of its field, with Istio's wording.
func TestSpecErrors(t *testing.T) {
	spec := `jwtRules:
- issuer: ""
  audiences: [""]
  jwks: '{"keys": []}'
- issuer: https://a.example.com
  jwksUri: http://keys.example.com/jwks
  fromHeaders:
  - name: ""
  - {name: "bad name"}
  fromParams: [""]
  fromCookies: [""]
  outputClaimToHeaders:
  - {header: x-a}
  - {header: ":authority", claim: sub}
  timeout: soon
- issuer: b-issuer
- issuer: https://c.example.com
  jwks: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}'
- issuer: https://d.example.com
  jwks: x
  jwksUri: https://keys.example.com/jwks
`
	d := doc("shop", "bad", spec)
	d.Line = 10
	_, err := Compile([]Document{d}, Options{})
	want := []struct {
		line int
		msg  string
	}{
		{12, "jwtRules[0].audiences[0]: audience must be non-empty string"},
		{11, "jwtRules[0].issuer: issuer or jwksUri must be non-empty string"},
		{13, "jwtRules[0].jwks: jwks parse error: jwks doesn't have any valid public key"},
		{15, `jwtRules[1].jwksUri: jwks uri "http://keys.example.com/jwks" must use https`},
		{17, "jwtRules[1].fromHeaders[0].name: location header name must be non-empty string"},
		{18, `jwtRules[1].fromHeaders[1].name: header name "bad name" is not a valid HTTP token`},
		{19, "jwtRules[1].fromParams[0]: location query must be non-empty string"},
		{20, "jwtRules[1].fromCookies[0]: cookie name must be non-empty string"},
		{22, "jwtRules[1].outputClaimToHeaders[0]: outputClaimToHeaders header and claim value must be non-empty string"},
		{23, `jwtRules[1].outputClaimToHeaders[1].header: header name ":authority" is not a valid HTTP header name`},
		{24, `jwtRules[1].timeout: must be a positive duration such as 5s, got "soon"`},
		{25, `jwtRules[2].issuer: issuer "b-issuer" is no https URL to discover keys from: set jwks or jwksUri`},
		{27, "jwtRules[3].jwks: jwks parse error: jwks doesn't have any valid public key: key 0: symmetric (oct) keys are not accepted"},
		{29, "jwtRules[4].jwks: only one of jwks or jwksUri can be set"},
	}
	var got []*Error
	for _, e := range flatten(err) {
		var fe *Error
		if !errors.As(e, &fe) {
			t.Fatalf("got error %v, want *Error", e)
		}
		got = append(got, fe)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors:\n%v\nwant %d", len(got), err, len(want))
	}
	for i, w := range want {
		if got[i].Line != w.line || !strings.Contains(got[i].Error(), w.msg) || got[i].File != "policies.yaml" {
			t.Errorf("error %d: got %v, want policies.yaml line %d with %q", i, got[i], w.line, w.msg)
		}
	}
	if s := got[0].Error(); !strings.HasPrefix(s, "policies.yaml:12:") || !strings.Contains(s, "RequestAuthentication shop/bad") {
		t.Errorf("got %q, want file:line: and the document named", s)
	}
	if file, line, col := got[0].Position(); file != "policies.yaml" || line != 12 || col != 15 ||
		got[0].Message() != "RequestAuthentication shop/bad: jwtRules[0].audiences[0]: audience must be non-empty string" {
		t.Errorf("got position %s:%d:%d and message %q, want policies.yaml:12:15 and the document, field and fault", file, line, col, got[0].Message())
	}
}

// TestSpecDecodeErrors checks that unknown keys and wrong types are errors
// at their line.
func TestSpecDecodeErrors(t *testing.T) {
	tests := []struct {
		name, spec string
		line       int
		msg        string
	}{
		{"unknown key", "jwtRules:\n- issuer: a\n  jwksURI: https://x/\n", 3, "unknown field"},
		{"wrong type", "jwtRules:\n- issuer: [a]\n", 2, "cannot unmarshal"},
		{"selector and targetRef", "selector: {matchLabels: {app: a}}\ntargetRef: {kind: Gateway, name: g}\n", 1, "only one of targetRefs or workloadSelector"},
		{"not yaml", "jwtRules: [\n", 1, ""},
		{"inline key beside an oct key", "jwtRules:\n- issuer: a\n  jwks: '{\"keys\":[" + readmeJWK + `,{"kty":"oct","k":"c2VjcmV0"}]}'` + "\n", 3, "jwks parse error: key 1: symmetric (oct) keys are not accepted"},
		{"token from host", "jwtRules:\n- issuer: a\n  jwksUri: https://k/\n  fromHeaders: [{name: Host}]\n", 4, `header "Host" cannot be used`},
		{"payload to content-length", "jwtRules:\n- issuer: a\n  jwksUri: https://k/\n  outputPayloadToHeader: content_length\n", 4, `header "content_length" cannot be used`},
		{"claim to transfer-encoding", "jwtRules:\n- issuer: a\n  jwksUri: https://k/\n  outputClaimToHeaders: [{header: Transfer-Encoding, claim: sub}]\n", 4, `cannot be used`},
		{"weak RSA key", "jwtRules:\n- issuer: a\n  jwks: '" + weakRSA + "'\n", 3, "bits is too weak, at least 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]Document{doc("ns", "x", tt.spec)}, Options{})
			var fe *Error
			if !errors.As(err, &fe) || fe.Line != tt.line || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %v, want line %d with %q", err, tt.line, tt.msg)
			}
		})
	}
}

// TestSelection checks which documents guard which workload, as Istio
// selects them: the workload's namespace and the root namespace, by
// selector; targetRefs select no upstream.
func TestSelection(t *testing.T) {
	rule := func(iss string) string {
		return "jwtRules:\n- issuer: " + iss + "\n  jwksUri: https://keys.example.com/jwks\n"
	}
	docs := []Document{
		doc("shop", "ns-wide", rule("ns-wide")),
		doc("shop", "selected", "selector: {matchLabels: {app: api}}\n"+rule("selected")),
		doc("istio-system", "root", rule("root")),
		doc("istio-system", "root-selected", "selector: {matchLabels: {app: api}}\n"+rule("root-selected")),
		doc("other", "other", rule("other")),
		doc("shop", "gateway", "targetRefs: [{kind: Gateway, name: g}]\n"+rule("gateway")),
		{Name: "by-loader", Namespace: "shop", Selector: map[string]string{"tier": "web"}, Spec: []byte(rule("by-loader"))},
	}
	set, err := Compile(docs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	tests := []struct {
		ns     string
		labels map[string]string
		want   string
	}{
		{"shop", map[string]string{"app": "api", "x": "y"}, "ns-wide selected root root-selected"},
		{"shop", map[string]string{"app": "web"}, "ns-wide root"},
		{"shop", map[string]string{"tier": "web"}, "ns-wide root by-loader"},
		{"other", nil, "root other"},
		{"else", map[string]string{"app": "api"}, "root root-selected"},
		{"", nil, "root"},
	}
	for _, tt := range tests {
		h := set.For(tt.ns, tt.labels)
		var got []string
		if h != nil {
			for _, p := range h.rules {
				got = append(got, p.issuer)
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("For(%q, %v): got rules %q, want %q", tt.ns, tt.labels, got, tt.want)
		}
	}
	custom, err := Compile([]Document{doc("mesh", "r", rule("x"))}, Options{RootNamespace: "mesh"})
	if err != nil {
		t.Fatal(err)
	}
	defer custom.Close()
	if custom.For("any", nil) == nil {
		t.Error("got no handler from a document in a custom root namespace, want one")
	}
	if set.For("nowhere", map[string]string{"app": "x"}) == nil {
		t.Error("got no handler where the root namespace's document applies, want one")
	}
	var none *Handler
	if err := none.HandleRequest(t.Context(), parse(t, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")); err != nil {
		t.Errorf("got %v from a nil handler, want nil", err)
	}
}

// weakRSA is a JWKS with an RSA key shorter than 2048 bits.
const weakRSA = `{"keys":[{"kty":"RSA","e":"AQAB","n":"` +
	"wJ2Gp4yHU5b3mRqQzFe5e-Pk-Gs56a_N5iMhFi4fXgU1pLs1-v3dQ1XoUh1FQnLuhJ2vnYq6gsUNY9XN8FuH3kxcSeqp8tJvgmk9d3OGUaxw1oLk2SkhKTT7JDPQGRmbpcGxZSO1qGQRr5A3cf8ozTs5hPefqGfRKSc4YbYuvxFyn8" +
	`"}]}`

// readmeJWK is the public key of the README's first example.
const readmeJWK = `{"kty":"EC","crv":"P-256","x":"M_bLmQyqsO6GDZ3L22ic2bnhrlXtk1MU-MoFUnzu3EA","y":"lFkA147rSjE8X7Kd5JHh91xfI6i4LQg8Tkjp7KywwKg"}`

// flatten unpacks errors.Join.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestSpecAsFileLines checks a spec handed over as the lines it has in its
// file, indented under spec:, with Line the file line of its first: errors
// name the file's own lines.
func TestSpecAsFileLines(t *testing.T) {
	file := `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: a, namespace: shop}
spec:
  jwtRules:
  - jwksUri: https://keys.example.com/
    audiences: [""]
  - issuer: https://b.example.com
    fromParams: [""]
`
	lines := strings.SplitAfter(file, "\n")
	d := Document{Name: "a", Namespace: "shop", File: "jwt.yaml", Line: 5, Spec: []byte(strings.Join(lines[4:], ""))}
	_, err := Compile([]Document{d}, Options{})
	var got []string
	for _, e := range flatten(err) {
		got = append(got, e.Error())
	}
	want := []string{
		`jwt.yaml:7:17: RequestAuthentication shop/a: jwtRules[0].audiences[0]: audience must be non-empty string`,
		`jwt.yaml:9:18: RequestAuthentication shop/a: jwtRules[1].fromParams[0]: location query must be non-empty string`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
