package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEgressAbsoluteForm(t *testing.T) {
	var mu sync.Mutex
	var seenList []string
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seenList) }
	reset := func() { mu.Lock(); seenList = nil; mu.Unlock() }
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seenList = append(seenList, fmt.Sprintf("%s %s host=%s auth=%q caller=%q xff=%q", r.Method, r.RequestURI, r.Host,
			r.Header.Get("Proxy-Authorization"), r.Header.Get("X-Caller-Ip"), r.Header.Get("X-Forwarded-For")))
		io.WriteString(w, "from the backend")
	}))
	t.Cleanup(be.Close)
	d := newLoopDialer()
	addr := strings.TrimPrefix(be.URL, "http://")
	d.route("api.example.com:80", addr)
	d.route("api.example.com:8080", addr)
	tg := startProxy(t, `
egress:
  rules:
    - name: no-admin
      action: deny
      to: { hosts: [api.example.com], ports: [80], path_prefixes: [/admin] }
    - name: read
      to: { hosts: [api.example.com], ports: [80, 8080], methods: [GET, HEAD] }
`, d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct {
		id, line, headers string
		status            int
		details, rule     string
	}{
		{"abs-get", "GET http://api.example.com/v1/x?q=1 HTTP/1.1", "Host: evil.example\r\nProxy-Authorization: Basic eA==\r\n", 200, "via_upstream", "read"},
		{"abs-port", "GET http://API.example.com.:8080/v1 HTTP/1.1", "Host: api.example.com\r\n", 200, "via_upstream", "read"},
		{"abs-post", "POST http://api.example.com/v1/x HTTP/1.1", "Host: api.example.com\r\nContent-Length: 0\r\n", 403, "egress_denied", "default"},
		{"abs-admin", "GET http://api.example.com/admin/users HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "no-admin"},
		{"abs-admin-escaped", "GET http://api.example.com/%61dmin/users HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "no-admin"},
		{"abs-admin-dots", "GET http://api.example.com/v1/../admin HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "no-admin"},
		{"abs-admin-slashes", "GET http://api.example.com//admin HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "no-admin"},
		{"abs-other-host", "GET http://other.example.com/v1 HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "default"},
		{"origin-form", "GET /v1 HTTP/1.1", "Host: api.example.com\r\n", 400, "egress_not_absolute_form", ""},
		{"https-scheme", "GET https://api.example.com/v1 HTTP/1.1", "Host: api.example.com\r\n", 400, "egress_not_absolute_form", ""},
		{"userinfo", "GET http://user@api.example.com/v1 HTTP/1.1", "Host: api.example.com\r\n", 400, "egress_invalid_target", ""},
		{"ip-spelling", "GET http://2130706433/v1 HTTP/1.1", "Host: api.example.com\r\n", 403, "egress_denied", "default"},
		{"octal-spelling", "GET http://0177.0.0.1/v1 HTTP/1.1", "Host: api.example.com\r\n", 400, "egress_invalid_target", ""},
	} {
		t.Run(tt.id, func(t *testing.T) {
			reset()
			status, body := proxyRequest(t, proxy, tt.line+"\r\n"+tt.headers+"X-Request-Id: "+tt.id+"\r\n\r\n")
			if status != tt.status {
				t.Fatalf("got %d %q, want %d", status, body, tt.status)
			}
			e := tg.logFor(tt.id)
			if e["response_code_details"] != tt.details || tt.rule != "" && egressField(e, "rule") != tt.rule {
				t.Errorf("got details %v rule %v, want %s %s", e["response_code_details"], egressField(e, "rule"), tt.details, tt.rule)
			}
			if status != 200 && len(seen()) > 0 {
				t.Errorf("the backend saw %q", seen())
			}
		})
	}
	// What the backend saw of the allowed ones: the checked path, the
	// URL's host, and none of the proxy's own headers.
	reset()
	proxyRequest(t, proxy, "GET http://api.example.com/v1/./x?q=1 HTTP/1.1\r\nHost: evil.example\r\nProxy-Authorization: Basic eA==\r\nConnection: X-Caller-Ip\r\nX-Caller-Ip: 1.2.3.4\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n")
	want := `GET /v1/x?q=1 host=api.example.com auth="" caller="" xff=""`
	if got := seen(); len(got) != 1 || got[0] != want {
		t.Errorf("the backend saw %q, want %q", got, want)
	}
}

func TestEgressConnectOverHTTP2(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	tg := startProxy(t, tunnelRules, d)
	h2c := &http.Transport{Protocols: protocols("h2c")}
	t.Cleanup(h2c.CloseIdleConnections)
	for _, tt := range []struct {
		id, authority string
		status        int
	}{
		{"h2-tunnel", "echo.example.com:7000", 200},
		{"h2-denied", "other.example.com:7000", 403},
	} {
		t.Run(tt.id, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			req, err := http.NewRequest(http.MethodConnect, tg.url("egress"), pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.authority
			req.Header.Set("X-Request-Id", tt.id)
			resp, err := h2c.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status || resp.ProtoMajor != 2 {
				t.Fatalf("got %d over HTTP/%d, want %d over HTTP/2", resp.StatusCode, resp.ProtoMajor, tt.status)
			}
			if tt.status != 200 {
				return
			}
			io.WriteString(pw, "hello over h2")
			got := make([]byte, len("hello over h2"))
			if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != "hello over h2" {
				t.Fatalf("got %q, %v", got, err)
			}
			pw.Close()
			resp.Body.Close()
			e := tg.logFor(tt.id)
			if e["protocol"] != "HTTP/2" || egressField(e, "decision") != "allow" || e["bytes_received"] != 13.0 {
				t.Errorf("got log %v %v %v, want HTTP/2 allow 13", e["protocol"], egressField(e, "decision"), e["bytes_received"])
			}
		})
	}
}

// TestEgressInformationalResponses has a destination answer 100 Continue
// and 103 Early Hints before its response, and another switch protocols
// unasked: the first is relayed as its final response, the second refused.
func TestEgressInformationalResponses(t *testing.T) {
	early := newRawBackend(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
		io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	switched := newRawBackend(t, func(c net.Conn, _ *bufio.Reader, _ *http.Request) {
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	})
	d := newLoopDialer()
	d.route("early.example.com:80", early.addr())
	d.route("switch.example.com:80", switched.addr())
	tg := startProxy(t, `
egress:
  rules: [{ name: web, to: { hosts: [early.example.com, switch.example.com], ports: [80] } }]
`, d)
	proxy := tg.Addr("egress").String()
	if status, body := proxyRequest(t, proxy, "POST http://early.example.com/ HTTP/1.1\r\nHost: early.example.com\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"); status != 200 || body != "ok" {
		t.Errorf("got %d %q, want 200 ok", status, body)
	}
	if status, _ := proxyRequest(t, proxy, "GET http://switch.example.com/ HTTP/1.1\r\nHost: switch.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"); status != 502 {
		t.Errorf("got %d, want 502", status)
	}
}

// TestEgressTunnelOutlivesListenerIdleTimeout checks that a tunnel keeps
// the egress block's timeouts, not the listener's idle timeout for
// connections between requests.
func TestEgressTunnelOutlivesListenerIdleTimeout(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	tg := serveWithDial(t, loadProxyConfig(t, `
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy, limits: { idle_timeout: 100ms } }]
egress:
  limits: { max_tunnel_lifetime: 600ms }
  rules: [{ name: echo, to: { hosts: [echo.example.com], ports: [7000] } }]
`), d)
	c, br, resp := connectH1(t, tg.Addr("egress").String(), "echo.example.com:7000", "outlive")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br.ReadByte()
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("the tunnel closed after %v, before its lifetime", took)
	}
	if e := tg.logFor("outlive"); e["connection_termination_details"] != "max_tunnel_lifetime" {
		t.Errorf("got termination %v, want max_tunnel_lifetime", e["connection_termination_details"])
	}
}

// TestEgressPlainRequestToTLSPort: a rule that lets only a TLS handshake
// for its host through a tunnel to its TLS ports lets no plain request
// there either, unless the gateway originates the TLS itself; the refused
// request opens no connection.
func TestEgressPlainRequestToTLSPort(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	t.Cleanup(be.Close)
	d := newLoopDialer()
	addr := strings.TrimPrefix(be.URL, "http://")
	d.route("a.example.com:443", addr)
	d.route("b.example.com:443", addr)
	tg := startProxy(t, `
egress:
  rules:
    - { name: strict, to: { hosts: [a.example.com], ports: [443] } }
    - { name: any, to: { hosts: [b.example.com], ports: [443] }, tls: any }
`, d)
	proxy := tg.Addr("egress").String()
	status, _ := proxyRequest(t, proxy, "GET http://a.example.com:443/ HTTP/1.1\r\nHost: a.example.com:443\r\nX-Request-Id: plain-tls-port\r\n\r\n")
	if status != http.StatusForbidden {
		t.Errorf("plain request to a port where the rule checks TLS: got %d, want 403", status)
	}
	if n := d.dialed(); n != 0 {
		t.Errorf("the refused request dialled %d times, want 0", n)
	}
	if status, body := proxyRequest(t, proxy, "GET http://b.example.com:443/ HTTP/1.1\r\nHost: b.example.com:443\r\n\r\n"); status != 200 || body != "plain" {
		t.Errorf("plain request where the rule says tls: any: got %d %q, want 200 \"plain\"", status, body)
	}
	e := tg.logFor("plain-tls-port")
	if got := egressField(e, "reason"); got != "not_tls" {
		t.Errorf("reason: got %v, want not_tls", got)
	}
}

// TestEgressRequestIdleTimeout: a destination that accepts a plain request
// and never answers, or stops in the middle of its body, holds the
// caller's place only for the egress block's idle timeout.
func TestEgressRequestIdleTimeout(t *testing.T) {
	silent := serveConns(t, nil, func(c net.Conn) {
		defer c.Close()
		io.Copy(io.Discard, c)
	})
	stalls := serveConns(t, nil, func(c net.Conn) {
		defer c.Close()
		http.ReadRequest(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
		io.Copy(io.Discard, c)
	})
	d := newLoopDialer()
	d.route("silent.example.com:80", silent.Addr().String())
	d.route("stalls.example.com:80", stalls.Addr().String())
	tg := startProxy(t, `
egress:
  limits: { idle_timeout: 300ms }
  rules: [{ name: web, to: { hosts: [silent.example.com, stalls.example.com], ports: [80] } }]
`, d)
	proxy := tg.Addr("egress").String()
	if status, _ := proxyRequest(t, proxy, "GET http://silent.example.com/ HTTP/1.1\r\nHost: silent.example.com\r\nX-Request-Id: silent\r\n\r\n"); status != http.StatusGatewayTimeout {
		t.Errorf("silent destination: got %d, want 504", status)
	}
	if e := tg.logFor("silent"); egressField(e, "reason") != "idle_timeout" {
		t.Errorf("silent destination: reason %v, want idle_timeout", egressField(e, "reason"))
	}
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET http://stalls.example.com/ HTTP/1.1\r\nHost: stalls.example.com\r\nX-Request-Id: stalls\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, err := io.ReadAll(resp.Body); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("stalled body: got %q, %v; want the response cut short", body, err)
	}
	if e := tg.logFor("stalls"); e["connection_termination_details"] != "idle_timeout" {
		t.Errorf("stalled body: termination %v, want idle_timeout", e["connection_termination_details"])
	}
	// A connection whose response was cut short is never lent to the
	// next request: it dials anew.
	before := d.dialed()
	again, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(again, "GET http://stalls.example.com/ HTTP/1.1\r\nHost: stalls.example.com\r\nX-Request-Id: stalls-again\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(again), nil); err != nil {
		t.Fatal(err)
	}
	if got := d.dialed(); got != before+1 {
		t.Errorf("the request after a cut response made %d dials, want 1 of its own", got-before)
	}
}
