package egress

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalHost(t *testing.T) {
	tests := []struct {
		in, want string
		ip       bool
	}{
		{"example.com", "example.com", false},
		{"ExAmPlE.CoM", "example.com", false},
		{"example.com.", "example.com", false},
		{"bücher.de", "xn--bcher-kva.de", false},
		{"XN--BCHER-KVA.DE", "xn--bcher-kva.de", false},
		{"xn--bcher-kva.de.", "xn--bcher-kva.de", false},
		{"ｅｘａｍｐｌｅ.com", "example.com", false},       // full width folds to ASCII
		{"ex\u00adample.com", "example.com", false}, // soft hyphen is ignored by IDNA
		{"аpple.com", "xn--pple-43d.com", false},    // Cyrillic а: a different name
		{"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com", false},
		{"127.0.0.1.nip.io", "127.0.0.1.nip.io", false}, // a name; its answers meet the guard
		{"deadbeef", "deadbeef", false},                 // hex without 0x is no number
		{"1e1", "1e1", false},
		{"0x7f.example", "0x7f.example", false},
		{"a.b-c.d", "a.b-c.d", false},
		{"ß.de", "xn--zca.de", false}, // non-transitional: not ss.de
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1.", "127.0.0.1", true},
		{"127.1", "127.0.0.1", true},
		{"127.0.1", "127.0.0.1", true},
		{"127.0.256", "127.0.1.0", true}, // the last part fills two bytes, as inet_aton reads it
		{"2130706433", "127.0.0.1", true},
		{"0x7f.1", "127.0.0.1", true},
		{"0x7F.0x0.0x0.0x1", "127.0.0.1", true},
		{"0x7f000001", "127.0.0.1", true},
		{"0x00007f.1", "127.0.0.1", true},
		{"0x" + strings.Repeat("0", 70) + "7f.1", "127.0.0.1", true}, // longer than a DNS label, still a number
		{"0", "0.0.0.0", true},
		{"0.0.0.0", "0.0.0.0", true},
		{"169.254.43518", "169.254.169.254", true},
		{"2852039166", "169.254.169.254", true},
		{"１２７.０.０.１", "127.0.0.1", true},
		{"127。0。0。1", "127.0.0.1", true},
		{"127.0.0.1。", "127.0.0.1", true},
		{"①②⑦.0.0.1", "127.0.0.1", true},
		{"8.8.8.8", "8.8.8.8", true},
		{"[::1]", "::1", true},
		{"::1", "::1", true},
		{"[0:0:0:0:0:0:0:1]", "::1", true},
		{"[0000::0001]", "::1", true},
		{"[::FFFF:127.0.0.1]", "::ffff:127.0.0.1", true},
		{"[::ffff:7f00:1]", "::ffff:127.0.0.1", true},
		{"[::127.0.0.1]", "::7f00:1", true},
		{"[64:ff9b::127.0.0.1]", "64:ff9b::7f00:1", true},
		{"[2001:DB8::1]", "2001:db8::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := CanonicalHost(tt.in)
			if err != nil {
				t.Fatalf("CanonicalHost(%q): %v", tt.in, err)
			}
			if h.String() != tt.want || h.IsIP() != tt.ip {
				t.Errorf("CanonicalHost(%q) = %q ip=%v, want %q ip=%v", tt.in, h, h.IsIP(), tt.want, tt.ip)
			}
			again, err := CanonicalHost(h.String())
			if err != nil || again != h {
				t.Errorf("CanonicalHost(%q) = %q, %v; want itself", h, again, err)
			}
		})
	}
}

// TestCanonicalHostRefused lists spellings that must never become a name to
// resolve nor an address other readers would take differently.
func TestCanonicalHostRefused(t *testing.T) {
	tests := []struct {
		in, why string
	}{
		{"", "empty host"},
		{".", "invalid label"},
		{"..", "invalid label"},
		{"example.com..", "empty label"},
		{".example.com", "invalid label"},
		{"a..b", "invalid label"},
		{"0177.0.0.1", "leading zero"},
		{"0177.1", "leading zero"},
		{"017700000001", "leading zero"},
		{"127.0.0.01", "leading zero"},
		{"00.0.0.0", "leading zero"},
		{"010.0.0.1", "leading zero"},
		{"0x", "hex without digits"},
		{"1.2.3.0x", "hex without digits"},
		{"0x7g.1", "not a number"},
		{"4294967296", "above 2^32-1"},
		{"0x100000000", "above 2^32-1"},
		{"256.0.0.1", "above 255"},
		{"127.0.65536", "too large"},
		{"127.0x1000000", "too large"},
		{"127.16777216", "too large"},
		{"1.2.3.4.5", "at most four parts"},
		{"foo.127", "not a number"},
		{"localhost.0x7f", "not a number"},
		{"127.0.0.1..", "empty label"},
		{"1..2", "IPv4 part"},
		{"+127.0.0.1", "not a number"},
		{"-1.0.0.1", "not a number"},
		{"127.0.0.1 ", "disallowed rune"},
		{" 127.0.0.1", "not a number"},
		{"127.0.0.1\x00", "disallowed rune"},
		{"127.0.0.1\t", "disallowed rune"},
		{"١٢٧.٠.٠.١", "invalid label"}, // Arabic-Indic digits stay non-ASCII
		{"[fe80::1%eth0]", "zone"},
		{"fe80::1%eth0", "zone"},
		{"[fe80::1%25eth0]", "zone"},
		{"[::1%lo]", "zone"},
		{"[127.0.0.1]", "not an IPv6 address"},
		{"[::1", "unclosed bracket"},
		{"[::1]x", "unclosed bracket"},
		{"[[::1]]", "not an IPv6 address"},
		{"[v1.fe]", "not an IPv6 address"},
		{"[::1.]", "not an IPv6 address"},
		{"[::ffff:127.0.0.01]", "not an IPv6 address"},
		{"[00001::]", "not an IPv6 address"},
		{"[]", "not an IPv6 address"},
		{"::1.", "not an IPv6 address"},
		{"a[b", "invalid host"},
		{"exa%6dple.com", "invalid host"},
		{"user@example.com", "disallowed rune"},
		{"a/b", "disallowed rune"},
		{"a\\b", "disallowed rune"},
		{"a_b.example", "disallowed rune"},
		{"-a.example", "hyphen"},
		{"a-.example", "hyphen"},
		{"xn--zz.example", "invalid label"},
		{"xn--a.example", "invalid label"},
		{"xn--apple.com", "invalid label"},
		{"xn--example-.com", "invalid label"},
		{"xn--ss-.com", "invalid label"},
		{"ex\u200dample.com", "invalid label"}, // zero-width joiner out of context
		{"ex\u202eample.com", "disallowed rune"},
		{strings.Repeat("a", 64) + ".com", "invalid label"},
		{strings.Repeat("a.", 127) + "com", "invalid label"},
		{strings.Repeat("1", 2000), "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := CanonicalHost(tt.in)
			if err == nil {
				t.Fatalf("CanonicalHost(%q) = %q, want an error", tt.in, h)
			}
			if !errors.Is(err, ErrInvalidHost) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("CanonicalHost(%q) error %q, want ErrInvalidHost saying %q", tt.in, err, tt.why)
			}
		})
	}
}
