package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/portcullis-gw/portcullis/routes"
)

// listener is one configured address with its servers: TCP (HTTP/1.1, and
// HTTP/2 by ALPN or h2c) and, when asked, QUIC (HTTP/3) on the same port.
type listener struct {
	name          string
	altSvc        string
	redirectHTTPS bool
	httpsPort     string
	maxHeaders    int

	tcp net.Listener
	udp net.PacketConn
	srv *http.Server
	h3  *http3.Server
}

// connInfo is what the gateway knows of a connection; it rides in every
// request's context.
type connInfo struct {
	listener *listener
	local    string
}

type connKey struct{}

// defaultConn serves requests that reach ServeHTTP without a listener, as in
// a test that calls the handler directly.
var defaultConn = &connInfo{listener: &listener{name: "direct", maxHeaders: 100}}

func connFrom(ctx context.Context) *connInfo {
	if c, ok := ctx.Value(connKey{}).(*connInfo); ok {
		return c
	}
	return defaultConn
}

// openListener binds spec's sockets and builds its servers; nothing is
// served until start.
func (g *Gateway) openListener(spec routes.Listener, httpsPort string) (*listener, error) {
	l := &listener{
		name:          spec.Name,
		redirectHTTPS: spec.RedirectHTTPS,
		httpsPort:     httpsPort,
		maxHeaders:    spec.Limits.MaxHeaders,
	}
	var tlsCfg *tls.Config
	if spec.TLS != nil {
		var err error
		if tlsCfg, err = serverTLS(spec.TLS, spec.Address); err != nil {
			return nil, fmt.Errorf("listener %q: %w", spec.Name, err)
		}
	}
	h3 := slices.Contains(spec.Protocols, "http3")
	tcp, udp, err := bind(spec.Address, h3)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", spec.Name, err)
	}
	l.tcp, l.udp = tcp, udp
	l.srv = g.httpServer(spec, l, tlsCfg)
	if h3 {
		port := tcp.Addr().(*net.TCPAddr).Port
		l.altSvc = fmt.Sprintf(`h3=":%d"; ma=86400`, port)
		l.h3 = g.http3Server(spec, l, tlsCfg)
	}
	return l, nil
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
		host, _, _ := net.SplitHostPort(addr)
		port := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return tcp, udp, nil
		}
		tcp.Close()
		if _, p, _ := net.SplitHostPort(addr); p != "0" || attempt == 10 {
			return nil, nil, err
		}
	}
}

func (g *Gateway) httpServer(spec routes.Listener, l *listener, tlsCfg *tls.Config) *http.Server {
	lim := spec.Limits
	srv := &http.Server{
		Handler:           g,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: time.Duration(lim.ReadHeaderTimeout),
		IdleTimeout:       time.Duration(lim.IdleTimeout),
		MaxHeaderBytes:    int(lim.MaxHeaderBytes),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: lim.MaxConcurrentStreams},
		Protocols:         new(http.Protocols),
		ErrorLog:          newStdLog(g.log),
		// OPTIONS * is the gateway's to answer (400: it routes nothing),
		// not the standard library's blanket 200.
		DisableGeneralOptionsHandler: true,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connInfo{listener: l, local: c.LocalAddr().String()})
		},
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				g.metrics.Connections(l.name, 1)
			case http.StateClosed, http.StateHijacked:
				g.metrics.Connections(l.name, -1)
			}
		},
	}
	for _, p := range spec.Protocols {
		switch {
		case p == "http1":
			srv.Protocols.SetHTTP1(true)
		case p == "http2" && tlsCfg != nil:
			srv.Protocols.SetHTTP2(true)
		case p == "http2":
			srv.Protocols.SetUnencryptedHTTP2(true)
		}
	}
	return srv
}

func (g *Gateway) http3Server(spec routes.Listener, l *listener, tlsCfg *tls.Config) *http3.Server {
	lim := spec.Limits
	return &http3.Server{
		Handler:        g,
		TLSConfig:      http3.ConfigureTLSConfig(tlsCfg.Clone()),
		MaxHeaderBytes: int(lim.MaxHeaderBytes),
		IdleTimeout:    time.Duration(lim.IdleTimeout),
		QUICConfig: &quic.Config{
			Allow0RTT:          false,
			MaxIncomingStreams: int64(lim.MaxConcurrentStreams),
			MaxIdleTimeout:     time.Duration(lim.IdleTimeout),
		},
		ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connInfo{listener: l, local: c.LocalAddr().String()})
		},
	}
}

// serve runs the listener's servers until they are shut down.
func (l *listener) serve() error {
	errc := make(chan error, 2)
	go func() {
		if l.srv.TLSConfig != nil {
			errc <- l.srv.ServeTLS(l.tcp, "", "")
		} else {
			errc <- l.srv.Serve(l.tcp)
		}
	}()
	if l.h3 != nil {
		go func() { errc <- l.h3.Serve(l.udp) }()
	}
	err := <-errc
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, quic.ErrServerClosed) {
		return nil
	}
	return err
}

// shutdown stops accepting, tells keep-alive clients to go (Connection:
// close, GOAWAY), and waits for in-flight requests until ctx ends.
func (l *listener) shutdown(ctx context.Context) error {
	var errs []error
	if l.h3 != nil {
		errs = append(errs, l.h3.Shutdown(ctx))
		l.udp.Close()
	}
	errs = append(errs, l.srv.Shutdown(ctx))
	return errors.Join(errs...)
}

// Addr returns the TCP address the listener is bound to.
func (l *listener) Addr() net.Addr { return l.tcp.Addr() }
