package waf_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// Engines take a fraction of a second of CPU each to build, so the tests
// share them: each distinct routes file is loaded once per test binary.
var (
	loadMu sync.Mutex
	loaded = map[string]*routes.Config{}
	plugin = waf.New(waf.Options{})
)

// routesFile is a routes file with one virtual host for every host and
// one route, which names the WAF profile use; section is the top-level
// waf block, or empty for none.
func routesFile(section, use string) string {
	if section != "" {
		section = "waf:\n" + section
	}
	return fmt.Sprintf(`listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
%s
virtual_hosts:
  - name: site
    hosts: ["*"]
    routes:
      - name: all
        upstream: echo
        plugins: [{ waf: %s }]
`, section, use)
}

// shared loads src once for the whole test binary and returns the chain
// of the route that GET example.com/ matches.
func shared(t testing.TB, src string) *plugins.Chain {
	t.Helper()
	return sharedRoute(t, src, "/")
}

// sharedRoute loads src once for the whole test binary and returns the
// chain of the route that GET example.com<path> matches, which must hold
// the waf alone.
func sharedRoute(t testing.TB, src, path string) *plugins.Chain {
	t.Helper()
	loadMu.Lock()
	defer loadMu.Unlock()
	cfg := loaded[src]
	if cfg == nil {
		reg, err := plugins.NewRegistry(plugin.Factory())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err = routes.Parse("routes.yaml", []byte(src), reg)
		if err != nil {
			t.Fatalf("loading the routes file: %v", err)
		}
		loaded[src] = cfg
	}
	rule, _ := cfg.Table.Match("example.com", path, http.MethodGet, http.Header{})
	if rule == nil || rule.Chain.Len() != 1 {
		t.Fatalf("got rule %v for %s, want one with the waf", rule, path)
	}
	return rule.Chain
}
