package egress

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func prefixes(cidrs ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

func TestGuardCheck(t *testing.T) {
	g := NewGuard([]netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:9901"),
		netip.MustParseAddrPort("0.0.0.0:3128"),
		netip.MustParseAddrPort("[::]:8443"),
		netip.MustParseAddrPort("192.0.2.7:7000"),
	})
	g.localAddrs = func() ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("203.0.113.9"), netip.MustParseAddr("2001:db8::9")}, nil
	}
	tests := []struct {
		name    string
		addr    string
		port    uint16
		allowed []netip.Prefix
		ok      bool
		reason  string
	}{
		{"public", "8.8.8.8", 443, nil, true, "public"},
		{"public v6", "2001:4860:4860::8888", 443, nil, true, "public"},
		{"port zero", "8.8.8.8", 0, nil, false, "port 0"},
		{"loopback", "127.0.0.1", 443, nil, false, "loopback address in 127.0.0.0/8"},
		{"metadata", "169.254.169.254", 80, nil, false, "link_local address in 169.254.0.0/16"},
		{"metadata mapped", "::ffff:169.254.169.254", 80, nil, false, "ipv4_mapped address in ::ffff:0.0.0.0/96 embedding 169.254.169.254"},
		{"public mapped", "::ffff:8.8.8.8", 443, nil, false, "ipv4_mapped"},
		{"nat64 loopback", "64:ff9b::7f00:1", 443, nil, false, "nat64 address in 64:ff9b::/96 embedding 127.0.0.1"},
		{"6to4 private", "2002:a00:1::1", 443, nil, false, "6to4 address in 2002::/16 embedding 10.0.0.1"},
		{"teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", 443, nil, false, "teredo"},
		{"zone", "fe80::1%eth0", 443, prefixes("fe80::/10"), false, "zoned address"},
		{"invalid", "", 443, nil, false, "invalid address"},
		{"allowed exactly", "127.0.0.1", 443, prefixes("127.0.0.1/32"), true, "loopback allowed by 127.0.0.1/32"},
		{"allowed range", "10.1.2.3", 443, prefixes("10.0.0.0/8"), true, "private allowed by 10.0.0.0/8"},
		{"allowed unmasked", "10.1.2.3", 443, prefixes("10.1.2.99/24"), true, "private allowed by 10.1.2.0/24"},
		{"other range", "10.1.2.3", 443, prefixes("192.168.0.0/16"), false, "private address in 10.0.0.0/8"},
		{"wider than the range", "10.1.2.3", 443, prefixes("10.0.0.0/7"), false, "private"},
		{"everything v4", "127.0.0.1", 443, prefixes("0.0.0.0/0"), false, "loopback"},
		{"everything v6", "::1", 443, prefixes("::/0"), false, "loopback"},
		{"v4 prefix for mapped", "::ffff:127.0.0.1", 443, prefixes("127.0.0.0/8"), false, "ipv4_mapped"},
		{"mapped prefix for mapped", "::ffff:127.0.0.1", 443, prefixes("::ffff:127.0.0.1/128"), true, "ipv4_mapped allowed"},
		{"whole mapped range is not enough for v4", "127.0.0.1", 443, prefixes("::ffff:0:0/96"), false, "loopback"},
		{"nat64 named", "64:ff9b::a00:1", 443, prefixes("64:ff9b::a00:0/120"), true, "nat64 allowed"},
		{"isatap narrow", "2a00:1450::5efe:a00:1", 443, prefixes("2a00:1450::5efe:a00:0/120"), true, "isatap allowed"},
		{"isatap wide", "2a00:1450::5efe:a00:1", 443, prefixes("2a00:1450::/64"), false, "isatap"},
		{"reserved v6 wide", "4000::1", 443, prefixes("::/0"), false, "reserved address in 4000::/3"},

		{"own admin", "127.0.0.1", 9901, prefixes("127.0.0.0/8"), false, "the gateway's own listener 127.0.0.1:9901"},
		{"own admin mapped", "::ffff:127.0.0.1", 9901, prefixes("::ffff:127.0.0.1/128"), false, "own listener"},
		{"admin port elsewhere", "127.0.0.2", 9901, prefixes("127.0.0.0/8"), true, "loopback allowed"},
		{"unspecified reaches admin", "0.0.0.0", 9901, prefixes("0.0.0.0/8"), false, "own listener"},
		{"unspecified v6 reaches admin", "::", 9901, prefixes("::/128"), false, "own listener"},
		{"wildcard v4 loopback", "127.0.0.5", 3128, prefixes("127.0.0.0/8"), false, "own listener 0.0.0.0:3128"},
		{"wildcard v4 covers v6 loopback", "::1", 3128, prefixes("::1/128"), false, "own listener"},
		{"wildcard v4 interface", "203.0.113.9", 3128, prefixes("203.0.113.0/24"), false, "own listener"},
		{"wildcard v6 interface", "2001:db8::9", 8443, prefixes("2001:db8::/32"), false, "own listener [::]:8443"},
		{"wildcard v6 covers v4 interface", "203.0.113.9", 8443, prefixes("203.0.113.9/32"), false, "own listener"},
		{"wildcard other port", "203.0.113.9", 3129, prefixes("203.0.113.9/32"), true, "documentation allowed"},
		{"other host same port", "203.0.113.10", 3128, prefixes("203.0.113.0/24"), true, "documentation allowed"},
		{"own public listener", "192.0.2.7", 7000, prefixes("192.0.2.0/24"), false, "own listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr netip.Addr
			if tt.addr != "" {
				addr = netip.MustParseAddr(tt.addr)
			}
			reason, ok := g.Check(addr, tt.port, tt.allowed)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) {
				t.Errorf("Check(%s, %d, %v) = %q, %v; want %q, %v", tt.addr, tt.port, tt.allowed, reason, ok, tt.reason, tt.ok)
			}
		})
	}
}

