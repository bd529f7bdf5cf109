package gateway

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

const tunnelRules = `
egress:
  default: deny
  rules:
    - name: echo
      to: { hosts: [echo.example.com], ports: [7000] }
`

func TestEgressConnectTunnel(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	tg := startProxy(t, tunnelRules, d)
	c, br, resp := connectH1(t, tg.Addr("egress").String(), "Echo.Example.COM.:7000", "tunnel-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	msg := strings.Repeat("ping ", 1000)
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
		t.Fatalf("got %q, %v; want the echo", got[:min(len(got), 20)], err)
	}
	c.Close()
	e := tg.logFor("tunnel-1")
	for k, want := range map[string]any{
		"decision": "allow", "rule": "echo", "destination": "echo.example.com:7000", "reason": "allowed", "caller": "127.0.0.1",
	} {
		if got := egressField(e, k); got != want {
			t.Errorf("log dynamic_metadata portcullis.egress %s: got %v, want %v", k, got, want)
		}
	}
	for k, want := range map[string]any{
		"method": "CONNECT", "response_code": 200.0, "upstream_host": echo.addr(),
		"bytes_received": float64(len(msg)), "bytes_sent": float64(len(msg)),
		"upstream_cluster": "outbound|7000||echo.example.com", "response_code_details": "egress_tunnel",
		"authority": "Echo.Example.COM.:7000",
	} {
		if e[k] != want {
			t.Errorf("log %s: got %v, want %v", k, e[k], want)
		}
	}
	match := map[string]string{"destination_service": "echo.example.com", "request_protocol": "tcp", "reporter": "source"}
	for name, want := range map[string]float64{
		"istio_tcp_connections_opened_total": 1, "istio_tcp_connections_closed_total": 1,
		"istio_tcp_received_bytes_total": float64(len(msg)), "istio_tcp_sent_bytes_total": float64(len(msg)),
	} {
		if got := labeled(t, tg.Gateway, name, match); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	if got := labeled(t, tg.Gateway, "istio_requests_total", map[string]string{"destination_service": "echo.example.com", "response_code": "200"}); got != 1 {
		t.Errorf("istio_requests_total: got %v, want 1", got)
	}
	if got := labeled(t, tg.Gateway, "portcullis_egress_decisions_total", map[string]string{"decision": "allow", "reason": "allowed"}); got != 1 {
		t.Errorf("decisions: got %v, want 1", got)
	}
}

// TestEgressRefusedConnectOpensNoSocket sends CONNECTs that the rules or
// the parser refuse: each gets its status and a log line, and neither the
// dialer nor the target's listener sees anything.
func TestEgressRefusedConnectOpensNoSocket(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	for _, hp := range []string{"echo.example.com:7000", "other.example.com:7000", "echo.example.com:7001"} {
		d.route(hp, echo.addr())
	}
	tg := startProxy(t, tunnelRules, d)
	type refusal struct {
		authority string
		status    int
		details   string
	}
	logged := map[string]refusal{}
	for i, tt := range []refusal{
		{"other.example.com:7000", 403, "egress_denied"},
		{"echo.example.com:7001", 403, "egress_denied"},
		{"evil-echo.example.com:7000", 403, "egress_denied"},
		{"echo.example.com.evil.net:7000", 403, "egress_denied"},
		{"127.0.0.1:7000", 403, "egress_denied"},
		{"[::1]:7000", 403, "egress_denied"},
		{"[::ffff:127.0.0.1]:7000", 403, "egress_denied"},
		{"127.1:7000", 403, "egress_denied"},      // read as 127.0.0.1
		{"2130706433:7000", 403, "egress_denied"}, // read as 127.0.0.1
		{"0x7f.0.0.1:7000", 403, "egress_denied"}, // read as 127.0.0.1
		{"0177.0.0.1:7000", 400, "egress_invalid_target"},
		// Go's server refuses this one itself, before any handler runs.
		{"echo.example.com@127.0.0.1:7000", 400, ""},
		{"127.0.0.1@echo.example.com:7000", 400, ""},
		{"echo.example.com:07000", 400, "egress_invalid_target"},
		{"echo.example.com", 400, "egress_invalid_target"},
		{"[fe80::1%25lo]:7000", 400, "egress_invalid_target"},
		{"echo.example.com..:7000", 400, "egress_invalid_target"},
		{"echo_example.com:7000", 400, "egress_invalid_target"},
		// Addresses and names no rule names: refused by the rules
		// before any lookup, whatever they would resolve to.
		{"localhost:7000", 403, "egress_denied"},
		{"LOCALHOST.:7000", 403, "egress_denied"},
		{"metadata.google.internal:80", 403, "egress_denied"},
		{"169.254.169.254:80", 403, "egress_denied"},
		{"100.64.0.1:7000", 403, "egress_denied"},
		{"10.0.0.1:7000", 403, "egress_denied"},
		{"192.168.0.1:7000", 403, "egress_denied"},
		{"172.16.0.1:7000", 403, "egress_denied"},
		{"0.0.0.0:7000", 403, "egress_denied"},
		{"224.0.0.1:7000", 403, "egress_denied"},
		{"255.255.255.255:7000", 403, "egress_denied"},
		{"[::]:7000", 403, "egress_denied"},
		{"[::127.0.0.1]:7000", 403, "egress_denied"},
		{"[64:ff9b::7f00:1]:7000", 403, "egress_denied"},
		{"[64:ff9b:1::7f00:1]:7000", 403, "egress_denied"},
		{"[2002:7f00:1::]:7000", 403, "egress_denied"},
		{"[2001:0:4136:e378:8000:63bf:80ff:fffe]:7000", 403, "egress_denied"},
		{"[fd00::1]:7000", 403, "egress_denied"},
		{"[fe80::1]:7000", 403, "egress_denied"},
		{"[ff02::1]:7000", 403, "egress_denied"},
		{"echo.example.com.evil:7000", 403, "egress_denied"},
		{"xn--echo-example-com.evil:7000", 400, "egress_invalid_target"},
		{"ECHO.EXAMPLE.COM.EVIL.NET:7000", 403, "egress_denied"},
		// More spellings of an address that are refused as they are.
		{"0x7f000001:7000", 403, "egress_denied"}, // read as 127.0.0.1
		{"127.0.0.1.:7000", 403, "egress_denied"}, // read as 127.0.0.1
		{"127.000.000.001:7000", 400, "egress_invalid_target"},
		{"017700000001:7000", 400, "egress_invalid_target"},
		{"[127.0.0.1]:7000", 400, ""},
		{"[::1:7000", 400, ""},
		{"echo.example.com:+7000", 400, ""},
		{"echo.example.com:65536", 400, "egress_invalid_target"},
		{"echo.example.com:0", 400, "egress_invalid_target"},
		{"*.example.com:7000", 400, "egress_invalid_target"},
		{"-echo.example.com:7000", 400, "egress_invalid_target"},
		{"echo.example.com%2e:7000", 400, ""},
	} {
		id := fmt.Sprintf("refused-%d", i)
		_, _, resp := connectH1(t, tg.Addr("egress").String(), tt.authority, id)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: got %d, want %d", tt.authority, resp.StatusCode, tt.status)
			continue
		}
		if tt.details != "" {
			logged[id] = tt
		}
	}
	// Every refusal the gateway made has its line, with its reason.
	lines := map[any]map[string]any{}
	waitUntil(t, "the refusals' log lines", func() bool {
		for _, e := range readLog(t, tg.logPath) {
			lines[e["request_id"]] = e
		}
		for id := range logged {
			if lines[id] == nil {
				return false
			}
		}
		return true
	})
	for id, tt := range logged {
		if e := lines[id]; e["response_code_details"] != tt.details || egressField(e, "reason") == nil {
			t.Errorf("%s: got log details %v reason %v, want %s", tt.authority, e["response_code_details"], egressField(e, "reason"), tt.details)
		}
	}
	if n := d.dialed(); n != 0 {
		t.Errorf("got %d dials, want none", n)
	}
	if got := labeled(t, tg.Gateway, "istio_requests_total", map[string]string{"destination_service": "BlackHoleCluster"}); got != float64(len(logged)) {
		t.Errorf("istio_requests_total to BlackHoleCluster: got %v, want %d", got, len(logged))
	}
	if n := echo.accepted.Load(); n != 0 {
		t.Errorf("the target accepted %d connections, want none", n)
	}
}

