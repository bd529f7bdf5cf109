package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

func TestEgressTunnelLimits(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	d.route("b.example.com:7000", echo.addr())
	tg := startProxy(t, `
trusted_proxies: [127.0.0.1/32]
egress:
  limits:
    per_caller: { max_tunnels: 2 }
    per_destination: { max_tunnels: 1 }
  rules:
    - { name: echo, to: { hosts: [a.example.com, b.example.com], ports: [7000] } }
`, d)
	proxy := tg.Addr("egress").String()
	// One caller holds a's only place; a second tunnel to a is refused
	// for the destination, and a third of the caller's for the caller.
	if _, _, resp := connectH1(t, proxy, "a.example.com:7000", "lim-1", "X-Forwarded-For: 10.1.0.1"); resp.StatusCode != 200 {
		t.Fatalf("first: got %d, want 200", resp.StatusCode)
	}
	_, _, resp := connectH1(t, proxy, "a.example.com:7000", "lim-2", "X-Forwarded-For: 10.1.0.2")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("destination full: got %d, want 503", resp.StatusCode)
	}
	if _, _, resp := connectH1(t, proxy, "b.example.com:7000", "lim-3", "X-Forwarded-For: 10.1.0.1"); resp.StatusCode != 200 {
		t.Fatalf("second of the caller: got %d, want 200", resp.StatusCode)
	}
	c4, _, resp := connectH1(t, proxy, "b.example.com:7000", "lim-4", "X-Forwarded-For: 10.1.0.1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("caller full: got %d Retry-After %q, want 429 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	c4.Close()
	for id, want := range map[string]string{"lim-2": "destination_tunnel_limit", "lim-4": "caller_tunnel_limit"} {
		e := tg.logFor(id)
		if egressField(e, "reason") != want || egressField(e, "decision") != "deny" {
			t.Errorf("%s: got reason %v decision %v, want %s deny", id, egressField(e, "reason"), egressField(e, "decision"), want)
		}
	}
	if got := labeled(t, tg.Gateway, "portcullis_egress_decisions_total", map[string]string{"reason": "caller_tunnel_limit"}); got != 1 {
		t.Errorf("caller limit counter: got %v, want 1", got)
	}
}

func TestEgressRateLimitPerCaller(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	tg := startProxy(t, `
egress:
  limits: { per_caller: { per_second: 0.001, burst: 2 } }
  rules: [{ name: echo, to: { hosts: [a.example.com], ports: [7000] } }]
`, d)
	proxy := tg.Addr("egress").String()
	for i, want := range []int{200, 200, 429} {
		c, _, resp := connectH1(t, proxy, "a.example.com:7000", "rate", "")
		if resp.StatusCode != want {
			t.Errorf("tunnel %d: got %d, want %d", i, resp.StatusCode, want)
		}
		c.Close()
	}
}

func TestEgressReportMode(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("new.example.com:7000", echo.addr())
	tg := startProxy(t, `
egress:
  rules:
    - { name: rollout, mode: report, from: { source_cidrs: [127.0.0.0/8] }, to: { hosts: [old.example.com], ports: [7000] } }
`, d)
	c, _, resp := connectH1(t, tg.Addr("egress").String(), "new.example.com:7000", "report")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200: report mode lets it pass", resp.StatusCode)
	}
	c.Close()
	e := tg.logFor("report")
	if egressField(e, "decision") != "report" || egressField(e, "rule") != "rollout" {
		t.Errorf("got %v by %v, want report by rollout", egressField(e, "decision"), egressField(e, "rule"))
	}
}

func TestEgressCallerHeaderFromTrustedProxyOnly(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	rules := `
egress:
  rules: [{ name: office, from: { source_cidrs: [192.0.2.0/24] }, to: { hosts: [a.example.com], ports: [7000] } }]
`
	cfg := loadProxyConfig(t, `
trusted_proxies: [127.0.0.1/32]
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy, caller_header: X-Caller-Ip }
`+rules)
	trusted := serveWithDial(t, cfg, d)
	if _, _, resp := connectH1(t, trusted.Addr("egress").String(), "a.example.com:7000", "hdr-trusted", "X-Caller-Ip: 192.0.2.9"); resp.StatusCode != 200 {
		t.Errorf("from a trusted peer: got %d, want 200", resp.StatusCode)
	}
	untrusted := startProxy(t, rules, d)
	if _, _, resp := connectH1(t, untrusted.Addr("egress").String(), "a.example.com:7000", "hdr-untrusted", "X-Caller-Ip: 192.0.2.9"); resp.StatusCode != 403 {
		t.Errorf("from an untrusted peer: got %d, want 403", resp.StatusCode)
	}
}

