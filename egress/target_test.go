package egress

import (
	"strconv"
	"testing"
)

// TestParseAuthority covers what ParseAuthority adds to SplitAuthority
// (whose own tests hold the hostile corpus): the default port of an
// absolute URL's authority, and the Destination it fills.
func TestParseAuthority(t *testing.T) {
	for _, tt := range []struct {
		in   string
		def  uint16
		want string // Name():port, or "" for refused
		ip   bool
	}{
		{"API.Example.COM.:443", 0, "api.example.com:443", false},
		{"bücher.example:443", 0, "xn--bcher-kva.example:443", false},
		{"127.1:443", 0, "127.0.0.1:443", true},
		{"[::ffff:127.0.0.1]:443", 0, "::ffff:127.0.0.1:443", true},
		{"example.com", 80, "example.com:80", false},
		{"example.com:8080", 80, "example.com:8080", false},
		{"[2001:db8::1]", 80, "2001:db8::1:80", true},
		{"[2001:db8::1]:8443", 80, "2001:db8::1:8443", true},
		{"example.com", 0, "", false},
		{"[2001:db8::1]", 0, "", false},
		{"example.com:", 80, "", false},
		{"::1", 80, "", false},
		{"user@example.com", 80, "", false},
		{"0177.0.0.1:443", 0, "", false},
		{"", 80, "", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseAuthority(tt.in, tt.def)
			got := ""
			if err == nil {
				got = d.Name() + ":" + strconv.Itoa(int(d.Port))
			}
			if got != tt.want || err == nil && d.Addr.IsValid() != tt.ip || err == nil && (d.Host == "") != tt.ip {
				t.Errorf("got %q (%v, address %v), want %q (an address: %v)", got, err, d.Addr, tt.want, tt.ip)
			}
		})
	}
}
