// Package connlimit bounds the connections a listener holds open, in all and
// per client address. A connection over a limit is closed as soon as it is
// accepted, before a TLS handshake or a read spends anything on it, so a
// client that opens connections without end costs the gateway one accept
// and one close each.
package connlimit

import (
	"net"
	"net/netip"
	"sync"
)

// The reasons passed to Options.OnReject.
const (
	// ListenerLimit means the listener held MaxConns connections.
	ListenerLimit = "listener_limit"
	// ClientLimit means the client's address held MaxConnsPerIP connections.
	ClientLimit = "client_limit"
)

// Options are a Listener's limits.
type Options struct {
	// MaxConns bounds the connections open at once on the listener; 0 means
	// no limit.
	MaxConns int
	// MaxConnsPerIP bounds the connections open at once from one client
	// address, the TCP peer's; 0 means no limit. Connections whose peer has
	// no IP address (a Unix socket) are bound by MaxConns alone.
	MaxConnsPerIP int
	// OnReject, if set, is called for each connection refused, with
	// ListenerLimit or ClientLimit and the peer's address. It runs in the
	// accept loop, so it must be quick: a counter, not a log line per call.
	OnReject func(reason string, remote net.Addr)
}

// Listener is a net.Listener that enforces Options. The connections it
// returns release their place on Close; each has a NetConn method that
// returns the connection it wraps.
type Listener struct {
	net.Listener
	opts Options

	mu        sync.Mutex
	open      int
	perClient map[netip.Addr]int // entries deleted at zero, so at most open of them
}

// Listen wraps inner with opts' limits.
func Listen(inner net.Listener, opts Options) *Listener {
	return &Listener{Listener: inner, opts: opts, perClient: make(map[netip.Addr]int)}
}

// Accept returns the next connection within the limits. Connections over a
// limit are closed and reported to OnReject, and Accept waits for the next;
// it returns only the inner listener's errors.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientAddr(c.RemoteAddr())
		reason := l.acquire(ip)
		if reason == "" {
			return &conn{Conn: c, l: l, ip: ip}, nil
		}
		refuse(c)
		if l.opts.OnReject != nil {
			l.opts.OnReject(reason, c.RemoteAddr())
		}
	}
}

// Conns returns the number of connections open, for metrics.
func (l *Listener) Conns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// acquire takes a place for a connection from ip, or returns why there is
// none.
func (l *Listener) acquire(ip netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opts.MaxConns > 0 && l.open >= l.opts.MaxConns {
		return ListenerLimit
	}
	if ip.IsValid() {
		if l.opts.MaxConnsPerIP > 0 && l.perClient[ip] >= l.opts.MaxConnsPerIP {
			return ClientLimit
		}
		l.perClient[ip]++
	}
	l.open++
	return ""
}

// release gives back the place of a connection from ip.
func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if !ip.IsValid() {
		return
	}
	if n := l.perClient[ip] - 1; n > 0 {
		l.perClient[ip] = n
	} else {
		delete(l.perClient, ip)
	}
}

// clientAddr returns a peer's IP address, IPv4-mapped addresses as IPv4, or
// the zero Addr when the peer has none.
func clientAddr(a net.Addr) netip.Addr {
	switch ta := a.(type) {
	case *net.TCPAddr:
		return ta.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return ta.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
