package connlimit

import (
	"net"
	"sync/atomic"
)

// Admit takes a place for a connection that reaches the listener's owner
// by another way than Accept, as an HTTP/3 connection does on the UDP
// socket that shares the listener's port. Such connections share the
// listener's limits and counts with the ones Accept returns: the limits
// bound what a listener holds open, whatever the transport. It returns
// the function that gives the place back (once, however often it is
// called), or, when there is no place, the reason, after reporting it to
// OnReject.
func (l *Listener) Admit(remote net.Addr) (release func(), reason string) {
	ip := clientAddr(remote)
	if reason = l.acquire(ip); reason != "" {
		if l.opts.OnReject != nil {
			l.opts.OnReject(reason, remote)
		}
		return nil, reason
	}
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			l.release(ip)
		}
	}, ""
}

// Crowded reports whether the listener holds at least half of MaxConns
// connections, or remote's address at least half of MaxConnsPerIP. A
// transport that can make a client prove its address before it counts
// (QUIC's Retry) asks for that proof past this point, so that clients
// with spoofed addresses can take at most half of either limit.
func (l *Listener) Crowded(remote net.Addr) bool {
	ip := clientAddr(remote)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opts.MaxConns > 0 && 2*l.open >= l.opts.MaxConns {
		return true
	}
	return ip.IsValid() && l.opts.MaxConnsPerIP > 0 && 2*l.perClient[ip] >= l.opts.MaxConnsPerIP
}
