package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
	"github.com/portcullis-gw/portcullis/gateway/h1guard"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// listener is one configured address: a TCP socket that stays open for the
// gateway's life (or until a reload removes it), the servers that serve it,
// and, with HTTP/3, a UDP socket on the same port. A reload that changes the
// listener's settings starts new servers on the same socket and lets the old
// ones drain.
type listener struct {
	name string
	sock *socket
	udp  net.PacketConn
	// tlsCfg is the TLS configuration in force; handshakes read it, so a
	// reload swaps certificates and trust bundles without touching a
	// connection.
	tlsCfg atomic.Pointer[handshakeConfig]
	// outerTLS is what handshakes start from for the listener's life: it
	// answers with tlsCfg and keeps the session ticket keys, so sessions
	// resume across reloads.
	outerTLS *tls.Config

	mu   sync.Mutex
	spec routes.Listener
	cur  *serving
	// old are earlier generations still finishing their connections.
	old map[*serving]bool
}

// serving is one generation of a listener's servers.
type serving struct {
	state *listenerState
	view  *socketView
	// ln is what the servers accept from: the view behind the
	// connection limits.
	ln   net.Listener
	srv  *http.Server
	h3   *quicServer
	done chan struct{} // closed when both servers have returned
	// stopping is closed to end a retired generation's wait early.
	stopping chan struct{}
}

// listenerState is what a request needs of its listener; it is fixed for a
// generation of servers.
type listenerState struct {
	name          string
	altSvc        string
	redirectHTTPS bool
	httpsPort     string
	maxHeaders    int
	underscores   underscores
	// writeTimeout bounds each write of a response to a client.
	writeTimeout time.Duration
	// idleTimeout ends a connection, or an upgrade's tunnel, idle that long.
	idleTimeout time.Duration
	// limiter is the listener's global request rate, or nil.
	limiter plugins.Handler
	// server is what becomes of the responses' Server header.
	server serverHeader
	// clientAuth is set when the listener verifies callers' certificates
	// (client_auth optional or require): only then does a connection's
	// peer certificate stand for a verified caller.
	clientAuth bool
	// clientCert is the listener's forward_client_cert.
	clientCert clientCertPolicy
	// forwardProxy is set on a forward_proxy listener, whose requests the
	// egress proxy serves; callerHeader is its caller_header.
	forwardProxy bool
	callerHeader string
	// draining is set when a newer generation took over: responses on
	// this generation's HTTP/1 connections then carry Connection: close,
	// so clients move to the new servers between requests, never in the
	// middle of one.
	draining atomic.Bool
}

// connInfo is what the gateway knows of a connection; it rides in every
// request's context.
type connInfo struct {
	listener *listenerState
	local    string
	// localAddr is local parsed, the gateway's end of the connection.
	localAddr netip.AddrPort
	// h2 follows an HTTP/2 connection's stream resets, h3 an HTTP/3
	// connection's; nil otherwise.
	h2 *resetGuard
	h3 *h3Resets
	// peer is the verified caller, or nil for none.
	peer *callerIdentity
	// writeDeadline says an HTTP/1 response left a write deadline on the
	// connection, which the next request must clear. HTTP/1 serves one
	// request at a time on a connection, so it needs no lock.
	writeDeadline bool
}

func newConnInfo(st *listenerState, local net.Addr) *connInfo {
	info := &connInfo{listener: st, local: local.String()}
	if ap, err := netip.ParseAddrPort(info.local); err == nil {
		info.localAddr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return info
}

type connKey struct{}

// defaultConn serves requests that reach ServeHTTP without a listener, as in
// a test that calls the handler directly.
var defaultConn = &connInfo{listener: &listenerState{name: "direct", maxHeaders: 100}}

func connFrom(ctx context.Context) *connInfo {
	if c, ok := ctx.Value(connKey{}).(*connInfo); ok {
		return c
	}
	return defaultConn
}

// openListener binds spec's sockets. Nothing is served until start.
func (g *Gateway) openListener(spec routes.Listener, id *identity.Identity) (*listener, error) {
	l := &listener{name: spec.Name, spec: spec}
	l.outerTLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if c := l.tlsCfg.Load(); c != nil {
			return c.forClient(hello, l.outerTLS, nil), nil
		}
		return nil, errors.New("listener has no TLS configuration")
	}}
	hc, err := g.listenerTLS(spec, id)
	if err != nil {
		return nil, err
	}
	l.tlsCfg.Store(hc)
	tcp, udp, err := bind(spec.Address, hasHTTP3(spec))
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", spec.Name, err)
	}
	l.sock, l.udp = newSocket(tcp, func(err error, delay time.Duration) {
		g.log.Error().Err(err).Str("listener", spec.Name).Dur("retry_in", delay).Msg("accept failed")
	}), udp
	return l, nil
}

