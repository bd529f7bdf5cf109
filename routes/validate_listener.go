package routes

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/net/http/httpguts"
)

// binds records what the listeners bind, port by port, to find two that
// would collide: on the same port, one binds every address or both bind
// the same one. Each new listener is checked against the first that it
// collides with, so the check stays linear in the number of listeners.
type binds map[int]*portBinds

type portBinds struct {
	all   string                // label of the first listener on every address
	first string                // label of the first listener on any address
	byIP  map[netip.Addr]string // label of the first listener on each IP
}

// add records a listener binding ip (the zero Addr for all addresses) and
// port, and returns the label of an earlier listener it collides with.
func (b binds) add(ip netip.Addr, port int, label string) string {
	if port == 0 {
		return "" // the system picks a free port for each
	}
	p := b[port]
	if p == nil {
		p = &portBinds{byIP: make(map[netip.Addr]string)}
		b[port] = p
	}
	var clash string
	switch {
	case p.all != "":
		clash = p.all
	case !ip.IsValid():
		clash = p.first
	default:
		clash = p.byIP[ip]
	}
	if p.first == "" {
		p.first = label
	}
	if !ip.IsValid() && p.all == "" {
		p.all = label
	}
	if _, seen := p.byIP[ip]; ip.IsValid() && !seen {
		p.byIP[ip] = label
	}
	return clash
}

func (c *checker) checkListeners() {
	root := c.scope("", nil)
	if len(c.f.Listeners) == 0 {
		root.errorf(&c.f.Listeners, "no listeners")
	}
	names := make(map[string]int)
	bound := make(binds)
	if ip, port, err := listenAddress(c.f.Admin.Address); err == nil {
		bound.add(ip, port, "the admin address")
	}
	for i := range c.f.Listeners {
		l := &c.f.Listeners[i]
		s := c.scope(label("listener", l.Name, fmt.Sprintf("listeners[%d]", i)), l)
		c.unique(s, names, &l.Name)
		if l.Address == "" {
			s.errorf(&l.Address, "address is required")
		} else if ip, port, err := listenAddress(l.Address); err != nil {
			s.errorf(&l.Address, "address %v", err)
		} else if clash := bound.add(ip, port, s.label); clash != "" {
			s.errorf(&l.Address, "address %q overlaps %s", l.Address, clash)
		}
		c.checkProtocols(s, l)
		if l.TLS != nil {
			c.checkListenerTLS(s, l.TLS)
		}
		checkQUICLimits(s, l)
		checkLimits(s, &l.Limits)
		s.oneOf("headers_with_underscores", &l.HeadersWithUnderscores, "drop_header", "reject_request", "allow")
		c.checkServerHeader(s, "server_header", &l.ServerHeader, c.f.ServerHeader)
		checkForwardClientCert(s, l)
		c.checkListenerKind(s, l)
	}
}

// checkListenerKind checks what only a forward_proxy listener may set, and
// what it may not.
func (c *checker) checkListenerKind(s scope, l *Listener) {
	s.oneOf("kind", &l.Kind, "http", "forward_proxy")
	if l.Kind != "forward_proxy" {
		if l.CallerHeader != "" {
			s.errorf(&l.CallerHeader, "caller_header: needs kind forward_proxy")
		}
		return
	}
	if slices.Contains(l.Protocols, "http3") {
		s.errorf(&l.Protocols, "protocols: a forward_proxy listener serves http1 and http2, not http3")
	}
	if l.RedirectHTTPS {
		s.errorf(&l.RedirectHTTPS, "redirect_https: cannot be used with kind forward_proxy")
	}
	switch {
	case l.CallerHeader == "":
	case !httpguts.ValidHeaderFieldName(l.CallerHeader):
		s.errorf(&l.CallerHeader, "caller_header: %q is not a header name", l.CallerHeader)
	case len(c.f.TrustedProxies) == 0:
		s.errorf(&l.CallerHeader, "caller_header: needs trusted_proxies, the only peers whose header is believed")
	}
}

