package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func tlsReloadYAML(crt, key, addr, routeName, idle string) string {
	return fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: edge, address: %q, limits: { idle_timeout: %s }, tls: { certificates: [ { cert: %q, key: %q } ] } } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: %s, match: { path_prefix: / }, upstream: echo } ] }
upstreams: [ { name: echo, builtin: echo } ]
`, addr, idle, crt, key, routeName)
}

// TestTLSAcrossReloads checks what the gateway's own TLS handshakes must
// keep: a handshake under way when a reload retires the listener's servers
// still gets its answer, sessions resume across a reload, plain HTTP sent to
// the TLS port gets a readable 400, and Shutdown closes a connection that
// never finished its handshake.
func TestTLSAcrossReloads(t *testing.T) {
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGatewayWith(t, parseT(t, tlsReloadYAML(crt, key, "127.0.0.1:0", "first", "60s")))
	addr := tg.Addr("edge").String()

	t.Run("a handshake under way during a reload completes", func(t *testing.T) {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		// The connection is accepted; now the servers are replaced.
		time.Sleep(50 * time.Millisecond)
		if err := tg.Reload(parseT(t, tlsReloadYAML(crt, key, addr, "second", "61s"))); err != nil {
			t.Fatal(err)
		}
		c := tls.Client(raw, ca.clientTLS("localhost"))
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.1 200") {
			t.Errorf("got %q, want a 200", firstLine(b))
		}
	})
	t.Run("sessions resume across a reload", func(t *testing.T) {
		cfg := ca.clientTLS("localhost")
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		dial := func() bool {
			c, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
			io.ReadAll(c) // TLS 1.3 tickets come after the handshake
			return c.ConnectionState().DidResume
		}
		dial()
		if err := tg.Reload(parseT(t, tlsReloadYAML(crt, key, addr, "third", "61s"))); err != nil {
			t.Fatal(err)
		}
		if !dial() {
			t.Error("the session did not resume after a reload")
		}
	})
	t.Run("plain HTTP on the TLS port gets a 400", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.0 400") {
			t.Errorf("got %q, want a 400", firstLine(b))
		}
	})
	t.Run("Shutdown closes a connection stuck before its handshake", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tg.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Error("connection still open 3s after Shutdown")
		}
	})
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}
