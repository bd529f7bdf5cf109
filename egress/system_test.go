package egress

import (
	"net/netip"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	rule := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.215.14", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"10.20.1.1", true}, // the rule names its range
		{"::ffff:10.20.1.1", true},
		{"10.21.1.1", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"169.254.169.254", false},
		{"192.168.1.1", false},
		{"172.16.0.1", false},
		{"fd00::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"0.0.0.0", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
	} {
		if _, ok := CheckAddress(netip.MustParseAddr(tt.addr), rule); ok != tt.ok {
			t.Errorf("%s: got %v, want %v", tt.addr, ok, tt.ok)
		}
	}
}