// TestEgressCallerHeaderLastValue: a trusted proxy that appends the
// caller's address, on a line of its own or after a comma, puts it last;
// a value the client sent before it is the client's word, not the proxy's.
func TestEgressCallerHeaderLastValue(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	tg := serveWithDial(t, loadProxyConfig(t, `
trusted_proxies: [127.0.0.1/32]
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy, caller_header: X-Caller-Ip }
egress:
  rules: [{ name: office, from: { source_cidrs: [192.0.2.0/24] }, to: { hosts: [a.example.com], ports: [7000] } }]
`), d)
	for _, tt := range []struct {
		name   string
		header []string
		want   int
	}{
		{"spoofed line before the appended one", []string{"X-Caller-Ip: 192.0.2.9", "X-Caller-Ip: 198.51.100.7"}, 403},
		{"spoofed value before the appended one", []string{"X-Caller-Ip: 192.0.2.9, 198.51.100.7"}, 403},
		{"appended value allowed", []string{"X-Caller-Ip: 198.51.100.7, 192.0.2.9"}, 200},
		{"appended line allowed", []string{"X-Caller-Ip: 198.51.100.7", "X-Caller-Ip: 192.0.2.9"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, resp := connectH1(t, tg.Addr("egress").String(), "a.example.com:7000", "hdr-"+tt.name, tt.header...); resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestEgressReloadUnderOpenTunnel removes the rule that allowed an open
// tunnel: that tunnel ends at once, a new one is refused, and a tunnel
// whose rule stays goes on.
func TestEgressReloadUnderOpenTunnel(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	d.route("b.example.com:7000", echo.addr())
	listeners := `
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }]
`
	keep := `{ name: kept, to: { hosts: [b.example.com], ports: [7000] } }`
	tg := serveWithDial(t, loadProxyConfig(t, listeners+`
egress: { rules: [{ name: echo, to: { hosts: [a.example.com], ports: [7000] } }, `+keep+`] }
`), d)
	proxy := tg.Addr("egress").String()
	c, br, resp := connectH1(t, proxy, "a.example.com:7000", "before-reload")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	kc, kbr, resp := connectH1(t, proxy, "b.example.com:7000", "kept-rule")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	if err := tg.Reload(loadProxyConfig(t, listeners+"egress: { rules: ["+keep+"] }\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, resp := connectH1(t, proxy, "a.example.com:7000", "after-reload"); resp.StatusCode != 403 {
		t.Errorf("new tunnel after the reload: got %d, want 403", resp.StatusCode)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := br.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("tunnel whose rule was removed: read %d bytes, %v; want it closed", n, err)
	}
	if e := tg.logFor("before-reload"); e["connection_termination_details"] != "egress_rule_revoked" {
		t.Errorf("termination: got %v, want egress_rule_revoked", e["connection_termination_details"])
	}
	io.WriteString(kc, "still here")
	got := make([]byte, 10)
	kc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(kbr, got); err != nil || string(got) != "still here" {
		t.Errorf("tunnel whose rule stays, after the reload: got %q, %v", got, err)
	}
}

// TestEgressDrainEndsTunnels shuts the gateway down with a tunnel open:
// the tunnel gets the drain timeout, then closes, and shutdown returns.
func TestEgressDrainEndsTunnels(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	gw, err := New(loadProxyConfig(t, `
admin: { address: off }
access_log: { path: off }
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }]
egress: { rules: [{ name: echo, to: { hosts: [a.example.com], ports: [7000] } }] }
`), Options{EgressDial: d.dial, DrainTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	c, br, resp := connectH1(t, gw.Addr("egress").String(), "a.example.com:7000", "drain")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- gw.Shutdown(context.Background()) }()
	// Within the drain timeout the tunnel still carries bytes.
	io.WriteString(c, "ping")
	got := make([]byte, 4)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("during the drain: %v", err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("got a byte, want the tunnel closed at the drain timeout")
	}
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("the tunnel closed after %v, before the drain timeout", took)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not return")
	}
}

// TestEgressDenyRuleCIDRCoversResolvedAddress: a deny rule that names a
// range refuses a name the rules allow once it resolves into that range,
// for tunnels and plain requests alike; another port is not covered.
func TestEgressDenyRuleCIDRCoversResolvedAddress(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	d.route("a.example.com:7001", echo.addr())
	d.route("a.example.com:80", echo.addr())
	tg := startProxy(t, `
egress:
  rules:
    - { name: no-lab, action: deny, to: { cidrs: [127.0.0.0/8], ports: [7000, 80] } }
    - { name: a, to: { hosts: [a.example.com], ports: [7000, 7001, 80] } }
`, d)
	proxy := tg.Addr("egress").String()
	if _, _, resp := connectH1(t, proxy, "a.example.com:7000", "resolved-denied"); resp.StatusCode != 403 {
		t.Errorf("tunnel to a name resolving into a denied range: got %d, want 403", resp.StatusCode)
	}
	if e := tg.logFor("resolved-denied"); egressField(e, "rule") != "no-lab" || egressField(e, "decision") != "deny" {
		t.Errorf("logged rule %v decision %v, want no-lab deny", egressField(e, "rule"), egressField(e, "decision"))
	}
	if status, _ := proxyRequest(t, proxy, "GET http://a.example.com/ HTTP/1.1\r\nHost: a.example.com\r\n\r\n"); status != 403 {
		t.Errorf("plain request to a name resolving into a denied range: got %d, want 403", status)
	}
	if _, _, resp := connectH1(t, proxy, "a.example.com:7001", "other-port"); resp.StatusCode != 200 {
		t.Errorf("port the deny rule does not name: got %d, want 200", resp.StatusCode)
	}
}

// TestEgressReportDenyRuleCIDRReportsResolvedAddress: a deny rule in report
// mode that names a range lets a name resolving into it pass, and the
// access log says which rule would have denied it.
func TestEgressReportDenyRuleCIDRReportsResolvedAddress(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("a.example.com:7000", echo.addr())
	tg := startProxy(t, `
egress:
  rules:
    - { name: shadow-lab, action: deny, mode: report, to: { cidrs: [127.0.0.0/8], ports: [7000] } }
    - { name: a, to: { hosts: [a.example.com], ports: [7000] } }
`, d)
	c, _, resp := connectH1(t, tg.Addr("egress").String(), "a.example.com:7000", "resolved-reported")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	c.Close()
	if e := tg.logFor("resolved-reported"); egressField(e, "rule") != "shadow-lab" || egressField(e, "decision") != "report" {
		t.Errorf("logged rule %v decision %v, want shadow-lab report", egressField(e, "rule"), egressField(e, "decision"))
	}
}
