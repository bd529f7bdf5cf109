package egress

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitAuthority(t *testing.T) {
	tests := []struct {
		in, host string
		port     uint16
	}{
		{"example.com:443", "example.com", 443},
		{"EXAMPLE.com.:443", "example.com", 443},
		{"example.com:1", "example.com", 1},
		{"example.com:65535", "example.com", 65535},
		{"[::1]:443", "::1", 443},
		{"[2001:DB8::1]:8443", "2001:db8::1", 8443},
		{"127.1:80", "127.0.0.1", 80},
		{"bücher.de:443", "xn--bcher-kva.de", 443},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, port, err := SplitAuthority(tt.in)
			if err != nil {
				t.Fatalf("SplitAuthority(%q): %v", tt.in, err)
			}
			if h.String() != tt.host || port != tt.port {
				t.Errorf("SplitAuthority(%q) = %q, %d; want %q, %d", tt.in, h, port, tt.host, tt.port)
			}
			if got := h.Authority(port); !strings.EqualFold(got, tt.in) {
				h2, p2, err := SplitAuthority(got)
				if err != nil || h2 != h || p2 != port {
					t.Errorf("SplitAuthority(%q) = %q, %d, %v; want %q, %d", got, h2, p2, err, h, port)
				}
			}
		})
	}
}

func TestSplitAuthorityRefused(t *testing.T) {
	tests := []struct {
		in, why string
	}{
		{"", "empty authority"},
		{"example.com", "no port"},
		{"example.com:", "empty port"},
		{"example.com:0", "zero"},
		{"example.com:00", "zero"},
		{"example.com:0443", "leading zero"},
		{"example.com:65536", "above 65535"},
		{"example.com:99999", "above 65535"},
		{"example.com:443443", "not a number"},
		{"example.com:+443", "not a number"},
		{"example.com:-1", "not a number"},
		{"example.com:https", "not a number"},
		{"example.com:0x1bb", "not a number"},
		{"example.com:４４３", "not a number"},
		{"example.com:443:443", "without brackets"},
		{":443", "empty host"},
		{"user@example.com:443", "'@'"},
		{"user:pass@example.com:443", "'@'"},
		{"allowed.example@127.0.0.1:443", "'@'"},
		{"example.com :443", "' '"},
		{"example.com: 443", "' '"},
		{"exa mple.com:443", "' '"},
		{"example.com\r\n:443", "'\\r'"},
		{"example.com\x00:443", "'\\x00'"},
		{"ex%61mple.com:443", "'%'"},
		{"example.com:4%343", "'%'"},
		{"[fe80::1%25eth0]:443", "'%'"},
		{"example.com/:443", "'/'"},
		{"example.com?:443", "'?'"},
		{"example.com#:443", "'#'"},
		{"127.0.0.1\\@example.com:443", "'\\\\'"},
		{"::1:443", "without brackets"},
		{"[::1]443", "without brackets"},
		{"[::1]:", "empty port"},
		{"[::1]", "without brackets"},
		{"[127.0.0.1]:443", "not an IPv6 address"},
		{"[[::1]]:443", "not an IPv6 address"},
		{"0177.0.0.1:443", "leading zero"},
		{"foo.127:443", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, port, err := SplitAuthority(tt.in)
			if err == nil {
				t.Fatalf("SplitAuthority(%q) = %q, %d; want an error", tt.in, h, port)
			}
			if !errors.Is(err, ErrInvalidHost) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("SplitAuthority(%q) error %q, want ErrInvalidHost saying %q", tt.in, err, tt.why)
			}
		})
	}
}
