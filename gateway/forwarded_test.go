package gateway

import (
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	peerTrusted := netip.MustParseAddr("10.1.2.3")
	peerOutside := netip.MustParseAddr("203.0.113.9")
	tests := []struct {
		name    string
		peer    netip.Addr
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no trusted proxies: peer", peerTrusted, []string{"198.51.100.1"}, nil, "10.1.2.3"},
		{"untrusted peer: its XFF is ignored", peerOutside, []string{"198.51.100.1"}, trusted, "203.0.113.9"},
		{"trusted peer, one hop", peerTrusted, []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"trusted chain walked from the right", peerTrusted, []string{"198.51.100.1, 10.9.9.9, 10.8.8.8"}, trusted, "198.51.100.1"},
		{"client cannot spoof past the first untrusted hop", peerTrusted, []string{"1.1.1.1, 198.51.100.1, 10.8.8.8"}, trusted, "198.51.100.1"},
		{"several header lines are one list", peerTrusted, []string{"1.1.1.1", "198.51.100.7", "10.0.0.1"}, trusted, "198.51.100.7"},
		{"all trusted: the leftmost", peerTrusted, []string{"10.0.0.5, 10.0.0.6"}, trusted, "10.0.0.5"},
		{"garbage stops the walk at the last good hop", peerTrusted, []string{"198.51.100.1, not-an-ip, 10.0.0.6"}, trusted, "10.0.0.6"},
		{"garbage right after the peer", peerTrusted, []string{"evil"}, trusted, "10.1.2.3"},
		{"empty entry", peerTrusted, []string{"198.51.100.1, "}, trusted, "10.1.2.3"},
		{"ip with port", peerTrusted, []string{"198.51.100.1:4444"}, trusted, "198.51.100.1"},
		{"ipv6", netip.MustParseAddr("fd00::1"), []string{"2001:db8::1"}, trusted, "2001:db8::1"},
		{"bracketed ipv6 with port", netip.MustParseAddr("fd00::1"), []string{"[2001:db8::1]:80"}, trusted, "2001:db8::1"},
		{"v4-mapped v6 unmapped", peerTrusted, []string{"::ffff:198.51.100.1"}, trusted, "198.51.100.1"},
		{"zone rejected", peerTrusted, []string{"fe80::1%eth0"}, trusted, "10.1.2.3"},
		{"spaces around", peerTrusted, []string{"  198.51.100.1  ,10.0.0.1"}, trusted, "198.51.100.1"},
		{"no XFF", peerTrusted, nil, trusted, "10.1.2.3"},
		{"cidr is not an address", peerTrusted, []string{"198.51.100.0/24"}, trusted, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientAddr(tt.peer, tt.xff, tt.trusted)
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzClientAddr checks that whatever X-Forwarded-For says, the client
// address is the peer or an address that appears in the header, and never
// one a trusted proxy did not vouch for: when the peer is untrusted, the
// header is never read.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.1.1.1, 10.0.0.1", "[::1]:80, x", ",,,", "10.0.0.1,10.0.0.2,::ffff:1.2.3.4"} {
		f.Add(s, true)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff string, peerTrusted bool) {
		peer := netip.MustParseAddr("203.0.113.1")
		if peerTrusted {
			peer = netip.MustParseAddr("10.0.0.99")
		}
		got := clientAddr(peer, []string{xff}, trusted)
		if !got.IsValid() {
			t.Fatalf("invalid address for %q", xff)
		}
		if !peerTrusted && got != peer {
			t.Fatalf("untrusted peer: got %s, want the peer %s", got, peer)
		}
		if got.Is4In6() || got.Zone() != "" {
			t.Fatalf("got %s, want an unmapped address without zone", got)
		}
	})
}

func BenchmarkClientAddr(b *testing.B) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	peer := netip.MustParseAddr("10.0.0.99")
	xff := []string{"198.51.100.1, 10.0.0.1"}
	b.ReportAllocs()
	for b.Loop() {
		clientAddr(peer, xff, trusted)
	}
}
