package gateway

import (
	"net/netip"
	"testing"
)

// TestHopAddr reads the client behind n trusted proxies as Envoy's
// xff_num_trusted_hops does: the nth address from the right of
// X-Forwarded-For, the peer when there are fewer or the one named is not
// an address.
func TestHopAddr(t *testing.T) {
	peer := netip.MustParseAddr("192.0.2.1")
	cases := []struct {
		name string
		xff  []string
		n    int
		want string
	}{
		{"one hop", []string{"203.0.113.5"}, 1, "203.0.113.5"},
		{"one hop, a longer chain", []string{"198.51.100.1, 203.0.113.5"}, 1, "203.0.113.5"},
		{"two hops", []string{"198.51.100.1, 203.0.113.5"}, 2, "198.51.100.1"},
		{"two hops across fields", []string{"198.51.100.1", "203.0.113.5"}, 2, "198.51.100.1"},
		{"spaces", []string{" 198.51.100.1 ,203.0.113.5 "}, 2, "198.51.100.1"},
		{"fewer entries than hops", []string{"203.0.113.5"}, 2, "192.0.2.1"},
		{"no header", nil, 1, "192.0.2.1"},
		{"garbage", []string{"not-an-ip"}, 1, "192.0.2.1"},
		{"spoofed left entries are not read", []string{"10.0.0.1, 6.6.6.6, 203.0.113.5"}, 1, "203.0.113.5"},
		{"mapped IPv6", []string{"::ffff:203.0.113.5"}, 1, "203.0.113.5"},
		{"empty field", []string{"", "203.0.113.5"}, 2, "192.0.2.1"},
	}
	for _, c := range cases {
		if got := hopAddr(peer, c.xff, c.n); got.String() != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
