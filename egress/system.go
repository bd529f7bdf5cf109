package egress

import (
	"context"
	"net"
	"net/netip"
)

// CheckAddress says whether the dialer may reach addr: a public unicast
// address, or one in allowed, the ranges a rule names. It is the check the
// system dialer applies until the address guard, with its full table of
// special-purpose ranges, takes its place.
func CheckAddress(addr netip.Addr, allowed []netip.Prefix) (reason string, ok bool) {
	a := addr.Unmap()
	for _, p := range allowed {
		if p.Contains(a) {
			return "in a range the rule names", true
		}
	}
	switch {
	case a.Zone() != "":
		return "has a zone", false
	case a.IsLoopback():
		return "loopback", false
	case a.IsPrivate():
		return "private", false
	case a.IsLinkLocalUnicast():
		return "link-local", false
	case !a.IsGlobalUnicast():
		return "not global unicast", false
	}
	return "public", true
}

// DialSystem resolves host once with the system's resolver, checks every
// address with CheckAddress, and dials the first, the address it checked.
func DialSystem(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error) {
	addrs, err := Resolve(ctx, host)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	for _, a := range addrs {
		if reason, ok := CheckAddress(a, allowed); !ok {
			return nil, netip.AddrPort{}, &Refusal{Addr: a, Reason: reason}
		}
	}
	ap := netip.AddrPortFrom(addrs[0].Unmap(), port)
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, ap, err
	}
	return c, ap, nil
}

// Resolve returns host's addresses: the address itself for an IP literal,
// else what the system's resolver answers.
func Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, err
}
