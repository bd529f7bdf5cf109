package egress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// corpusNames are what the test's DNS server answers for the corpus.
var corpusNames = map[string]*dnsName{
	"localhost":          {addrs: []string{"127.0.0.1", "::1"}, ttl: 60},
	"loop.test":          {addrs: []string{"127.0.0.1"}, ttl: 60},
	"alias.test":         {cname: "loop.test", ttl: 60},
	"127.0.0.1.nip.test": {addrs: []string{"127.0.0.1"}, ttl: 60},
	"meta.test":          {addrs: []string{"169.254.169.254"}, ttl: 60},
	"mixed.test":         {addrs: []string{"93.184.215.14", "10.0.0.1"}, ttl: 60},
	"mapped.test":        {addrs: []string{"::ffff:127.0.0.1"}, ttl: 60},
	"nat64.test":         {addrs: []string{"64:ff9b::7f00:1"}, ttl: 60},
	"sixtofour.test":     {addrs: []string{"2002:7f00:1::1"}, ttl: 60},
	"zero.test":          {addrs: []string{"0.0.0.0"}, ttl: 60},
	"ula.test":           {addrs: []string{"fd00:ec2::254"}, ttl: 60},
	"cgnat.test":         {addrs: []string{"100.100.100.200"}, ttl: 60},
	"poisoned.test":      {addrs: []string{"127.0.0.1"}, extra: true, ttl: 60},
	"big.test":           {addrs: []string{"127.0.0.1"}, truncate: true, ttl: 60},
}

