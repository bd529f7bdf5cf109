package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/h1guard"
)

// tlsListener does the TLS handshakes itself, so that HTTP/1.1 over TLS can
// pass the framing guard as plain HTTP/1 does. A connection that negotiated
// h2 goes to the server as the *tls.Conn it is (net/http serves HTTP/2 only
// on one); any other is wrapped in the guard, which keeps the TLS state
// visible to net/http (Request.TLS is filled from it). Handshakes run on
// their own goroutines, bounded by a timeout, so a slow client holds up no
// other.
//
// When the socket view it accepts from closes (a reload retired this
// generation), handshakes already under way still finish and reach the
// server; only Close, which the server calls as it shuts down, ends them.
type tlsListener struct {
	inner   net.Listener
	config  *tls.Config
	guard   h1guard.Options
	timeout time.Duration
	onError func(error, net.Addr)

	conns  chan net.Conn
	ctx    context.Context
	cancel context.CancelFunc
}

// newTLSListener accepts from inner and hands on connections whose
// handshake with config succeeded. config is the listener's own, kept for
// its life: it answers with the certificates in force through
// GetConfigForClient and holds the session ticket keys, so resumption
// survives a reload.
func newTLSListener(inner net.Listener, config *tls.Config, guard h1guard.Options, timeout time.Duration, onError func(error, net.Addr)) *tlsListener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &tlsListener{inner: inner, config: config, guard: guard, timeout: timeout, onError: onError,
		conns: make(chan net.Conn), ctx: ctx, cancel: cancel}
	go l.acceptLoop()
	return l
}

func (l *tlsListener) acceptLoop() {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			return // the view closed: pending handshakes still finish
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.handshake(c)
		}()
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.config)
	ctx, cancel := context.WithTimeout(l.ctx, l.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		answerPlainHTTP(err)
		if l.onError != nil {
			l.onError(err, c.RemoteAddr())
		}
		c.Close()
		return
	}
	var out net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		out = h1guard.Conn(tc, l.guard)
	}
	select {
	case l.conns <- out:
	case <-l.ctx.Done():
		out.Close()
	}
}

// answerPlainHTTP answers a client that spoke plain HTTP to a TLS port with
// a 400 it can read, as net/http's own TLS server does, instead of a bare
// close.
func answerPlainHTTP(err error) {
	var re tls.RecordHeaderError
	if !errors.As(err, &re) || re.Conn == nil {
		return
	}
	switch string(re.RecordHeader[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.ctx.Done():
		return nil, net.ErrClosed
	}
}

// Close ends the listener: handshakes under way are abandoned and their
// connections closed.
func (l *tlsListener) Close() error {
	l.cancel()
	return l.inner.Close()
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }
