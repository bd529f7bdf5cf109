package connlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
)

// conn is an accepted connection that gives its place back on Close.
type conn struct {
	net.Conn
	l      *Listener
	ip     netip.Addr
	closed atomic.Bool
}

// Close closes the connection and releases its place, once however often
// it is called.
func (c *conn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.ip)
	}
	return err
}

// NetConn returns the connection that c wraps, as tls.Conn.NetConn does,
// for code that needs the *net.TCPConn.
func (c *conn) NetConn() net.Conn { return c.Conn }

// ReadFrom lets io.Copy into the connection use the inner connection's
// ReadFrom, which on Linux splices from a TCP socket or sends a file
// without copying through user space.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// WriteTo lets io.Copy out of the connection use the inner connection's
// WriteTo, for the same reason.
func (c *conn) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := c.Conn.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{c.Conn})
}

// CloseWrite shuts down the writing side, as *net.TCPConn does, so that a
// tunnel can pass on a half-close.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// refuse closes a connection over a limit. A TCP connection is reset rather
// than closed in order: under a flood of connections, an orderly close
// would leave each one in TIME_WAIT on the gateway's side.
func refuse(c net.Conn) {
	if tc, ok := c.(interface{ SetLinger(int) error }); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
