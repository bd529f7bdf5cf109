package jwt

import (
	"strings"
	"testing"
)

// policyFile holds two RequestAuthentications among other documents, in
// block and flow style, each with one fault.
const policyFile = `# policies of shop
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow, namespace: shop}
spec: {}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: api
  namespace: shop
spec:
  # the login service
  selector:
    matchLabels: {app: api}
  jwtRules:
  - issuer: https://login.example.com
    jwksUri: https://login.example.com/keys
    fromParams: [""]
status: {}
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: flow}
spec: {jwtRules: [{issuer: a, jwksUri: "https://k.example.com/", audiences: [""]}]}
...
---
kind: RequestAuthentication
apiVersion: networking.istio.io/v1
metadata: {namespace: x}
`

// TestRead checks that Read keeps the RequestAuthentications of a policy
// file with what Compile needs to name the file's own lines.
func TestRead(t *testing.T) {
	docs, err := Read("policies/shop.yaml", []byte(policyFile))
	var got []string
	for _, e := range flatten(err) {
		got = append(got, e.Error())
	}
	want := []string{
		`policies/shop.yaml:29:1: RequestAuthentication x/: apiVersion must be security.istio.io/v1 or security.istio.io/v1beta1, got networking.istio.io/v1`,
		`policies/shop.yaml:28:1: RequestAuthentication x/: metadata.name is required`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(docs) != 3 {
		t.Fatalf("got %d documents, want 3", len(docs))
	}
	if d := docs[0]; d.Name != "api" || d.Namespace != "shop" || d.Line != 12 {
		t.Errorf("got %s/%s at line %d, want shop/api at line 12", d.Namespace, d.Name, d.Line)
	}
	if d := docs[1]; d.Name != "flow" || d.Namespace != "default" {
		t.Errorf("got %s/%s, want default/flow", d.Namespace, d.Name)
	}
	_, err = Compile(docs[:2], Options{})
	got = nil
	for _, e := range flatten(err) {
		got = append(got, e.Error())
	}
	want = []string{
		`policies/shop.yaml:19:18: RequestAuthentication shop/api: jwtRules[0].fromParams[0]: location query must be non-empty string`,
		`policies/shop.yaml:25:78: RequestAuthentication default/flow: jwtRules[0].audiences[0]: audience must be non-empty string`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Read("bad.yaml", []byte("a: [\n")); err == nil || !strings.HasPrefix(err.Error(), "bad.yaml:") {
		t.Errorf("got %v for broken YAML, want an error at bad.yaml", err)
	}
}
