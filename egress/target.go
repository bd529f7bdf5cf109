package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/portcullis-gw/portcullis/routes"
)

// ParseAuthority reads a destination from host:port as a CONNECT names it,
// or from an absolute URL's authority with defaultPort when it has no port
// (0 requires one). The host is a name, put in canonical form, or an IP
// literal (IPv6 in brackets); every other spelling of an address (127.1,
// 2130706433, 0x7f.0.0.1, octal, zone ids) and anything with userinfo,
// a path or spaces is refused, so that what the rules see is what is
// dialled.
func ParseAuthority(s string, defaultPort uint16) (Destination, error) {
	var d Destination
	if s == "" || len(s) > 1024 {
		return d, errors.New("empty or overlong authority")
	}
	host, portText := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return d, fmt.Errorf("%q: unclosed [", s)
		}
		host, portText = s[1:end], s[end+1:]
		if portText != "" && !strings.HasPrefix(portText, ":") {
			return d, fmt.Errorf("%q: bytes after ]", s)
		}
		portText = strings.TrimPrefix(portText, ":")
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return d, fmt.Errorf("%q: not an IPv6 address without zone", s)
		}
		d.Addr = addr.Unmap()
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, portText = s[:i], s[i+1:]
			if strings.Contains(host, ":") {
				return d, fmt.Errorf("%q: an IPv6 address goes in brackets", s)
			}
		}
		if addr, err := netip.ParseAddr(host); err == nil {
			d.Addr = addr.Unmap()
		} else if d.Host, err = routes.CanonicalName(host); err != nil {
			return Destination{}, err
		}
	}
	switch {
	case portText == "" && strings.HasSuffix(s, ":"):
		return Destination{}, fmt.Errorf("%q: empty port", s)
	case portText == "" && defaultPort == 0:
		return Destination{}, fmt.Errorf("%q: a port is required", s)
	case portText == "":
		d.Port = defaultPort
	default:
		p, err := portNumber(portText)
		if err != nil {
			return Destination{}, fmt.Errorf("%q: %w", s, err)
		}
		d.Port = p
	}
	return d, nil
}

// portNumber reads a port as plain decimal 1-65535, without sign, spaces or
// leading zeros.
func portNumber(s string) (uint16, error) {
	if s == "" || len(s) > 5 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}
