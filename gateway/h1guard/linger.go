package h1guard

import (
	"io"
	"time"
)

// How long and how much a connection closed after a violation is read on
// before it is closed: Go's own delay before closing after an error, and
// its budget for discarding an unread request body.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

// Close closes the connection. After a violation it first shuts the writing
// side and discards what the client still sends, for a short while, in the
// background: net/http closes straight after writing a 400, and a socket
// closed with unread bytes resets the connection, which can make the
// client's kernel drop the answer before the client reads it.
func (c *conn) Close() error {
	if c.kind.Load() == 0 {
		return c.Conn.Close()
	}
	if c.closed.Swap(true) {
		return nil // lingering already
	}
	c.CloseWrite()
	go func() {
		c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, c.Conn, lingerBytes)
		c.Conn.Close()
	}()
	return nil
}
