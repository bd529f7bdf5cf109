package egress

import (
	"testing"
)

func TestParseAuthority(t *testing.T) {
	for _, tt := range []struct {
		in   string
		def  uint16
		want string // Name():port, or "" for refused
	}{
		{"api.example.com:443", 0, "api.example.com:443"},
		{"API.Example.COM.:443", 0, "api.example.com:443"},
		{"bücher.example:443", 0, "xn--bcher-kva.example:443"},
		{"1.2.3.4:443", 0, "1.2.3.4:443"},
		{"[2001:db8::1]:443", 0, "2001:db8::1:443"},
		{"[::ffff:127.0.0.1]:443", 0, "127.0.0.1:443"},
		{"example.com", 80, "example.com:80"},
		{"[2001:db8::1]", 80, "2001:db8::1:80"},
		// Refused: every other spelling of an address, and oddities.
		{"example.com", 0, ""},
		{"example.com:", 0, ""},
		{":443", 0, ""},
		{"127.1:443", 0, ""},
		{"2130706433:443", 0, ""},
		{"0x7f000001:443", 0, ""},
		{"0x7f.0.0.1:443", 0, ""},
		{"0177.0.0.1:443", 0, ""},
		{"017700000001:443", 0, ""},
		{"127.0.0.1.:443", 0, ""},
		{"127.000.000.001:443", 0, ""},
		{"[fe80::1%25eth0]:443", 0, ""},
		{"[fe80::1%eth0]:443", 0, ""},
		{"[127.0.0.1]:443", 0, ""},
		{"::1:443", 0, ""},
		{"[::1:443", 0, ""},
		{"[::1]x:443", 0, ""},
		{"user@example.com:443", 0, ""},
		{"user:pw@example.com:443", 0, ""},
		{"example.com@evil.com:443", 0, ""},
		{"example.com:443/path", 0, ""},
		{"example.com:0", 0, ""},
		{"example.com:65536", 0, ""},
		{"example.com:0443", 0, ""},
		{"example.com:+443", 0, ""},
		{"example.com: 443", 0, ""},
		{"example.com:443 ", 0, ""},
		{"example.com:44 3", 0, ""},
		{"exa mple.com:443", 0, ""},
		{"example.com\x00.evil:443", 0, ""},
		{"example.com%00:443", 0, ""},
		{"ex%61mple.com:443", 0, ""},
		{"*.example.com:443", 0, ""},
		{"a..example.com:443", 0, ""},
		{"-a.example.com:443", 0, ""},
		{"a_b.example.com:443", 0, ""},
		{"example.com\\@evil.com:443", 0, ""},
		{"example.com#@evil.com:443", 0, ""},
		{"example.com?x:443", 0, ""},
		{"localhost.:443:443", 0, ""},
		{"", 443, ""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseAuthority(tt.in, tt.def)
			got := ""
			if err == nil {
				got = d.Name() + ":" + portText(d.Port)
			}
			if got != tt.want {
				t.Errorf("got %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func portText(p uint16) string {
	b := []byte{}
	for p > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + p%10)}, b...)
		p /= 10
	}
	return string(b)
}

func FuzzParseAuthority(f *testing.F) {
	for _, s := range []string{"api.example.com:443", "[::1]:443", "127.1:80", "0x7f.1:443", "user@h:1", "bücher.de:443"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAuthority(s, 0)
		if err != nil {
			return
		}
		if d.Port == 0 {
			t.Fatalf("%q: port 0 accepted", s)
		}
		if (d.Host == "") == !d.Addr.IsValid() {
			t.Fatalf("%q: got host %q and address %v, want exactly one", s, d.Host, d.Addr)
		}
		if d.Addr.IsValid() && (d.Addr.Zone() != "" || d.Addr.Is4In6()) {
			t.Fatalf("%q: address %v not normalised", s, d.Addr)
		}
		// What was accepted reads back the same.
		again, err := ParseAuthority(d.Name()+":"+portText(d.Port), 0)
		if d.Addr.Is6() {
			again, err = ParseAuthority("["+d.Name()+"]:"+portText(d.Port), 0)
		}
		if err != nil || again != d {
			t.Fatalf("%q -> %+v -> %+v, %v", s, d, again, err)
		}
	})
}
