package waf

import (
	"net/http"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes"
)

// TestPendingFreedAtRequestEnd passes requests through a profile that
// inspects responses, over the three protocols, and never runs their
// response phase, as when the upstream fails: each request's transaction
// is freed when the request ends all the same.
func TestPendingFreedAtRequestEnd(t *testing.T) {
	reg, err := plugins.NewRegistry(New(Options{}).Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse("routes.yaml", []byte(`listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
waf: { profiles: { out: { response: { inspect: true } } } }
virtual_hosts:
  - { name: site, hosts: ["*"], routes: [{ name: all, upstream: echo, plugins: [{ waf: out }] }] }
`), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	rule, _ := cfg.Table.Match("example.com", "/", http.MethodGet, http.Header{})
	h, ok := rule.Chain.Handlers[0].(*WithResponse)
	if !ok {
		t.Fatalf("got handler %T, want *WithResponse", rule.Chain.Handlers[0])
	}
	for _, proto := range plugintest.Protocols {
		if o := plugintest.Run(t, proto, h, plugintest.Exchange{Target: "/?q=fine"}); o.Err != nil {
			t.Fatalf("%s: got %v, want the request passed", proto, o.Err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending(h) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := pending(h); n != 0 {
		t.Errorf("got %d transactions held after their requests ended, want none", n)
	}
}

func pending(h *WithResponse) int {
	n := 0
	h.pending.Range(func(any, any) bool { n++; return true })
	return n
}