func hasHTTP3(spec routes.Listener) bool { return slices.Contains(spec.Protocols, "http3") }

// listenerTLS builds the TLS configuration spec asks for, with ALPN offering
// the HTTP versions it serves and, with client_auth, the check of callers
// against id's bundles; nil for a plain listener.
func (g *Gateway) listenerTLS(spec routes.Listener, id *identity.Identity) (*handshakeConfig, error) {
	if spec.TLS == nil {
		return nil, nil
	}
	cfg, err := serverTLS(spec.TLS, spec.Address, id)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", spec.Name, err)
	}
	auth := newCallerAuth(spec.TLS, id, func(reason identity.Reason, err error, remote net.Addr) {
		g.callerRefused(spec.Name, reason, err, remote)
	})
	switch {
	case auth != nil && auth.require:
		// crypto/tls refuses a caller without a certificate itself, with
		// the alert BoringSSL sends (certificate_required in TLS 1.3,
		// handshake_failure in TLS 1.2); refusedByTLS counts it.
		cfg.ClientAuth = tls.RequireAnyClientCert
	case auth != nil:
		cfg.ClientAuth = tls.RequestClientCert
	}
	if slices.Contains(spec.Protocols, "http2") {
		cfg.NextProtos = append(cfg.NextProtos, "h2")
	}
	if slices.Contains(spec.Protocols, "http1") {
		cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
	}
	return &handshakeConfig{tls: cfg, auth: auth}, nil
}

// bind opens the TCP socket and, for HTTP/3, the UDP socket on the same
// port. With port 0 the kernel picks the TCP port, and the UDP socket must
// then get the same number; if that one is taken on UDP, it tries again.
func bind(addr string, withUDP bool) (net.Listener, net.PacketConn, error) {
	for attempt := 0; ; attempt++ {
		tcp, err := net.Listen("tcp", addr)
		if err != nil || !withUDP {
			return tcp, nil, err
		}
		udp, err := bindUDP(addr, tcp.Addr().(*net.TCPAddr).Port)
		if err == nil {
			return tcp, udp, nil
		}
		tcp.Close()
		if _, p, _ := net.SplitHostPort(addr); p != "0" || attempt == 10 {
			return nil, nil, err
		}
	}
}

