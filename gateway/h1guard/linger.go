package h1guard

import (
	"io"
	"net"
	"time"
)

// How long and how much a connection closed after a violation is read on
// before it is closed: Go's own delay before closing after an error, and
// its budget for discarding an unread request body.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

// Close closes the connection. After a violation it first lingers (see
// Linger): net/http closes straight after writing a 400.
func (c *conn) Close() error {
	if c.kind.Load() == 0 {
		return c.Conn.Close()
	}
	if c.closed.Swap(true) {
		return nil // lingering already
	}
	Linger(c.Conn)
	return nil
}

// Linger closes c gently: it shuts the writing side at once, then discards
// what the client still sends, for a short while, in the background, and
// closes. A socket closed with unread bytes resets the connection, which can
// make the client's kernel drop what was written before the client reads it.
func Linger(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	go func() {
		c.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, c, lingerBytes)
		c.Close()
	}()
}