// TestHostileCorpus sends bypass attempts through the path a CONNECT takes:
// SplitAuthority, then the dialer with no CIDR allowed. Each must be
// refused, with its reason. Targets on 127.0.0.1 use the port of a
// listener that counts accepts, and are dialled for real: none may open a
// socket. Other targets are only resolved and checked, never dialled.
func TestHostileCorpus(t *testing.T) {
	ln := listenCounting(t)
	d, _ := newTestDialer(t, corpusNames)
	p := ln.port
	tests := []struct {
		authority, reason string
	}{
		// IPv4 spellings of loopback, normalised then refused.
		{"127.0.0.1:%d", "loopback address in 127.0.0.0/8"},
		{"127.1:%d", "loopback"},
		{"127.0.1:%d", "loopback"},
		{"2130706433:%d", "loopback"},
		{"0x7f.1:%d", "loopback"},
		{"0x7f000001:%d", "loopback"},
		{"0X7F.0.0.1:%d", "loopback"},
		{"0x7f.0x0.0x0.0x1:%d", "loopback"},
		{"127.0.0.1.:%d", "loopback"},
		{"127.255.255.254:%d", "loopback"},
		{"１２７.０.０.１:%d", "loopback"},
		{"127。0。0。1:%d", "loopback"},
		{"①②⑦.0.0.1:%d", "loopback"},
		{"0:%d", "this_network address in 0.0.0.0/8"},
		{"0.0.0.0:%d", "this_network"},
		// IPv6 forms of loopback and of IPv4 loopback.
		{"[::1]:%d", "loopback address in ::1/128"},
		{"[0:0:0:0:0:0:0:1]:%d", "loopback"},
		{"[::]:%d", "unspecified"},
		{"[::ffff:127.0.0.1]:%d", "ipv4_mapped address in ::ffff:0.0.0.0/96 embedding 127.0.0.1"},
		{"[::FFFF:7f00:1]:%d", "ipv4_mapped"},
		{"[::127.0.0.1]:%d", "ipv4_compatible address in ::/96 embedding 127.0.0.1"},
		{"[::ffff:0:127.0.0.1]:%d", "ipv4_translated"},
		{"[64:ff9b::127.0.0.1]:%d", "nat64 address in 64:ff9b::/96 embedding 127.0.0.1"},
		{"[64:ff9b:1::7f00:1]:%d", "nat64 address in 64:ff9b:1::/48"},
		{"[2002:7f00:1::]:%d", "6to4 address in 2002::/16 embedding 127.0.0.1"},
		{"[2001:0:4136:e378:8000:63bf:80ff:fffe]:%d", "teredo address in 2001::/32 embedding 127.0.0.1"},
		{"[2a00:1450::5efe:127.0.0.1]:%d", "isatap"},
		{"[2a00:1450::200:5efe:7f00:1]:%d", "isatap"},
		// Cloud metadata and other internal ranges, never dialled.
		{"169.254.169.254:80", "link_local address in 169.254.0.0/16"},
		{"169.254.43518:80", "link_local"},
		{"2852039166:80", "link_local"},
		{"0xa9fea9fe:80", "link_local"},
		{"0xa9.0xfe.0xa9.0xfe:80", "link_local"},
		{"[::ffff:169.254.169.254]:80", "ipv4_mapped"},
		{"[::ffff:a9fe:a9fe]:80", "ipv4_mapped"},
		{"[fd00:ec2::254]:80", "unique_local"},
		{"[fe80::a9fe:a9fe]:80", "link_local"},
		{"100.100.100.200:80", "cgnat"},
		{"10.0.0.1:443", "private address in 10.0.0.0/8"},
		{"172.16.0.1:443", "private address in 172.16.0.0/12"},
		{"192.168.0.1:443", "private address in 192.168.0.0/16"},
		{"167772161:443", "private"},
		{"192.0.0.170:443", "ietf_protocol"},
		{"192.0.2.1:443", "documentation"},
		{"198.18.0.1:443", "benchmarking"},
		{"224.0.0.1:443", "multicast"},
		{"240.0.0.1:443", "reserved"},
		{"255.255.255.255:443", "broadcast"},
		{"[ff02::1]:443", "multicast"},
		{"[fec0::1]:443", "site_local"},
		{"[100::1]:443", "discard"},
		{"[2001:db8::1]:443", "documentation"},
		// Spellings refused before any lookup.
		{"0177.0.0.1:%d", "leading zero"},
		{"0x7f.0.0.01:%d", "leading zero"},
		{"127.000.000.001:%d", "leading zero"},
		{"4294967297:%d", "above 2^32-1"},  // would wrap to 0.0.0.1
		{"0x17f000001:%d", "above 2^32-1"}, // would wrap to 127.0.0.1
		{"127.0.0.256:%d", "too large"},
		{"127.0.0.1.1:%d", "IPv4"}, // five parts
		{"foo.127:%d", "not a number"},
		{"127.0.0.1..:%d", "empty label"},
		{"[127.0.0.1]:%d", "not an IPv6 address"},
		{"[fe80::1%%eth0]:443", "'%'"},
		{"[fe80::1%%25eth0]:443", "'%'"},
		{"127.0.0.1%%00:%d", "'%'"},
		{"evil@127.0.0.1:%d", "'@'"},
		{"allowed.example:443@127.0.0.1:%d", "'@'"},
		{"127.0.0.1\\@allowed.example:%d", "'\\\\'"},
		{"127.0.0.1 :%d", "' '"},
		{"127.0.0.1:0%d", "port"},
		{"127.0.0.1:%d0000", "not a number"},
		{"127.0.0.1:0", "zero"},
		{"::1:%d", "without brackets"},
		{"127.0.0.1", "no port"},
		// Names that the test's DNS server resolves to internal addresses.
		{"localhost:%d", "loopback"},
		{"LOCALHOST.:%d", "loopback"},
		{"loop.test:%d", "loopback"},
		{"LoOp.TeSt.:%d", "loopback"},
		{"alias.test:%d", "loopback"},
		{"127.0.0.1.nip.test:%d", "loopback"},
		{"poisoned.test:%d", "loopback"},
		{"big.test:%d", "loopback"},
		{"mapped.test:%d", "ipv4_mapped"},
		{"nat64.test:%d", "nat64"},
		{"sixtofour.test:%d", "6to4"},
		{"zero.test:%d", "this_network"},
		{"meta.test:80", "link_local"},
		{"mixed.test:443", "private address in 10.0.0.0/8"},
		{"ula.test:443", "unique_local"},
		{"cgnat.test:443", "cgnat"},
	}
	for _, tt := range tests {
		authority := tt.authority
		if strings.Contains(authority, "%") {
			authority = fmt.Sprintf(authority, p)
		}
		t.Run(authority, func(t *testing.T) {
			host, port, err := SplitAuthority(authority)
			if err == nil {
				var dialled Dialled
				dialled, err = d.Resolve(context.Background(), host, port, nil)
				if err == nil {
					t.Fatalf("%s passed the guard: %+v", authority, dialled.Resolved)
				}
				if !errors.Is(err, ErrRefused) {
					t.Fatalf("%s: %v, want a refusal by the guard", authority, err)
				}
				if onlyLoopback(dialled) {
					conn, _, err2 := d.Dial(context.Background(), host, port, nil)
					if conn != nil {
						conn.Close()
					}
					if !errors.Is(err2, ErrRefused) {
						t.Errorf("Dial(%s): %v, want a refusal", authority, err2)
					}
				}
			} else if !errors.Is(err, ErrInvalidHost) {
				t.Fatalf("%s: %v, want ErrInvalidHost", authority, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%s refused with %q, want it to say %q", authority, err, tt.reason)
			}
		})
	}
	if len(tests) < 60 {
		t.Errorf("the corpus has %d attempts, want at least 60", len(tests))
	}
	ln.expectOnly(t, d)
}

// onlyLoopback reports whether every address checked is one the test may
// dial: 127.0.0.1, or a spelling that the kernel routes to it.
func onlyLoopback(d Dialled) bool {
	for _, v := range d.Resolved {
		if a := v.Addr.Unmap(); a != netip.MustParseAddr("127.0.0.1") && !a.IsUnspecified() {
			return false
		}
	}
	return len(d.Resolved) > 0
}

// TestLookAlikesStayDistinct checks that a name written with look-alike
// characters canonicalises to another name than the one it imitates, so
// that a rule for example.com never covers it, while compatibility forms of
// example.com's own characters (width, case, a soft hyphen, an ideographic
// full stop) fold into it.
func TestLookAlikesStayDistinct(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ехаmple.com", "xn--mple-43d3a6i.com"}, // Cyrillic е, х, а
		{"exаmple.com", "xn--exmple-4nf.com"},   // one Cyrillic а
		{"xn--exmple-4nf.com", "xn--exmple-4nf.com"},
		{"XN--EXMPLE-4NF.COM", "xn--exmple-4nf.com"},
		{"εxample.com", "xn--xample-hye.com"}, // Greek epsilon
		{"examp1e.com", "examp1e.com"},
		{"exampIe.com", "exampie.com"}, // capital I is i, not l
		{"example.com.evil.test", "example.com.evil.test"},
		{"evil-example.com", "evil-example.com"},
		{"ｅｘａｍｐｌｅ.ｃｏｍ", "example.com"},
		{"EXAMPLE.COM.", "example.com"},
		{"example.com\u3002", "example.com"},
		{"ex\u00adample.com", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := CanonicalHost(tt.in)
			if err != nil || h.String() != tt.want {
				t.Errorf("CanonicalHost(%q) = %q, %v; want %q", tt.in, h, err, tt.want)
			}
		})
	}
}
