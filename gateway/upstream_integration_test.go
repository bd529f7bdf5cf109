package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// TestUpstreamPolicies drives the pool's policies through the whole
// gateway: retries on another endpoint, exhausted retries, no healthy
// endpoint, and the /upstreams admin page.
func TestUpstreamPolicies(t *testing.T) {
	good := newBackend(t, nil)
	dead := loopbacktest.RefusedAddr(t)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: retried, match: { path: /retried }, upstream: mixed, retries: { attempts: 3, on: [connect-failure] } }
      - { name: exhausted, match: { path: /exhausted }, upstream: down, retries: { attempts: 2, on: [connect-failure] } }
      - { name: plain, match: { path_prefix: / }, upstream: down }
upstreams:
  - { name: mixed, endpoints: [%q, %q] }
  - { name: down, endpoints: [%q] }
`, dead, good.addr(), dead))
	for i := 0; i < 4; i++ { // round robin puts every other first try on the dead endpoint
		id := fmt.Sprint("retried-", i)
		resp, _ := get(t, http.DefaultClient, tg.url("web")+"/retried", "X-Request-Id", id)
		if resp.StatusCode != 200 {
			t.Errorf("request %d through a pool with a dead endpoint and retries: got %d, want 200", i, resp.StatusCode)
		}
		if e := tg.logFor(id); e["upstream_host"] != good.addr() {
			t.Errorf("request %d: upstream_host %v, want the live endpoint %s", i, e["upstream_host"], good.addr())
		}
	}
	resp, _ := get(t, http.DefaultClient, tg.url("web")+"/exhausted", "X-Request-Id", "exhausted-1")
	if resp.StatusCode < 500 {
		t.Errorf("exhausted retries: got %d, want a 5xx", resp.StatusCode)
	}
	if e := tg.logFor("exhausted-1"); !strings.Contains(e["response_flags"].(string), "URX") {
		t.Errorf("exhausted retries: flags %v, want URX among them", e["response_flags"])
	}
	r, err := http.Get("http://" + tg.AdminAddr().String() + "/upstreams")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var page struct {
		Upstreams []struct {
			Name      string            `json:"name"`
			Endpoints []json.RawMessage `json:"endpoints"`
		} `json:"upstreams"`
	}
	if err := json.NewDecoder(r.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Upstreams) != 2 || page.Upstreams[0].Name != "down" || len(page.Upstreams[1].Endpoints) != 2 {
		t.Errorf("/upstreams: got %+v, want down and mixed with their endpoints", page)
	}
}
