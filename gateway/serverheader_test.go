package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestServerHeader checks each server_header transformation, set for the
// file and overridden by a listener, on proxied responses whose upstream
// says Server or does not, and on the gateway's own answers (404 NR).
func TestServerHeader(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("server"); s != "" {
			w.Header().Set("Server", s)
		}
		w.Write([]byte("ok"))
	})
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: default, address: "127.0.0.1:0", protocols: [http1, http2] }
  - { name: append, address: "127.0.0.1:0", server_header: { transformation: append_if_absent } }
  - { name: pass, address: "127.0.0.1:0", server_header: { transformation: pass_through } }
  - { name: named, address: "127.0.0.1:0", server_header: { value: istio-envoy } }
virtual_hosts:
  - { name: shop, hosts: [shop], routes: [ { name: main, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	tests := []struct {
		name, listener, query, host string
		client                      *http.Client
		want                        []string
	}{
		{"default overwrites the upstream's", "default", "?server=backend/1.0", "shop", http.DefaultClient, []string{"portcullis"}},
		{"default over h2c", "default", "?server=backend/1.0", "shop", h2c, []string{"portcullis"}},
		{"default without the upstream's", "default", "", "shop", http.DefaultClient, []string{"portcullis"}},
		{"default on a local reply", "default", "", "elsewhere", http.DefaultClient, []string{"portcullis"}},
		{"append_if_absent keeps the upstream's", "append", "?server=backend/1.0", "shop", http.DefaultClient, []string{"backend/1.0"}},
		{"append_if_absent fills in", "append", "", "shop", http.DefaultClient, []string{"portcullis"}},
		{"append_if_absent on a local reply", "append", "", "elsewhere", http.DefaultClient, []string{"portcullis"}},
		{"pass_through keeps the upstream's", "pass", "?server=backend/1.0", "shop", http.DefaultClient, []string{"backend/1.0"}},
		{"pass_through adds none", "pass", "", "shop", http.DefaultClient, nil},
		{"pass_through on a local reply", "pass", "", "elsewhere", http.DefaultClient, nil},
		{"a value of its own", "named", "?server=backend/1.0", "shop", http.DefaultClient, []string{"istio-envoy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := get(t, tt.client, tg.url(tt.listener)+"/"+tt.query, "Host", tt.host)
			if got := resp.Header.Values("Server"); !slices.Equal(got, tt.want) {
				t.Errorf("Server: got %q, want %q (status %d)", got, tt.want, resp.StatusCode)
			}
		})
	}
}

// TestServerHeaderReload checks that a reload that changes the file's
// server_header puts it in force on the listeners that inherit it.
func TestServerHeaderReload(t *testing.T) {
	be := newBackend(t, nil)
	yaml := `
admin: { address: "off" }
%s
listeners: [ { name: web, address: %q } ]
virtual_hosts: [ { name: all, hosts: ["*"], routes: [ { name: main, upstream: app } ] } ]
upstreams: [ { name: app, endpoints: [%q] } ]
`
	tg := startGatewayWith(t, parseT(t, fmt.Sprintf(yaml, "", "127.0.0.1:0", be.addr())))
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/"); resp.Header.Get("Server") != "portcullis" {
		t.Fatalf("Server before the reload: got %q, want portcullis", resp.Header.Get("Server"))
	}
	next := parseT(t, fmt.Sprintf(yaml, "server_header: { value: edge-2 }", tg.Addr("web").String(), be.addr()))
	if err := tg.Reload(next); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the new Server header", func() bool {
		resp, _ := get(t, http.DefaultClient, tg.url("web")+"/")
		return resp.Header.Get("Server") == "edge-2"
	})
}
