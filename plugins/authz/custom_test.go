package authz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// TestCustomIstioInputs loads Istio's CUSTOM builder inputs: the policies
// of one provider send what their rules match to it, and two providers on
// one workload are refused in Istio's words.
func TestCustomIstioInputs(t *testing.T) {
	httpbin := map[string]string{"app": "httpbin", "version": "v1"}
	mesh := Mesh{ExtAuthz: []plugins.ExtAuthz{{Name: "default"}, {Name: "another"}}}
	data, err := os.ReadFile(filepath.Join("testdata", "istio", "custom-simple-http-in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := load(t, string(data), mesh).Guard("foo", httpbin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := g.Provider(); p == nil || p.Name != "default" {
		t.Fatalf("provider: got %v, want default", p)
	}
	for _, c := range []struct{ target, want string }{
		{"/httpbin1", "ns[foo]-policy[httpbin-1]-rule[0]"},
		{"/httpbin2", "ns[foo]-policy[httpbin-2]-rule[0]"},
		{"/httpbin3", ""},
		{"/httpbin1/x", ""},
	} {
		d := g.Decide(rq{target: c.target}.request(t))
		if d.Custom.ID != c.want || !d.Allowed {
			t.Errorf("%s: got custom %q allowed %v, want %q and no other policy to deny", c.target, d.Custom.ID, d.Allowed, c.want)
		}
	}
	if g, err := load(t, string(data), mesh).Guard("foo", map[string]string{"app": "other"}, nil); err != nil || g.Provider() != nil {
		t.Errorf("unselected workload: got %v %v, want no provider", g, err)
	}

	data, err = os.ReadFile(filepath.Join("testdata", "istio", "custom-bad-multiple-providers-in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := load(t, string(data), mesh)
	want := "only 1 provider can be used per workload, found multiple providers: [default another]"
	if _, err := e.Guard("foo", httpbin, nil); err == nil || err.Error() != want {
		t.Errorf("two providers: got %v, want %q", err, want)
	}
	// A route that names one provider's policy beside a workload of the
	// other's is the same fault.
	if _, err := e.Guard("bar", nil, []string{"foo/httpbin-1"}); err != nil {
		t.Errorf("one provider by name: got %v", err)
	}
	if _, err := e.Guard("foo", httpbin, []string{"foo/httpbin-1"}); err == nil {
		t.Errorf("named and selected providers: got nil, want %q", want)
	}
}

// TestCheckProviders refuses a CUSTOM policy whose provider the mesh does
// not define, at the policy's file and line; dry-run CUSTOM policies ask
// nobody.
func TestCheckProviders(t *testing.T) {
	docs := policy("ok", "action: CUSTOM\nprovider: {name: ext}\nrules: [{}]") +
		policy("bad", "action: CUSTOM\nprovider: {name: missing}\nrules: [{}]")
	var s Set
	if err := s.Parse("p.yaml", []byte(docs)); err != nil {
		t.Fatal(err)
	}
	err := CheckProviders(&s, Mesh{ExtAuthz: []plugins.ExtAuthz{{Name: "ext"}}})
	es, ok := err.(Errors)
	if !ok || len(es) != 1 {
		t.Fatalf("got %v, want one error", err)
	}
	if e := es[0]; e.File != "p.yaml" || e.Line != 11 || !strings.Contains(e.Msg, `provider.name "missing" names no provider of mesh.extension_providers (have: ext)`) {
		t.Errorf("got %v", e)
	}
}
