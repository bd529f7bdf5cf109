package gateway

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// TestEgressGuardedDialer runs the gateway's own dialer, the address
// guard's: loopback is reached only where a rule names it, never the
// gateway's own listeners, and a name that does not resolve is a 502. The
// DNS server is a closed loopback port, so nothing leaves the host.
func TestEgressGuardedDialer(t *testing.T) {
	echo := newEchoServer(t)
	_, echoPort, _ := net.SplitHostPort(echo.addr())
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := listener.Addr().String()
	_, proxyPort, _ := net.SplitHostPort(proxyAddr)
	listener.Close() // the gateway binds it next
	cfg := loadProxyConfig(t, fmt.Sprintf(`
listeners: [{ name: egress, address: %q, kind: forward_proxy }]
egress:
  dns: { server: "127.0.0.1:1", timeout: 500ms }
  rules:
    - { name: echo, to: { cidrs: [127.0.0.1/32], ports: [%s, %s] } }
    - { name: public, to: { cidrs: [0.0.0.0/0], ports: [9] } }
    - { name: names, to: { hosts: [nowhere.example.com], ports: [443] }, tls: any }
`, proxyAddr, echoPort, proxyPort))
	tg := serveWith(t, cfg, accesslog.Options{Format: "json"}, Options{Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	proxy := tg.Addr("egress").String()

	c, br, resp := connectH1(t, proxy, "127.0.0.1:"+echoPort, "guard-ok")
	if resp.StatusCode != 200 {
		t.Fatalf("a loopback address the rule names: got %d, want 200", resp.StatusCode)
	}
	io.WriteString(c, "ok?")
	got := make([]byte, 3)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ok?" {
		t.Fatalf("got %q, %v", got, err)
	}
	c.Close()
	for _, tt := range []struct {
		id, authority string
		status        int
		details       string
	}{
		{"guard-own", proxy, 403, "egress_address_refused"},
		{"guard-mapped", "[::ffff:127.0.0.1]:" + echoPort, 403, "egress_address_refused"},
		{"guard-wide-rule", "127.0.0.2:9", 403, "egress_address_refused"},
		{"guard-dns", "nowhere.example.com:443", 502, "egress_dns_failed"},
	} {
		_, _, resp := connectH1(t, proxy, tt.authority, tt.id)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: got %d, want %d", tt.authority, resp.StatusCode, tt.status)
		}
		if e := tg.logFor(tt.id); e["response_code_details"] != tt.details {
			t.Errorf("%s: got details %v (%v), want %s", tt.authority, e["response_code_details"], e["upstream_transport_failure_reason"], tt.details)
		}
	}
	if n := echo.accepted.Load(); n != 1 {
		t.Errorf("the echo server accepted %d connections, want 1", n)
	}
}
