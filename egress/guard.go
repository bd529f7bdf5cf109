package egress

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// Guard decides whether the gateway may open a connection to an address.
// It refuses internal addresses unless an allowed CIDR lies inside their
// range, and it refuses the gateway's own listeners always. A nil Guard
// knows no listeners of the gateway but refuses internal addresses alike.
type Guard struct {
	own []netip.AddrPort
	// localAddrs lists the host's addresses, read at each check that needs
	// them so that an address added after start is covered at once.
	localAddrs func() ([]netip.Addr, error)
}

// NewGuard returns a guard that never lets a connection reach one of own:
// the addresses the gateway's listeners and admin server are bound to, as
// their listeners report them. An unspecified address (0.0.0.0 or ::)
// stands for every address of the host on that port, in both families,
// because a wildcard listener of either family may accept both.
func NewGuard(own []netip.AddrPort) *Guard {
	g := &Guard{localAddrs: interfaceAddrs}
	for _, ap := range own {
		g.own = append(g.own, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
	}
	return g
}

// Check says whether the gateway may dial addr:port, and why. allowed are
// the CIDRs that the rule which allowed the destination names: an internal
// address passes only if one of them contains it and lies wholly inside
// the address's special range, so that a rule for 0.0.0.0/0 or 10.0.0.0/7
// is about public space and never opens loopback or RFC 1918 by accident.
func (g *Guard) Check(addr netip.Addr, port uint16, allowed []netip.Prefix) (reason string, ok bool) {
	if port == 0 {
		return "port 0", false
	}
	class, within := classify(addr)
	if class == ClassZone || class == ClassInvalid {
		return class + " address", false
	}
	if own, hit := g.ownListener(addr, port); hit {
		return "the gateway's own listener " + own.String(), false
	}
	if class == ClassPublic {
		return ClassPublic, true
	}
	for _, p := range allowed {
		if p.Contains(addr) && within.Bits() <= p.Bits() && within.Contains(p.Addr()) {
			return fmt.Sprintf("%s allowed by %s", class, p.Masked()), true
		}
	}
	reason = fmt.Sprintf("%s address in %s", class, within)
	if v4, ok := EmbeddedIPv4(addr); ok {
		reason += " embedding " + v4.String()
	}
	return reason, false
}

// ownListener reports whether addr:port reaches one of the gateway's own
// listeners. Dialling the unspecified address reaches the local host, so it
// counts as every listener's address.
func (g *Guard) ownListener(addr netip.Addr, port uint16) (netip.AddrPort, bool) {
	if g == nil {
		return netip.AddrPort{}, false
	}
	a := addr.Unmap()
	var locals []netip.Addr
	fetched := false
	for _, own := range g.own {
		if own.Port() != port {
			continue
		}
		if a == own.Addr() || a.IsUnspecified() {
			return own, true
		}
		if !own.Addr().IsUnspecified() {
			continue
		}
		if a.IsLoopback() {
			return own, true
		}
		if !fetched {
			// An error leaves the list empty; loopback and the exact
			// address are still refused above.
			locals, _ = g.localAddrs()
			fetched = true
		}
		if slices.Contains(locals, a) {
			return own, true
		}
	}
	return netip.AddrPort{}, false
}

// interfaceAddrs lists the addresses of the host's interfaces.
func interfaceAddrs() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("interface addresses: %w", err)
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}
