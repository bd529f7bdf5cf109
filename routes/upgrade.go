package routes

import (
	"slices"
	"strings"
)

// defaultUpgrades are what a proxying route allows when the file says
// nothing: WebSocket, as Envoy and Istio gateways do.
var defaultUpgrades = []string{"websocket"}

// checkUpgrades checks a route's upgrades and fills in the default. Names
// are matched without regard to case, so they are kept in lower case. h2c
// is refused: a backend that switched to HTTP/2 would carry requests the
// gateway never sees, routes, checks or logs.
func checkUpgrades(s scope, r *Route) {
	if r.Upgrades == nil {
		if r.Upstream != "" {
			r.Upgrades = defaultUpgrades
		}
		return
	}
	if r.Upstream == "" {
		s.errorf(&r.Upgrades, "upgrades: needs an upstream")
		return
	}
	lower := make([]string, 0, len(r.Upgrades))
	for i, u := range r.Upgrades {
		l := strings.ToLower(u)
		switch {
		case !validProtocol(u):
			s.errorf(&r.Upgrades[i], "upgrades[%d]: %q is not a protocol name", i, u)
		case l == "h2c":
			s.errorf(&r.Upgrades[i], "upgrades[%d]: h2c is never forwarded (the gateway could not see the requests it carries)", i)
		case slices.Contains(lower, l):
			s.errorf(&r.Upgrades[i], "upgrades[%d]: %q is listed twice", i, u)
		default:
			lower = append(lower, l)
		}
	}
	r.Upgrades = lower
}

// validProtocol reports whether s is an upgrade protocol as RFC 9110 writes
// one: a token, optionally followed by "/" and a version token.
func validProtocol(s string) bool {
	name, version, ok := strings.Cut(s, "/")
	return validToken(name) && (!ok || validToken(version))
}

// AllowsUpgrade reports whether the route lets a client switch to protocol,
// compared without regard to case. h2c is never allowed.
func (r *Rule) AllowsUpgrade(protocol string) bool {
	for _, u := range r.Upgrades {
		if strings.EqualFold(u, protocol) {
			return true
		}
	}
	return false
}
