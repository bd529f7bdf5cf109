package gateway

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/quic-go/quic-go/http3"
)

// TestConnectIsRefused checks that CONNECT, in every protocol, is answered
// by the ingress listener itself, logged, and never sent upstream, even to
// a route that matches every method.
func TestConnectIsRefused(t *testing.T) {
	be := newBackend(t, nil)
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: edge, address: "127.0.0.1:0", protocols: [http1, http2, http3], tls: { certificates: [{ cert: %q, key: %q }] } }
  - { name: plain, address: "127.0.0.1:0", protocols: [http1, http2] }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams:
  - { name: app, endpoints: ["%s"], connect_timeout: 1s }
`, crt, key, be.addr()))
	plain := tg.Addr("plain").String()
	raw := []struct {
		name, head, body string
		status           int
		details          string
	}{
		{"HTTP/1.1 authority-form", "CONNECT " + be.addr() + " HTTP/1.1\r\nHost: " + be.addr() + "\r\n", "", 405, "connect_not_allowed"},
		{"HTTP/1.1 with a body", "CONNECT " + be.addr() + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", "hello", 405, "connect_not_allowed"},
		{"HTTP/1.1 origin-form", "CONNECT / HTTP/1.1\r\nHost: x\r\n", "", 400, "invalid_connect_target"},
		{"HTTP/1.1 without a port", "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n", "", 400, "invalid_connect_target"},
		{"HTTP/1.1 port 0", "CONNECT example.com:0 HTTP/1.1\r\nHost: example.com\r\n", "", 400, "invalid_connect_target"},
		{"HTTP/1.0", "CONNECT " + be.addr() + " HTTP/1.0\r\n", "", 405, "connect_not_allowed"},
		{"HTTP/1.1 upgrade", "CONNECT " + be.addr() + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", "", 405, "connect_not_allowed"},
	}
	for i, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("connect-%d", i)
			resp, _ := rawRoundTrip(t, plain, tt.head+"X-Request-Id: "+id+"\r\n\r\n"+tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if !resp.Close {
				t.Errorf("the connection stays open after a refused CONNECT")
			}
			e := tg.logFor(id)
			if e["method"] != "CONNECT" || e["response_code"] != float64(tt.status) || e["response_code_details"] != tt.details {
				t.Errorf("logged: got %v %v %v, want CONNECT %d %s", e["method"], e["response_code"], e["response_code_details"], tt.status, tt.details)
			}
		})
	}
	h2 := &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http2")}
	h2c := &http.Transport{Protocols: protocols("h2c")}
	h3 := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
	t.Cleanup(func() { h2.CloseIdleConnections(); h2c.CloseIdleConnections(); h3.Close() })
	edge := "https://localhost:" + port(tg.Addr("edge"))
	clients := []struct {
		name  string
		rt    http.RoundTripper
		url   string
		proto string // :protocol of an extended CONNECT
	}{
		{"HTTP/2", h2, edge, ""},
		{"h2c", h2c, tg.url("plain"), ""},
		{"HTTP/3", h3, edge, ""},
		{"HTTP/3 extended CONNECT", h3, edge + "/chat", "websocket"},
	}
	for i, tt := range clients {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req, err := http.NewRequest(http.MethodConnect, tt.url, pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = be.addr()
			if tt.proto != "" {
				req.Host, req.Proto = "localhost", tt.proto
			}
			id := fmt.Sprintf("connect-client-%d", i)
			req.Header.Set("X-Request-Id", id)
			resp, err := tt.rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 405 {
				t.Errorf("status: got %d, want 405", resp.StatusCode)
			}
			if e := tg.logFor(id); e["method"] != "CONNECT" || e["response_code"] != float64(405) {
				t.Errorf("logged: got %v %v, want CONNECT 405", e["method"], e["response_code"])
			}
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("CONNECT reached the backend %d times", n)
	}
}
