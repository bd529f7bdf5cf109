package egress

import (
	"fmt"
	"strings"
)

// SplitAuthority parses the authority of a CONNECT request, host:port, into
// a canonical Host and a port. Beyond CanonicalHost's rules it refuses
// userinfo (user@host), a missing, empty or zero port, a port above 65535
// or written with a sign or a leading zero (no client writes them, and a
// second spelling of a port is a second thing for rules to compare), an
// IPv6 literal without brackets, and any space, control byte, percent sign,
// backslash or URL delimiter anywhere.
func SplitAuthority(authority string) (Host, uint16, error) {
	if authority == "" {
		return Host{}, 0, fmt.Errorf("empty authority: %w", ErrInvalidHost)
	}
	if len(authority) > maxHostInput {
		return Host{}, 0, fmt.Errorf("authority of %d bytes: %w", len(authority), ErrInvalidHost)
	}
	for i := 0; i < len(authority); i++ {
		if c := authority[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`@%\/?#"<>^{|}`+"`", c) >= 0 {
			return Host{}, 0, fmt.Errorf("authority %q: byte %q not allowed: %w", authority, c, ErrInvalidHost)
		}
	}
	colon := strings.LastIndexByte(authority, ':')
	if colon < 0 {
		return Host{}, 0, fmt.Errorf("authority %q: no port: %w", authority, ErrInvalidHost)
	}
	host, portText := authority[:colon], authority[colon+1:]
	if strings.Contains(host, ":") && !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")) {
		return Host{}, 0, fmt.Errorf("authority %q: IPv6 literal without brackets: %w", authority, ErrInvalidHost)
	}
	port, err := parsePort(portText)
	if err != nil {
		return Host{}, 0, fmt.Errorf("authority %q: %w: %w", authority, ErrInvalidHost, err)
	}
	h, err := CanonicalHost(host)
	if err != nil {
		return Host{}, 0, fmt.Errorf("authority %q: %w", authority, err)
	}
	return h, port, nil
}

// parsePort reads a port of one to five decimal digits, 1 to 65535, with
// no leading zero.
func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("empty port")
	}
	if len(s) > 5 || !allDigits(s, 10) {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	if s[0] == '0' {
		return 0, fmt.Errorf("port %q: zero or leading zero", s)
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v*10 + uint32(s[i]-'0')
	}
	if v > 65535 {
		return 0, fmt.Errorf("port %q above 65535", s)
	}
	return uint16(v), nil
}