func TestEgressGuardAndResolutionFailures(t *testing.T) {
	d := newLoopDialer()
	d.refuse["internal.example.com"] = true
	tg := startProxy(t, `
egress:
  rules:
    - { name: any, to: { hosts: ["*.example.com"], ports: [80] }, tls: any }
`, d)
	for _, tt := range []struct {
		authority, id string
		status        int
		details       string
	}{
		{"internal.example.com:80", "guard", 403, "egress_address_refused"},
		{"missing.example.com:80", "dns", 502, "egress_dns_failed"},
	} {
		_, _, resp := connectH1(t, tg.Addr("egress").String(), tt.authority, tt.id)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: got %d, want %d", tt.authority, resp.StatusCode, tt.status)
		}
		if e := tg.logFor(tt.id); e["response_code_details"] != tt.details {
			t.Errorf("%s: got details %v, want %s", tt.authority, e["response_code_details"], tt.details)
		}
	}
	if e := tg.logFor("dns"); e["response_flags"] != "DF" {
		t.Errorf("got flags %v, want DF", e["response_flags"])
	}
}

func TestEgressIngressListenersStillRefuseConnect(t *testing.T) {
	d := newLoopDialer()
	tg := startProxy(t, `
  - { name: public, address: "127.0.0.1:0" }
virtual_hosts: [{ name: all, hosts: ["*"], routes: [{ direct_response: { status: 200 } }] }]
`+tunnelRules, d)
	_, _, resp := connectH1(t, tg.Addr("public").String(), "echo.example.com:7000", "ingress-connect")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("got %d, want 405", resp.StatusCode)
	}
	if d.dialed() != 0 {
		t.Error("the ingress listener dialled")
	}
}

