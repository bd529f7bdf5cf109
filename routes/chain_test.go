package routes

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// flaky is a plugin whose Build fails from its second call on, as a plugin
// may when a resource runs out part way through a load.
func flaky(tr *tracker) plugins.Factory {
	calls := 0
	return tr.factory("flaky", func() any { return new(struct{}) }, func(any) error {
		if calls++; calls > 1 {
			return errors.New("out of tokens")
		}
		return nil
	})
}

const twoFlakyRoutes = `
listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - name: first
        upstream: echo
        plugins: [{ flaky: {} }, { authz: {} }]
      - name: second
        upstream: echo
        plugins: [{ flaky: {} }]
`

func TestPartialBuildIsClosed(t *testing.T) {
	reg, tr := testRegistry(t, flaky)
	cfg, err := Parse("routes.yaml", []byte(twoFlakyRoutes), reg)
	if err == nil {
		cfg.Close()
		t.Fatal("got no error, want the second build's")
	}
	want := `routes.yaml:13:21: route "second": plugins[0] flaky: out of tokens`
	if got := err.Error(); got != want {
		t.Errorf("got error %q, want %q", got, want)
	}
	built := tr.handlers()
	if len(built) != 2 {
		t.Fatalf("got %d handlers built, want 2 (flaky and authz of the first route)", len(built))
	}
	tr.checkClosed(t, 1)
}

func TestCloseClosesEachHandlerOnce(t *testing.T) {
	reg, tr := testRegistry(t)
	// One virtual host under three names, each a different kind of entry
	// in the table, and a plugin on the host that every route builds.
	src := `
listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
virtual_hosts:
  - name: shop
    hosts: [shop.example.com, "*.shop.example.com", "*"]
    plugins: [{ authz: {} }]
    routes:
      - { name: a, upstream: echo, plugins: [{ headers: {} }] }
      - { name: b, upstream: echo }
`
	cfg, err := Parse("routes.yaml", []byte(src), reg)
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	if got := len(tr.handlers()); got != 3 {
		t.Fatalf("got %d handlers built, want 3", got)
	}
	if err := cfg.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	tr.checkClosed(t, 1)
}

func TestLeaves(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"single", a, []string{"a"}},
		{"join", errors.Join(a, b), []string{"a", "b"}},
		{"nested join", errors.Join(a, errors.Join(b, c)), []string{"a", "b", "c"}},
		{"wrapped join kept whole", fmt.Errorf("ctx: %w", errors.Join(a, b)), []string{"ctx: a\nb"}},
		{"two %w kept whole", fmt.Errorf("x %w y %w", a, b), []string{"x a y b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range leaves(tt.err) {
				got = append(got, e.Error())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