// unique checks that an object has a name that no earlier object of its
// kind has; names maps each name seen to the line of its first object.
func (c *checker) unique(s scope, names map[string]int, name *string) {
	if *name == "" {
		s.errorf(name, "name is required")
		return
	}
	if first, dup := names[*name]; dup {
		s.errorf(name, "duplicate name (first at line %d)", first)
		return
	}
	n := c.pos[name]
	if n == nil {
		n = c.pos[s.obj]
	}
	names[*name] = 0
	if n != nil {
		names[*name] = n.Line
	}
}

func (c *checker) checkProtocols(s scope, l *Listener) {
	seen := make(map[string]bool, 3)
	for i, p := range l.Protocols {
		switch {
		case !slices.Contains([]string{"http1", "http2", "http3"}, p):
			s.errorf(&l.Protocols[i], "protocols[%d]: unknown protocol %q (want http1, http2, http3)", i, p)
		case seen[p]:
			s.errorf(&l.Protocols[i], "protocols[%d]: %q is listed twice", i, p)
		case p == "http3" && l.TLS == nil:
			s.errorf(&l.Protocols[i], "protocols[%d]: http3 needs tls", i)
		}
		seen[p] = true
	}
	if l.RedirectHTTPS && l.TLS != nil {
		s.errorf(&l.RedirectHTTPS, "redirect_https cannot be used with tls: the listener is already https")
	}
	switch {
	case len(l.Protocols) > 0:
	case l.TLS != nil:
		l.Protocols = []string{"http1", "http2"}
	default:
		l.Protocols = []string{"http1"}
	}
}

// minWriteTimeout is the shortest write_timeout a listener may set.
const minWriteTimeout = Duration(100 * time.Millisecond)

// checkLimits checks a listener's limits and fills in the defaults for
// those left at zero. Size and Duration cannot be negative once decoded.
func checkLimits(s scope, lim *Limits) {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"max_headers", &lim.MaxHeaders, 100},
		{"max_concurrent_streams", &lim.MaxConcurrentStreams, 250},
		{"max_connections", &lim.MaxConnections, 0},
		{"max_connections_per_client", &lim.MaxConnectionsPerClient, 0},
		{"requests_burst", &lim.RequestsBurst, int(math.Ceil(lim.RequestsPerSecond))},
	} {
		switch {
		case *f.v < 0:
			s.errorf(f.v, "limits.%s: must not be negative, got %d", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if lim.RequestsPerSecond < 0 {
		s.errorf(&lim.RequestsPerSecond, "limits.requests_per_second: must not be negative, got %g", lim.RequestsPerSecond)
	}
	if lim.RequestsBurst > 0 && lim.RequestsPerSecond == 0 {
		s.errorf(&lim.RequestsBurst, "limits.requests_burst: needs requests_per_second")
	}
	fill(&lim.MaxHeaderBytes, 64<<10)
	fill(&lim.ReadHeaderTimeout, Duration(10*time.Second))
	fill(&lim.IdleTimeout, Duration(60*time.Second))
	if lim.WriteTimeout > 0 && lim.WriteTimeout < minWriteTimeout {
		// Shorter, and a client on a slow link could never be served.
		s.errorf(&lim.WriteTimeout, "limits.write_timeout: must be at least %s, got %s", minWriteTimeout, lim.WriteTimeout)
	}
	fill(&lim.WriteTimeout, Duration(30*time.Second))
}

// fill sets *v to def when it was left at zero.
func fill[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// checkQUICLimits checks the limits that only HTTP/3 has and fills in
// their defaults on listeners that serve it.
func checkQUICLimits(s scope, l *Listener) {
	lim := &l.Limits
	switch {
	case lim.MaxQUICHandshakes < 0:
		s.errorf(&lim.MaxQUICHandshakes, "limits.max_quic_handshakes: must not be negative, got %d", lim.MaxQUICHandshakes)
	case !slices.Contains(l.Protocols, "http3"):
		if lim.MaxQUICHandshakes > 0 {
			s.errorf(&lim.MaxQUICHandshakes, "limits.max_quic_handshakes: needs http3 in protocols")
		}
	default:
		fill(&lim.MaxQUICHandshakes, 1024)
	}
}
