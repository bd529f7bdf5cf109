package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEgressPlainRequestsShareConnections sends plain requests one after
// another: they share one upstream connection, dialled once through the
// guard, as long as the same rule allows them to the same host and port.
func TestEgressPlainRequestsShareConnections(t *testing.T) {
	var conns atomic.Int64
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Close") != "" {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	be.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	be.Start()
	t.Cleanup(be.Close)
	d := newLoopDialer()
	d.route("api.example.com:80", strings.TrimPrefix(be.URL, "http://"))
	tg := startProxy(t, `
egress:
  rules:
    - { name: read, to: { hosts: [api.example.com], ports: [80], methods: [GET] } }
    - { name: write, to: { hosts: [api.example.com], ports: [80], methods: [POST] } }
`, d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct {
		id, req      string
		dials, conns int
	}{
		{"pool-first", "GET http://api.example.com/a HTTP/1.1\r\nHost: api.example.com\r\n", 1, 1},
		{"pool-reused", "GET http://api.example.com/b HTTP/1.1\r\nHost: api.example.com\r\n", 1, 1},
		{"pool-reused-again", "GET http://API.example.com./c HTTP/1.1\r\nHost: x\r\n", 1, 1},
		// Another rule's request gets a connection of its own.
		{"pool-other-rule", "POST http://api.example.com/d HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 2\r\n\r\nhi", 2, 2},
		{"pool-other-rule-reused", "POST http://api.example.com/e HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 2\r\n\r\nhi", 2, 2},
		// A connection the destination closes is not kept.
		{"pool-close", "GET http://api.example.com/f HTTP/1.1\r\nHost: api.example.com\r\nX-Close: 1\r\n", 2, 2},
		{"pool-after-close", "GET http://api.example.com/g HTTP/1.1\r\nHost: api.example.com\r\n", 3, 3},
	} {
		t.Run(tt.id, func(t *testing.T) {
			raw := tt.req
			if !strings.Contains(raw, "\r\n\r\n") {
				raw += "\r\n"
			}
			raw = strings.Replace(raw, "\r\n", "\r\nX-Request-Id: "+tt.id+"\r\n", 1)
			if status, body := proxyRequest(t, proxy, raw); status != 200 {
				t.Fatalf("got %d %q, want 200", status, body)
			}
			if got := d.dialed(); got != tt.dials {
				t.Errorf("got %d dials, want %d", got, tt.dials)
			}
			if got := conns.Load(); got != int64(tt.conns) {
				t.Errorf("the backend got %d connections, want %d", got, tt.conns)
			}
			if e := tg.logFor(tt.id); e["upstream_host"] != strings.TrimPrefix(be.URL, "http://") || e["upstream_local_address"] == nil {
				t.Errorf("got upstream %v from %v, want the backend's address", e["upstream_host"], e["upstream_local_address"])
			}
		})
	}
	// Another caller never gets a connection dialled for the first: the
	// guard's verdict may depend on who asks (a deny rule's from).
	other := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	for i := range 2 {
		raw := "GET http://api.example.com/h HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
		if status, body := proxyRequestFrom(t, other, proxy, raw); status != 200 {
			t.Fatalf("another caller: got %d %q, want 200", status, body)
		}
		if got := d.dialed(); got != 4 {
			t.Errorf("another caller's request %d: got %d dials, want 4 (one of its own, then reused)", i, got)
		}
	}
}

// TestEgressPooledConnectionClosedByDestination has the destination close
// each connection after its response, without saying so: the next request
// goes over a new connection, with or without a body.
func TestEgressPooledConnectionClosedByDestination(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	d := newLoopDialer()
	d.route("api.example.com:80", be.addr())
	tg := startProxy(t, `
egress:
  rules: [{ name: web, to: { hosts: [api.example.com], ports: [80] } }]
`, d)
	proxy := tg.Addr("egress").String()
	for i, req := range []string{
		"GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
		"GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
		"POST http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 2\r\n\r\nhi",
	} {
		// The pool notices the close as it comes, so no request meets a
		// closed connection.
		waitUntil(t, "the gateway to close the connections the backend closed", func() bool { return be.open.Load() == 0 })
		if status, body := proxyRequest(t, proxy, req); status != 200 || body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 ok", i, status, body)
		}
	}
	if got := d.dialed(); got != 3 {
		t.Errorf("got %d dials, want 3", got)
	}
}

// TestEgressPooledConnectionLostMidRequest has the destination read a
// second request on a kept connection and close it unanswered: a request
// without a body is sent again on a new connection; one with a body,
// which is gone, gets 502.
func TestEgressPooledConnectionLostMidRequest(t *testing.T) {
	ln := serveConns(t, nil, func(c net.Conn) {
		br := bufio.NewReader(c)
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if n == 1 {
				return // the second request on a connection is lost
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	d := newLoopDialer()
	d.route("api.example.com:80", ln.Addr().String())
	tg := startProxy(t, `
egress:
  rules: [{ name: web, to: { hosts: [api.example.com], ports: [80] } }]
`, d)
	proxy := tg.Addr("egress").String()
	get := "GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
	for _, tt := range []struct {
		name, req string
		status    int
		dials     int
	}{
		{"first", get, 200, 1},
		{"lost and sent again", get, 200, 2},
		{"with a body, lost", "POST http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 2\r\n\r\nhi", 502, 2},
	} {
		if status, _ := proxyRequest(t, proxy, tt.req); status != tt.status {
			t.Fatalf("%s: got %d, want %d", tt.name, status, tt.status)
		}
		if got := d.dialed(); got != tt.dials {
			t.Errorf("%s: got %d dials, want %d", tt.name, got, tt.dials)
		}
	}
}

// BenchmarkEgressPlainRequests sends plain requests through the forward
// proxy over one client connection, to a destination that keeps its
// connections (pooled) and to one that closes each (a connection per
// request, as before the pool), in the same run.
//
//	go test ./gateway -run '^$' -bench EgressPlainRequests -benchtime 2000x
func BenchmarkEgressPlainRequests(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Close") != "" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}))
	b.Cleanup(be.Close)
	d := newLoopDialer()
	d.route("api.example.com:80", strings.TrimPrefix(be.URL, "http://"))
	tg := startProxy(b, `
egress:
  limits: { per_caller: { per_second: 1000000, burst: 1000000 }, per_destination: { per_second: 1000000, burst: 1000000 } }
  rules: [{ name: web, to: { hosts: [api.example.com], ports: [80] } }]
`, d)
	proxy := tg.Addr("egress").String()
	for _, bc := range []struct{ name, header string }{{"pooled", ""}, {"connection-per-request", "X-Close: 1\r\n"}} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := net.Dial("tcp", proxy)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := "GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\n" + bc.header + "\r\n"
			b.ResetTimer()
			for range b.N {
				if _, err := io.WriteString(c, req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("got %v, %v", resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
