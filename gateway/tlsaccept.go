package gateway

import (
	"context"
	"crypto/tls"
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
type tlsListener struct {
	inner   net.Listener
	config  func() *tls.Config
	guard   h1guard.Options
	timeout time.Duration
	onError func(error, net.Addr)

	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newTLSListener(inner net.Listener, config func() *tls.Config, guard h1guard.Options, timeout time.Duration, onError func(error, net.Addr)) *tlsListener {
	l := &tlsListener{inner: inner, config: config, guard: guard, timeout: timeout, onError: onError,
		conns: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *tlsListener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			l.Close()
			return
		}
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(c net.Conn) {
	cfg := l.config()
	if cfg == nil {
		c.Close()
		return
	}
	tc := tls.Server(c, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
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
	case <-l.done:
		out.Close()
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.inner.Close()
	})
	return nil
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }
