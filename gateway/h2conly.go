package gateway

import (
	"net"
	"sync/atomic"

	"github.com/portcullis-gw/portcullis/gateway/h1guard"
)

// h2cOnlyListener accepts the connections of a listener that serves h2c
// alone (protocols [http2], no TLS). Such a connection must open with the
// HTTP/2 preface (RFC 9113, section 3.4); net/http closes one that does not
// as soon as it has read that much, with the client's other bytes unread,
// and a socket closed so resets the connection. A connection never handed
// to HTTP/2 lingers instead when closed, so the client sees an orderly
// close. No HTTP/1 is served, so h1guard's checks have nothing to guard.
type h2cOnlyListener struct{ net.Listener }

// Accept waits for the next connection.
func (l h2cOnlyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &h2cOnlyConn{Conn: c}, nil
}

// h2cOnlyConn is a connection of an h2cOnlyListener.
type h2cOnlyConn struct {
	net.Conn
	h2     atomic.Bool // handed to the HTTP/2 server
	closed atomic.Bool
}

// Close closes the connection, lingering unless it served HTTP/2.
func (c *h2cOnlyConn) Close() error {
	if c.h2.Load() {
		return c.Conn.Close()
	}
	if c.closed.Swap(true) {
		return nil
	}
	h1guard.Linger(c.Conn)
	return nil
}
