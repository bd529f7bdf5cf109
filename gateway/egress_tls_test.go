package gateway

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// httpsBackend serves HTTPS on loopback with a certificate of ca for name,
// answering with the protocol, whether it was TLS, and the Host; it closes
// the connection after a request that says X-Close.
func httpsBackend(t *testing.T, ca *testCA, name string) string {
	t.Helper()
	crt, key := ca.issue(t, name)
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Close") != "" {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprintf(w, "tls=%v host=%s path=%s", r.TLS != nil, r.Host, r.URL.RequestURI())
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

func TestEgressTunnelServerNameCheck(t *testing.T) {
	ca := newTestCA(t)
	d := newLoopDialer()
	d.route("api.example.com:443", httpsBackend(t, ca, "api.example.com"))
	d.route("pinned.example.com:443", httpsBackend(t, ca, "api.example.com"))
	tg := startProxy(t, `
egress:
  rules:
    - { name: api, to: { hosts: [api.example.com], ports: [443] } }
    - { name: pinned, to: { hosts: [pinned.example.com], ports: [443] } }
`, d)
	proxy := tg.Addr("egress").String()

	t.Run("matching server name", func(t *testing.T) {
		c, br, resp := connectH1(t, proxy, "api.example.com:443", "sni-ok")
		if resp.StatusCode != 200 {
			t.Fatalf("got %d, want 200", resp.StatusCode)
		}
		tc := tls.Client(&readerConn{Conn: c, r: br}, ca.clientTLS("api.example.com"))
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tc, "GET /x HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
		got, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(io.LimitReader(got.Body, 100))
		if !strings.HasPrefix(string(body), "tls=true host=api.example.com") {
			t.Errorf("got %q", body)
		}
	})
	before := d.dialed()
	for _, tt := range []struct {
		id, authority, details string
		send                   func(c net.Conn)
	}{
		{"sni-other", "pinned.example.com:443", "egress_sni_mismatch", func(c net.Conn) {
			// A tunnel to an allowed host that carries another name:
			// domain fronting.
			tls.Client(c, ca.clientTLS("api.example.com")).Handshake()
		}},
		{"sni-none", "pinned.example.com:443", "egress_sni_mismatch", func(c net.Conn) {
			tls.Client(c, &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}).Handshake()
		}},
		{"not-tls", "pinned.example.com:443", "egress_not_tls", func(c net.Conn) {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: pinned.example.com\r\n\r\n")
		}},
		{"ssh", "pinned.example.com:443", "egress_not_tls", func(c net.Conn) {
			io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n")
		}},
	} {
		t.Run(tt.id, func(t *testing.T) {
			c, br, resp := connectH1(t, proxy, tt.authority, tt.id)
			if resp.StatusCode != 200 {
				t.Fatalf("got %d, want 200 (the check comes with the first bytes)", resp.StatusCode)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			tt.send(c)
			if _, err := io.ReadAll(br); err != nil && !isClosed(err) {
				t.Fatalf("got %v, want the tunnel closed", err)
			}
			if e := tg.logFor(tt.id); e["response_code_details"] != tt.details || egressField(e, "reason") == "allowed" {
				t.Errorf("got details %v reason %v, want %s", e["response_code_details"], egressField(e, "reason"), tt.details)
			}
		})
	}
	if got := d.dialed(); got != before {
		t.Errorf("got %d dials for refused tunnels, want none", got-before)
	}
}

func isClosed(err error) bool {
	return err == io.EOF || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed")
}

// readerConn reads through r, which holds what a bufio.Reader took from
// the connection already.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestEgressTLSOrigination(t *testing.T) {
	ca := newTestCA(t)
	d := newLoopDialer()
	d.route("api.example.com:443", httpsBackend(t, ca, "api.example.com"))
	d.route("wrong.example.com:443", httpsBackend(t, ca, "api.example.com"))
	tg := startProxy(t, fmt.Sprintf(`
egress:
  rules:
    - name: originate
      to: { hosts: [api.example.com, wrong.example.com], ports: [80] }
      originate_tls: { port: 443, ca_file: %q }
`, ca.caFile), d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct {
		id, url string
		status  int
		body    string
		details string
	}{
		{"orig-ok", "http://api.example.com/hello?x=1", 200, "tls=true host=api.example.com path=/hello?x=1", "via_upstream"},
		{"orig-wrong-name", "http://wrong.example.com/", 502, "", "egress_tls_origination_failed"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			status, body := proxyRequest(t, proxy, "GET "+tt.url+" HTTP/1.1\r\nHost: ignored.example\r\nX-Request-Id: "+tt.id+"\r\n\r\n")
			if status != tt.status || !strings.Contains(body, tt.body) {
				t.Fatalf("got %d %q, want %d with %q", status, body, tt.status, tt.body)
			}
			if e := tg.logFor(tt.id); e["response_code_details"] != tt.details {
				t.Errorf("got details %v, want %s", e["response_code_details"], tt.details)
			}
		})
	}
}

// TestEgressOriginationCAFileReload shows that the CA file of originate_tls
// is read with the routes file, not on each request: a change to it takes
// effect with the reload that the change sets off, and only then.
func TestEgressOriginationCAFileReload(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	d := newLoopDialer()
	d.route("api.example.com:443", httpsBackend(t, ca, "api.example.com"))
	caFile := filepath.Join(t.TempDir(), "egress-ca.pem")
	copyFile(t, ca.caFile, caFile)
	yaml := fmt.Sprintf(`
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy }
egress:
  rules:
    - name: originate
      to: { hosts: [api.example.com], ports: [80] }
      originate_tls: { port: 443, ca_file: %q }
`, caFile)
	tg := serveWithDial(t, loadProxyConfig(t, yaml), d)
	proxy := tg.Addr("egress").String()
	get := func(id string) int {
		// Each request gets a connection of its own, and a handshake.
		status, _ := proxyRequest(t, proxy, "GET http://api.example.com/ HTTP/1.1\r\nHost: api.example.com\r\nX-Close: 1\r\nX-Request-Id: "+id+"\r\n\r\n")
		return status
	}
	if got := get("ca-loaded"); got != 200 {
		t.Fatalf("with the CA loaded: got %d, want 200", got)
	}
	copyFile(t, other.caFile, caFile)
	if got := get("ca-changed"); got != 200 {
		t.Fatalf("after the CA file changed, before a reload: got %d, want 200 (the CA read with the routes file)", got)
	}
	if got := d.dialed(); got != 2 {
		t.Fatalf("got %d dials, want 2: a connection and a handshake for each request", got)
	}
	if err := tg.Reload(loadProxyConfig(t, yaml)); err != nil {
		t.Fatal(err)
	}
	if got := get("ca-reloaded"); got != 502 {
		t.Fatalf("after the reload with another CA: got %d, want 502", got)
	}
	if e := tg.logFor("ca-reloaded"); e["response_code_details"] != "egress_tls_origination_failed" {
		t.Errorf("got details %v, want egress_tls_origination_failed", e["response_code_details"])
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