func bindUDP(addr string, port int) (net.PacketConn, error) {
	host, _, _ := net.SplitHostPort(addr)
	return net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// start serves the listener with servers built from spec. Servers of an
// earlier generation are shut down in the background, after the new ones
// accept, and finish their in-flight requests within drain.
func (g *Gateway) start(l *listener, spec routes.Listener, httpsPort string, drain time.Duration) error {
	// What can fail is built before anything running is touched.
	var limiter plugins.Handler
	if rps := spec.Limits.RequestsPerSecond; rps > 0 {
		var err error
		if limiter, err = globalLimiter(rps, spec.Limits.RequestsBurst); err != nil {
			return fmt.Errorf("listener %q: limits: %w", spec.Name, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cur
	if old != nil && old.h3 != nil {
		// quic-go cannot hand a UDP socket from one server to the next:
		// HTTP/3 pauses for the moment it takes to rebind, and clients
		// fall back to TCP by Alt-Svc meanwhile.
		old.h3.shutdown(min(drain, time.Second))
		old.h3 = nil
		l.udp.Close()
		l.udp = nil
	}
	if hasHTTP3(spec) && l.udp == nil {
		udp, err := bindUDP(spec.Address, l.sock.ln.Addr().(*net.TCPAddr).Port)
		if err != nil {
			return fmt.Errorf("listener %q: http3: %w", spec.Name, err)
		}
		l.udp = udp
	}
	port := l.sock.ln.Addr().(*net.TCPAddr).Port
	st := &listenerState{
		name:          spec.Name,
		redirectHTTPS: spec.RedirectHTTPS,
		httpsPort:     httpsPort,
		maxHeaders:    spec.Limits.MaxHeaders,
		underscores:   parseUnderscores(spec.HeadersWithUnderscores),
		writeTimeout:  time.Duration(spec.Limits.WriteTimeout),
		idleTimeout:   time.Duration(spec.Limits.IdleTimeout),
		limiter:       limiter,
		server:        newServerHeader(spec.ServerHeader),
		clientAuth:    spec.TLS.VerifiesCallers(),
		clientCert:    newClientCertPolicy(spec),
		forwardProxy:  spec.Kind == "forward_proxy",
		callerHeader:  spec.CallerHeader,
	}
	s := &serving{state: st, view: l.sock.view(), done: make(chan struct{}), stopping: make(chan struct{})}
	conns := g.connLimits(s.view, spec)
	s.ln = g.guardListener(s.view, conns, l, spec)
	s.srv = g.httpServer(spec, l, st)
	if hasHTTP3(spec) {
		st.altSvc = fmt.Sprintf(`h3=":%d"; ma=86400`, port)
		h3, err := g.newQUICServer(spec, g.http3Server(spec, l, st), l.udp, conns)
		if err != nil {
			return fmt.Errorf("listener %q: http3: %w", spec.Name, err)
		}
		s.h3 = h3
	}
	l.name, l.spec, l.cur = spec.Name, spec, s
	go s.serve(g, spec.Name)
	if old != nil {
		l.retire(old, spec, drain)
	}
	return nil
}

// retire stops an earlier generation without cutting anything: it stops
// accepting at once, and its HTTP/1 connections are closed after their next
// response. Connections still idle after an idle timeout are closed then, as
// the idle timeout would have closed them anyway; closing them at once would
// race with a request the client may be sending on one. l.mu is held.
func (l *listener) retire(old *serving, spec routes.Listener, drain time.Duration) {
	old.state.draining.Store(true)
	old.view.Close()
	if l.old == nil {
		l.old = map[*serving]bool{}
	}
	l.old[old] = true
	wait := min(time.Duration(spec.Limits.IdleTimeout), drain)
	go func() {
		select {
		case <-time.After(wait):
		case <-old.stopping:
		}
		old.shutdown(drain)
		l.mu.Lock()
		delete(l.old, old)
		l.mu.Unlock()
	}()
}

// specChanged reports whether a reload must build new servers for l.
func (l *listener) specChanged(spec routes.Listener) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !reflect.DeepEqual(l.spec, spec)
}

func (g *Gateway) httpServer(spec routes.Listener, l *listener, st *listenerState) *http.Server {
	lim := spec.Limits
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: time.Duration(lim.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(lim.IdleTimeout),
		MaxHeaderBytes:    int(lim.MaxHeaderBytes),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: lim.MaxConcurrentStreams, WriteByteTimeout: time.Duration(lim.WriteTimeout)},
		Protocols:         new(http.Protocols),
		ErrorLog:          newStdLog(g.log),
		// OPTIONS * is the gateway's to answer (400: it routes nothing),
		// not the standard library's blanket 200.
		DisableGeneralOptionsHandler: true,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			info := newConnInfo(st, c.LocalAddr())
			if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok && st.clientAuth {
				info.peer = peerIdentity(cs.ConnectionState())
			}
			return context.WithValue(ctx, connKey{}, info)
		},
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				g.metrics.Connections(st.name, 1)
			case http.StateClosed, http.StateHijacked:
				g.metrics.Connections(st.name, -1)
			}
		},
	}
	// TLS listeners hand the server connections whose handshake is done
	// (tlsListener), so the server has no TLSConfig of its own.
	for _, p := range spec.Protocols {
		switch {
		case p == "http1":
			srv.Protocols.SetHTTP1(true)
		case p == "http2" && spec.TLS != nil:
			srv.Protocols.SetHTTP2(true)
		case p == "http2":
			srv.Protocols.SetUnencryptedHTTP2(true)
		}
	}
	if slices.Contains(spec.Protocols, "http2") {
		g.serveHTTP2(srv, spec.Name)
	}
	return srv
}

func (g *Gateway) http3Server(spec routes.Listener, l *listener, st *listenerState) *http3.Server {
	lim := spec.Limits
	var tickets *tls.Config // what the QUIC server starts from, and seals tickets with
	base := &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c := l.tlsCfg.Load()
			if c == nil {
				return nil, errors.New("listener has no TLS configuration")
			}
			return c.forClient(hello, tickets, []string{http3.NextProtoH3}), nil
		},
	}
	tickets = http3.ConfigureTLSConfig(base)
	return &http3.Server{
		Handler:        g,
		TLSConfig:      tickets,
		MaxHeaderBytes: int(lim.MaxHeaderBytes),
		IdleTimeout:    time.Duration(lim.IdleTimeout),
		QUICConfig: &quic.Config{
			Allow0RTT:          false,
			MaxIncomingStreams: int64(lim.MaxConcurrentStreams),
			MaxIdleTimeout:     time.Duration(lim.IdleTimeout),
			// A handshake ends within twice this, so read_header_timeout
			// bounds it as it bounds a TLS handshake over TCP.
			HandshakeIdleTimeout: time.Duration(lim.ReadHeaderTimeout) / 2,
		},
		ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
			// httputil.ReverseProxy aborts a response it cannot finish
			// (the stream is reset) only when this key says a server
			// runs it; quic-go sets a key of its own. Without it a
			// response cut short would end as if complete.
			ctx = context.WithValue(ctx, http.ServerContextKey, h3Server)
			resets := &h3Resets{conn: c, onCalm: func(streams, premature int) {
				g.tooManyResets(spec.Name, "HTTP/3", c.RemoteAddr(), streams, premature)
			}}
			info := newConnInfo(st, c.LocalAddr())
			info.h3 = resets
			if st.clientAuth {
				info.peer = peerIdentity(c.ConnectionState().TLS)
			}
			return context.WithValue(ctx, connKey{}, info)
		},
	}
}

