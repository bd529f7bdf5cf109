package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUpstreamLocalAddress checks %UPSTREAM_LOCAL_ADDRESS% against the
// address each request came from as its backend saw it, over HTTP/1 (with
// several upstream connections, then reused), h2c (one connection
// multiplexed) and TLS.
func TestUpstreamLocalAddress(t *testing.T) {
	ca := newTestCA(t)
	const together = 4
	arrived := make(chan struct{}, 64)
	var release atomic.Pointer[chan struct{}] // each subtest's
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/together" {
			// Held until all are in, so that each takes a connection.
			arrived <- struct{}{}
			select {
			case <-*release.Load():
			case <-time.After(30 * time.Second):
			}
		}
		io.WriteString(w, r.RemoteAddr)
	})
	h1 := httptest.NewServer(echo)
	t.Cleanup(h1.Close)
	h2c := httptest.NewUnstartedServer(echo)
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	t.Cleanup(h2c.Close)
	tlsAddr := tlsBackendWith(t, ca, false, echo)
	tests := []struct{ name, upstream string }{
		{"HTTP/1", fmt.Sprintf(`{ name: app, endpoints: [%q] }`, strings.TrimPrefix(h1.URL, "http://"))},
		{"h2c", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2 }`, strings.TrimPrefix(h2c.URL, "http://"))},
		{"TLS", fmt.Sprintf(`{ name: app, endpoints: [%q], tls: { ca_file: %q, server_name: backend.internal } }`, tlsAddr, ca.caFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := make(chan struct{})
			release.Store(&gate)
			var once sync.Once
			open := func() { once.Do(func() { close(gate) }) }
			defer open()
			tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts: [ { name: all, hosts: ["*"], routes: [ { name: main, upstream: app } ] } ]
upstreams: [ %s ]
`, tt.upstream))
			client := &http.Client{Transport: &http.Transport{}}
			check := func(id, path string) {
				resp, body := get(t, client, tg.url("web")+path, "X-Request-Id", id)
				if resp.StatusCode != 200 {
					t.Errorf("%s: status %d", id, resp.StatusCode)
					return
				}
				if e := tg.logFor(id); e["upstream_local_address"] != body {
					t.Errorf("%s: upstream_local_address: got %v, want %q, the backend's peer", id, e["upstream_local_address"], body)
				}
			}
			var wg sync.WaitGroup
			for i := range together {
				wg.Go(func() { check(fmt.Sprintf("%s-together-%d", tt.name, i), "/together") })
			}
			for range together {
				select {
				case <-arrived:
				case <-time.After(30 * time.Second):
					t.Fatal("the requests did not all reach the backend")
				}
			}
			open()
			wg.Wait()
			for i := range 2 * together {
				check(fmt.Sprintf("%s-reused-%d", tt.name, i), "/")
			}
		})
	}
}
