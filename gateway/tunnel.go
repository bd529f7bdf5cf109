package gateway

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Hijack hands the client's connection to the reverse proxy for an
// accepted upgrade (a WebSocket tunnel), wrapped so that the tunnel ends
// when no byte has crossed it either way for the listener's idle_timeout,
// as Envoy's idle timeouts end an upgraded stream. Without it a tunnel
// that nobody uses, or a client that stops reading while the upstream
// sends, would hold the upstream's connection and its max_requests place
// for good; closing the client's side ends both copies, and the proxy then
// closes the upstream's.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil || w.tunnelIdle <= 0 {
		return c, brw, err
	}
	return newIdleConn(c, w.tunnelIdle), brw, nil
}

// idleConn closes its connection once neither a read nor a write has moved
// a byte for idle. A read or write that blocks makes no progress, so a
// peer that neither sends nor reads is cut off too.
type idleConn struct {
	net.Conn
	idle time.Duration
	// last is when a byte last moved, in nanoseconds since the Unix epoch.
	last atomic.Int64
	once sync.Once
	// mu guards timer, which the timer's own callback reads.
	mu     sync.Mutex
	timer  *time.Timer
	closed bool
}

func newIdleConn(c net.Conn, idle time.Duration) *idleConn {
	ic := &idleConn{Conn: c, idle: idle}
	ic.last.Store(time.Now().UnixNano())
	ic.mu.Lock()
	ic.timer = time.AfterFunc(idle, ic.check)
	ic.mu.Unlock()
	return ic
}

// check closes the connection when it has been idle long enough, or looks
// again when it might be.
func (c *idleConn) check() {
	since := time.Since(time.Unix(0, c.last.Load()))
	if since >= c.idle {
		c.Close()
		return
	}
	c.mu.Lock()
	if !c.closed { // a Close since the timer fired stopped nothing
		c.timer.Reset(c.idle - since)
	}
	c.mu.Unlock()
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// Close stops the idle timer and closes the connection once.
func (c *idleConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.timer.Stop()
		c.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}
