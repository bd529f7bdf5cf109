package gateway

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

func parseT(t testing.TB, yaml string) *routes.Config {
	t.Helper()
	reg, _ := plugins.NewRegistry(headers.Factory())
	cfg, err := routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(yaml), reg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const listenersYAML = `
admin: { address: "off" }
listeners: [ %s ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`

// TestReloadListeners adds a listener, removes another, and checks that a
// kept listener's socket and the upstream pool survive, and that a reload
// whose new address cannot be bound leaves everything as it was.
func TestReloadListeners(t *testing.T) {
	be := newBackend(t, nil)
	tg := startGatewayWith(t, parseT(t, fmt.Sprintf(listenersYAML,
		`{ name: a, address: "127.0.0.1:0" }, { name: b, address: "127.0.0.1:0" }`, be.addr())))
	addrA, addrB := tg.Addr("a").String(), tg.Addr("b").String()
	poolBefore := tg.snap.Load().upstreams

	// Keep a (by its bound address), drop b, add c.
	if err := tg.Reload(parseT(t, fmt.Sprintf(listenersYAML,
		fmt.Sprintf(`{ name: a, address: %q }, { name: c, address: "127.0.0.1:0" }`, addrA), be.addr()))); err != nil {
		t.Fatal(err)
	}
	if got := tg.Addr("a"); got == nil || got.String() != addrA {
		t.Errorf("listener a: got %v, want it kept at %s", got, addrA)
	}
	for _, u := range tg.snap.Load().upstreams {
		found := false
		for _, v := range poolBefore {
			found = found || u == v
		}
		if !found {
			t.Error("upstream pool was rebuilt for an unchanged definition")
		}
	}
	if resp, _ := get(t, http.DefaultClient, "http://"+tg.Addr("c").String()+"/"); resp.StatusCode != 200 {
		t.Errorf("new listener c: got %d, want 200", resp.StatusCode)
	}
	waitUntil(t, "removed listener b to stop accepting", func() bool {
		c, err := net.DialTimeout("tcp", addrB, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})

	// An address already in use fails the reload; a and c keep serving.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = tg.Reload(parseT(t, fmt.Sprintf(listenersYAML,
		fmt.Sprintf(`{ name: a, address: %q }, { name: d, address: %q }`, addrA, busy.Addr().String()), be.addr())))
	if err == nil {
		t.Fatal("reload onto a busy address succeeded, want an error")
	}
	if tg.Addr("c") == nil || tg.Status().OK {
		t.Errorf("after the failed reload: listener c gone or status OK (%+v)", tg.Status())
	}
	if resp, _ := get(t, http.DefaultClient, "http://"+tg.Addr("c").String()+"/"); resp.StatusCode != 200 {
		t.Errorf("listener c after the failed reload: got %d, want 200", resp.StatusCode)
	}
}