// TestGuardReadsInterfaces checks the default list of local addresses: a
// wildcard listener's port is refused on the host's own addresses.
func TestGuardReadsInterfaces(t *testing.T) {
	locals, err := interfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	if len(locals) == 0 {
		t.Skip("no interface addresses")
	}
	g := NewGuard([]netip.AddrPort{netip.MustParseAddrPort("[::]:3128")})
	for _, a := range locals {
		if reason, ok := g.Check(a, 3128, []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}); ok {
			t.Errorf("Check(%s, 3128) = %q, ok; want the gateway's own listener", a, reason)
		}
	}
}

func TestNilGuardAndResolver(t *testing.T) {
	var g *Guard
	if reason, ok := g.Check(netip.MustParseAddr("127.0.0.1"), 443, nil); ok || reason != "loopback address in 127.0.0.0/8" {
		t.Errorf("nil Guard Check(127.0.0.1) = %q, %v; want loopback refused", reason, ok)
	}
	d := &Dialer{}
	h, _ := CanonicalHost("example.com")
	if _, _, err := d.Dial(context.Background(), h, 443, nil); err == nil || !strings.Contains(err.Error(), "no resolver") {
		t.Errorf("Dial without a resolver: %v, want an error saying so", err)
	}
}

// TestHotPathAllocs: checking a public address allocates nothing.
func TestHotPathAllocs(t *testing.T) {
	g := NewGuard([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9901")})
	public := netip.MustParseAddr("2001:4860:4860::8888")
	allowed := prefixes("10.0.0.0/8")
	if n := testing.AllocsPerRun(100, func() { Classify(public) }); n != 0 {
		t.Errorf("Classify allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { g.Check(public, 443, allowed) }); n != 0 {
		t.Errorf("Check of a public address allocates %v times, want 0", n)
	}
}

func BenchmarkGuardCheck(b *testing.B) {
	g := NewGuard([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9901")})
	public := netip.MustParseAddr("93.184.215.14")
	for b.Loop() {
		g.Check(public, 443, nil)
	}
}

func BenchmarkCanonicalHost(b *testing.B) {
	for b.Loop() {
		CanonicalHost("api.example.com")
	}
}
