package gateway

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the client's address: the direct peer, unless the peer
// is a trusted proxy, in which case X-Forwarded-For is walked from the right,
// past every trusted address, to the first one that is not trusted (nginx's
// real_ip_recursive). An entry that does not parse ends the walk at the last
// good address, so a client cannot hide behind garbage.
func clientAddr(peer netip.Addr, xff []string, trusted []netip.Prefix) netip.Addr {
	if len(trusted) == 0 || len(xff) == 0 || !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var part string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				part, line = line[j+1:], line[:j]
			} else {
				part, line = line, ""
			}
			a, ok := parseForwardedAddr(strings.TrimSpace(part))
			if !ok {
				return client
			}
			client = a
			if !isTrusted(a, trusted) {
				return a
			}
		}
	}
	return client
}

// parseForwardedAddr parses one X-Forwarded-For entry: an IP, or an IP with
// a port as some proxies write it.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// setForwarded sets X-Forwarded-For, -Proto and -Host (and Forwarded from
// a trusted peer) on the outgoing request. X-Forwarded-For is the chain
// setForwardedFor made; of the others, a trusted peer's values are kept,
// and anyone else's were removed (dropUntrusted) and are replaced with what
// the gateway saw.
func setForwarded(out http.Header, in *http.Request, ex *exchange) {
	trusted := ex.peerTrusted
	out["X-Forwarded-For"] = in.Header["X-Forwarded-For"] // set by setForwardedFor
	proto := forwardedHTTP
	if in.TLS != nil {
		proto = forwardedHTTPS
	}
	if v := in.Header["X-Forwarded-Proto"]; trusted && len(v) == 1 && (v[0] == "http" || v[0] == "https") {
		proto = v
	}
	out["X-Forwarded-Proto"] = proto
	host := in.Host
	if v := in.Header["X-Forwarded-Host"]; trusted && len(v) == 1 && v[0] != "" {
		host = v[0]
	}
	out["X-Forwarded-Host"] = []string{host}
	if v := in.Header["Forwarded"]; trusted && v != nil {
		// A trusted proxy's Forwarded goes on as it came; the gateway's
		// own hop is in X-Forwarded-For. Anyone else's was dropped.
		out["Forwarded"] = v
	}
}

// setForwardedFor sets the X-Forwarded-For the request goes on with, as
// Envoy does with use_remote_address: the chain the client sent, whoever it
// is, with the peer appended. Only a trusted peer's chain is believed
// (clientAddr); anyone else's is passed on as the upstream's to judge, and
// the client address that the logs and policies use stays the peer. A peer
// that is not a trusted proxy is named, too, in x-envoy-external-address,
// as Envoy names the address of an external request; a trusted proxy's is
// passed on as it came (dropUntrusted removed any other).
func setForwardedFor(r *http.Request, prior []string, peerTrusted bool) {
	host := peerHost(r.RemoteAddr)
	if peerTrusted {
		r.Header["X-Forwarded-For"] = forwardedFor(prior, host, 1)
		return
	}
	// One allocation holds both values.
	vals := forwardedFor(prior, host, 2)
	vals[1] = host
	r.Header["X-Forwarded-For"] = vals[0:1:1]
	r.Header["X-Envoy-External-Address"] = vals[1:2:2]
}

// forwardedFor returns a slice of n values whose first is prior's chain,
// its non-empty lines joined, with host appended.
func forwardedFor(prior []string, host string, n int) []string {
	vals := make([]string, n)
	chain := ""
	for _, line := range prior {
		switch line = strings.TrimSpace(line); {
		case line == "":
		case chain == "":
			chain = line
		default:
			chain += ", " + line
		}
	}
	if chain == "" {
		vals[0] = host
	} else {
		vals[0] = chain + ", " + host
	}
	return vals
}

// The X-Forwarded-Proto values, shared by every request. Their capacity is
// their length, so a later append copies rather than writes into them.
var (
	forwardedHTTP  = []string{"http"}[:1:1]
	forwardedHTTPS = []string{"https"}[:1:1]
)

// peerHost returns the address part of an ip:port remote address, without
// allocating: it is a substring of it.
func peerHost(remote string) string {
	i := strings.LastIndexByte(remote, ':')
	if i < 0 {
		return remote
	}
	host := remote[:i]
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host
}

// hopAddr is the client's address behind n trusted proxies (Istio's
// numTrustedProxies, Envoy's xff_num_trusted_hops with use_remote_address):
// the nth address from the right of X-Forwarded-For, or the peer when the
// header holds fewer, or the one it names does not parse.
func hopAddr(peer netip.Addr, xff []string, n int) netip.Addr {
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for v != "" {
			j := strings.LastIndexByte(v, ',')
			item := strings.TrimSpace(v[j+1:])
			v = v[:max(j, 0)]
			if n--; n == 0 {
				a, err := netip.ParseAddr(item)
				if err != nil {
					return peer
				}
				return a.Unmap()
			}
			if j < 0 {
				break
			}
		}
	}
	return peer
}