func TestEgressTunnelTimeouts(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	for _, tt := range []struct{ limits, why string }{
		{"{ idle_timeout: 200ms }", "idle_timeout"},
		{"{ idle_timeout: 1m, max_tunnel_lifetime: 300ms }", "max_tunnel_lifetime"},
	} {
		t.Run(tt.why, func(t *testing.T) {
			tg := startProxy(t, `
egress:
  limits: `+tt.limits+`
  rules: [{ name: echo, to: { hosts: [echo.example.com], ports: [7000] } }]
`, d)
			c, br, resp := connectH1(t, tg.Addr("egress").String(), "echo.example.com:7000", tt.why)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", resp.StatusCode)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if tt.why == "max_tunnel_lifetime" {
				// Traffic keeps it from idling; the lifetime ends it.
				go func() {
					for range 50 {
						if _, err := io.WriteString(c, "x"); err != nil {
							return
						}
						time.Sleep(20 * time.Millisecond)
					}
				}()
			}
			if _, err := io.Copy(io.Discard, br); err != nil && !isClosed(err) {
				t.Fatalf("got %v, want the tunnel closed", err)
			}
			if e := tg.logFor(tt.why); e["connection_termination_details"] != tt.why {
				t.Errorf("got termination %v, want %s", e["connection_termination_details"], tt.why)
			}
		})
	}
}

// TestEgressTextLogLine writes a tunnel's line in an Envoy text format with
// the TCP-proxy operators and the egress metadata.
func TestEgressTextLogLine(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	cfg := loadProxyConfig(t, `
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }]
`+tunnelRules)
	tg := serveWith(t, cfg, accesslog.Options{Text: `%REQ(X-REQUEST-ID)% %REQ(:METHOD)% %REQ(:AUTHORITY)% %RESPONSE_CODE% %BYTES_RECEIVED% %BYTES_SENT% ` +
		`%UPSTREAM_WIRE_BYTES_SENT% %UPSTREAM_WIRE_BYTES_RECEIVED% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% ` +
		`%DYNAMIC_METADATA(portcullis.egress:destination)% %DYNAMIC_METADATA(portcullis.egress:decision)% %DYNAMIC_METADATA(portcullis.egress:rule)% %CONNECTION_TERMINATION_DETAILS%` + "\n"},
		Options{EgressDial: d.dial})
	c, br, resp := connectH1(t, tg.Addr("egress").String(), "echo.example.com:7000", "text-line")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	io.WriteString(c, "hello")
	io.ReadFull(br, make([]byte, 5))
	c.Close()
	want := "text-line CONNECT echo.example.com:7000 200 5 5 5 5 " + echo.addr() +
		" outbound|7000||echo.example.com 127.0.0.1 echo.example.com:7000 allow echo downstream_closed\n"
	var got string
	waitUntil(t, "the tunnel's line", func() bool {
		b, _ := os.ReadFile(tg.logPath)
		got = string(b)
		return strings.Contains(got, "text-line")
	})
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
