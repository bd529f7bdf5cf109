package gateway

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/quic-go/quic-go"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
)

// handshakeLimit is the reason a QUIC connection refused for the listener's
// handshakes in flight is counted under, beside connlimit's.
const handshakeLimit = "handshake_limit"

var errHandshakeLimit = errors.New("too many QUIC handshakes in flight")

// quicGuard applies a listener's connection limits to its HTTP/3
// connections and bounds their handshakes in flight. A QUIC connection
// takes its place when its first Initial packet arrives, which is as early
// as quic-go lets a server refuse one (with CONNECTION_REFUSED), and gives
// it back when the connection ends or its handshake fails. The places are
// the TCP side's (conns), so max_connections bounds what the listener
// holds open over both transports, and max_connections_per_client what
// one client address holds over both.
//
// Clients' UDP addresses are not proven until a handshake completes or a
// Retry comes back. Past half of any limit, new connections must first
// prove their address with a Retry, which costs a client one round trip
// and a spoofing attacker everything: clients with spoofed addresses can
// hold at most half of each limit, whatever they send.
type quicGuard struct {
	listener      string
	conns         *connlimit.Listener // nil without connection limits
	maxHandshakes int64
	handshakes    atomic.Int64
	metrics       *metrics.Metrics
	// handshakeFailed hears why a handshake failed.
	handshakeFailed func(err error, remote net.Addr)
}

// quicSlot is one QUIC connection's place: first a handshake in flight,
// then, once the server accepted it, an open connection.
type quicSlot struct {
	g       *quicGuard
	release func() // the connection limits' place, or nil
	state   atomic.Int32
}

const (
	slotHandshaking = iota
	slotOpen
	slotClosed
)

type quicSlotKey struct{}

// verifySourceAddress is quic.Transport's hook: true asks the client for a
// Retry before its connection counts.
func (q *quicGuard) verifySourceAddress(remote net.Addr) bool {
	return 2*q.handshakes.Load() >= q.maxHandshakes || (q.conns != nil && q.conns.Crowded(remote))
}

// connContext is quic.Transport's hook for a new connection: it takes the
// connection's place, or refuses it.
func (q *quicGuard) connContext(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
	if q.handshakes.Add(1) > q.maxHandshakes {
		q.handshakes.Add(-1)
		q.metrics.ConnectionRejected(q.listener, handshakeLimit)
		return nil, errHandshakeLimit
	}
	s := &quicSlot{g: q}
	if q.conns != nil {
		release, reason := q.conns.Admit(info.RemoteAddr)
		if reason != "" {
			q.handshakes.Add(-1)
			return nil, errors.New(reason)
		}
		s.release = release
	}
	// quic-go ends this context when the connection closes or its
	// handshake fails, with the reason as its cause.
	context.AfterFunc(ctx, func() {
		if s.close() == slotHandshaking && q.handshakeFailed != nil {
			q.handshakeFailed(context.Cause(ctx), info.RemoteAddr)
		}
	})
	return context.WithValue(ctx, quicSlotKey{}, s), nil
}

// open moves a connection whose handshake completed from the handshakes
// to the open connections.
func (s *quicSlot) open() {
	if s.state.CompareAndSwap(slotHandshaking, slotOpen) {
		s.g.handshakes.Add(-1)
		s.g.metrics.Connections(s.g.listener, 1)
	}
}

// close gives the connection's place back and returns the state it was in.
func (s *quicSlot) close() int32 {
	was := s.state.Swap(slotClosed)
	switch was {
	case slotHandshaking:
		s.g.handshakes.Add(-1)
	case slotOpen:
		s.g.metrics.Connections(s.g.listener, -1)
	}
	if s.release != nil {
		s.release()
	}
	return was
}

// quicListener hands the HTTP/3 server connections whose handshake is
// complete, and marks them open.
type quicListener struct {
	*quic.Listener
}

func (l quicListener) Accept(ctx context.Context) (*quic.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err == nil {
		if s, ok := c.Context().Value(quicSlotKey{}).(*quicSlot); ok {
			s.open()
		}
	}
	return c, err
}