// h3Server stands for the HTTP/3 servers under http.ServerContextKey.
var h3Server = &http.Server{}

// serve runs one generation's servers until they are shut down.
func (s *serving) serve(g *Gateway, name string) {
	var wg sync.WaitGroup
	run := func(server string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				g.log.Error().Err(err).Str("listener", name).Str("server", server).Msg("server stopped")
			}
		}()
	}
	run("tcp", func() error { return s.srv.Serve(s.ln) })
	if s.h3 != nil {
		run("quic", s.h3.serve)
	}
	wg.Wait()
	close(s.done)
}

// shutdown stops this generation: it stops accepting, tells keep-alive
// clients to go (Connection: close, HTTP/2 and HTTP/3 GOAWAY), and waits for
// in-flight requests up to drain, then closes what is left.
func (s *serving) shutdown(drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	var errs []error
	if s.h3 != nil {
		errs = append(errs, s.h3.shutdown(drain))
	}
	s.view.Close()
	if err := s.srv.Shutdown(ctx); err != nil {
		errs = append(errs, err, s.srv.Close())
	}
	<-s.done
	return errors.Join(errs...)
}

// stop shuts the listener's servers down, retired generations included, and
// closes its sockets.
func (l *listener) stop(drain time.Duration) error {
	l.mu.Lock()
	cur := l.cur
	for old := range l.old {
		close(old.stopping)
	}
	l.mu.Unlock()
	// No generation follows: stop taking connections first, so none
	// waits unaccepted while the last one drains.
	l.sock.close()
	var err error
	if cur != nil {
		err = cur.shutdown(drain)
	}
	if l.udp != nil {
		l.udp.Close()
	}
	return err
}

// Addr returns the TCP address the listener is bound to.
func (l *listener) Addr() net.Addr { return l.sock.ln.Addr() }

// connLimits puts the listener's connection limits in front of ln, or
// returns nil when it has none. A connection over a limit is reset as it is
// accepted, before any handshake. The limits count this generation's
// connections, HTTP/3's included (quicGuard): after a reload that changed
// the listener, the previous generation's connections, which close after
// their next response, are not counted.
func (g *Gateway) connLimits(ln net.Listener, spec routes.Listener) *connlimit.Listener {
	lim := spec.Limits
	if lim.MaxConnections == 0 && lim.MaxConnectionsPerClient == 0 {
		return nil
	}
	return connlimit.Listen(ln, connlimit.Options{
		MaxConns:      lim.MaxConnections,
		MaxConnsPerIP: lim.MaxConnectionsPerClient,
		OnReject: func(reason string, remote net.Addr) {
			g.metrics.ConnectionRejected(spec.Name, reason)
		},
	})
}

// guardListener puts conns, the connection limits, in front of ln when
// there are any.
//
// The strict HTTP/1 framing guard comes next: Go's server accepts bare LF
// line ends, obs-fold and Content-Length with Transfer-Encoding, each a
// request-smuggling vector at an edge. On TLS listeners the gateway does the
// handshake itself and guards every connection that did not choose h2.
func (g *Gateway) guardListener(ln net.Listener, conns *connlimit.Listener, l *listener, spec routes.Listener) net.Listener {
	lim := spec.Limits
	if conns != nil {
		ln = conns
	}
	guard := h1guard.Options{
		MaxHeaderBytes: int(lim.MaxHeaderBytes),
		OnViolation: func(kind h1guard.Kind, remote net.Addr) {
			g.protocolError(spec.Name, kind.String(), remote)
		},
	}
	if spec.TLS == nil && !slices.Contains(spec.Protocols, "http1") {
		return h2cOnlyListener{ln}
	}
	if spec.TLS == nil {
		return h1guard.Listen(ln, guard)
	}
	return newTLSListener(ln, l.outerTLS, guard, time.Duration(lim.ReadHeaderTimeout), func(err error, remote net.Addr) {
		g.handshakeFailed(spec.Name, err, remote)
		if e := g.log.Debug(); e.Enabled() {
			e.Err(err).Str("listener", spec.Name).Stringer("remote", remote).Msg("TLS handshake failed")
		}
	})
}

// globalLimiter is a listener-wide token bucket: the rate_limit plugin with
// one key for every request.
func globalLimiter(rps float64, burst int) (plugins.Handler, error) {
	f := ratelimit.Factory()
	cfg := f.Config().(*ratelimit.Config)
	cfg.PerSecond, cfg.Key = rps, "route"
	if burst > 0 {
		cfg.Burst = &burst
	}
	return f.Build(cfg)
}
