package h1guard

import (
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// DefaultMaxHeaderBytes bounds a request head when Options.MaxHeaderBytes is
// not set.
const DefaultMaxHeaderBytes = 64 << 10

// Options configures the guard of a connection.
type Options struct {
	// MaxHeaderBytes bounds a request head (request line, field lines and the
	// empty line) and a trailer section; a larger one is a violation. Set it
	// to the http.Server's MaxHeaderBytes, so that both answer the same
	// request alike. Zero or less means DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// OnViolation, when set, is called once for the first violation on a
	// connection, with the peer's address, on the goroutine that reads the
	// connection: it must not block.
	OnViolation func(kind Kind, remote net.Addr)
}

// Listen wraps inner so that every connection it accepts is guarded as by
// Conn. Give it the plain TCP listener; TLS connections are wrapped one by
// one after their handshake.
func Listen(inner net.Listener, opts Options) net.Listener {
	return &listener{Listener: inner, opts: opts}
}

type listener struct {
	net.Listener
	opts Options
}

// Accept waits for the next connection and returns it guarded.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Conn(c, l.opts), nil
}

// Violation returns the rule that the requests on c broke, or 0 when c is
// not guarded or broke none so far. A violation in a chunked body reaches the
// handler only as a failed body read; with the connection at hand (from
// http.Server.ConnContext) the gateway can tell it from a client that went
// away, answer 400 and log DPE.
func Violation(c net.Conn) Kind {
	switch g := c.(type) {
	case *conn:
		return Kind(g.kind.Load())
	case *tlsConn:
		return Kind(g.kind.Load())
	}
	return 0
}

// connectionStater is what net/http looks for to fill Request.TLS when the
// connection is not a *tls.Conn itself.
type connectionStater interface {
	ConnectionState() tls.ConnectionState
}

// Conn guards the HTTP/1 requests read from c. When c is a TLS connection
// (it has a ConnectionState method), so is the result, and net/http fills
// Request.TLS from it. net/http reads that state before its first Read, so
// wrap a *tls.Conn only after its handshake. net/http serves HTTP/2 over TLS
// only on a *tls.Conn, so a connection that negotiated "h2" must reach the
// server unwrapped; should one be wrapped anyway, the guard looks at the
// ALPN result on the first Read and passes every byte through.
func Conn(c net.Conn, opts Options) net.Conn {
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	g := &conn{Conn: c, opts: opts, scan: newScanner(opts.MaxHeaderBytes)}
	if cs, ok := c.(connectionStater); ok {
		return &tlsConn{conn: g, cs: cs}
	}
	return g
}

// conn is a guarded connection. Reads come from one goroutine at a time
// (net/http's connReader sees to that); pass is atomic because a hijack sets
// it from the handler's goroutine.
type conn struct {
	net.Conn
	opts  Options
	scan  scanner
	pass  atomic.Bool
	alpn  bool   // the ALPN result has been looked at
	dead  bool   // a violation was found: only the synthetic bytes, then EOF
	synth string // synthetic bytes still to hand on
	fill  int    // filler bytes still to hand on after synth
	// kind is the violation, for Violation and Close, which may run on
	// other goroutines.
	kind   atomic.Uint32
	closed atomic.Bool // lingering after a violation
}

// Read reads from the connection and hands on the bytes that passed the
// check. After a violation it hands on the bytes before the offending one,
// then bytes that make net/http reject the request, then io.EOF.
func (c *conn) Read(p []byte) (int, error) {
	if c.dead {
		return c.readSynthetic(p)
	}
	if c.pass.Load() {
		return c.Conn.Read(p)
	}
	n, err := c.Conn.Read(p)
	if !c.alpn && (n > 0 || err == nil) {
		c.alpn = true
		if cs, ok := c.Conn.(connectionStater); ok && cs.ConnectionState().NegotiatedProtocol == "h2" {
			c.pass.Store(true)
			return n, err
		}
	}
	k, kind := c.scan.scan(p[:n])
	if kind == 0 {
		if c.scan.state == stPass {
			c.pass.Store(true)
		}
		return n, err
	}
	c.violate(kind)
	if k == 0 {
		return c.readSynthetic(p)
	}
	return k, nil
}

// SetDeadline sets the read and write deadlines. net/http calls it (with the
// zero time) only when a handler hijacks the connection, so the guard takes
// it as the sign that HTTP/1 has ended here: what follows is a WebSocket or
// a CONNECT tunnel, and belongs to the hijacker.
func (c *conn) SetDeadline(t time.Time) error {
	if t.IsZero() {
		c.pass.Store(true)
	}
	return c.Conn.SetDeadline(t)
}

// Passthrough returns the wrapped connection once the guard has stepped
// aside for good (after a hijack, or for HTTP/2) with no violation found, so
// that a hijacker can copy between raw sockets (splice(2) on Linux); it
// returns nil while the guard still checks the bytes or after a violation.
func (c *conn) Passthrough() net.Conn {
	if !c.pass.Load() || c.kind.Load() != 0 {
		return nil
	}
	return c.Conn
}

// CloseWrite shuts the writing side, when the wrapped connection can.
// net/http does it before closing after some errors, so that the client
// reads the whole answer instead of a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// tlsConn is a guarded TLS connection.
type tlsConn struct {
	*conn
	cs connectionStater
}

// ConnectionState returns the wrapped connection's TLS state.
func (c *tlsConn) ConnectionState() tls.ConnectionState {
	return c.cs.ConnectionState()
}

var (
	_ net.Conn         = (*conn)(nil)
	_ connectionStater = (*tlsConn)(nil)
)
