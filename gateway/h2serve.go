package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"golang.org/x/net/http2"
)

// serveHTTP2 has srv serve HTTP/2, over TLS and h2c, with
// golang.org/x/net/http2 rather than net/http's bundled copy of it. Both
// are the same code (net/http's is generated from x/net) and take their
// settings from the same http.Server fields, but only x/net's ServeConn
// takes any net.Conn: so every HTTP/2 connection is read through a
// resetGuard, which has the server answer a flood of reset streams with
// GOAWAY ENHANCE_YOUR_CALM, over a conformGuard, which has it keep rules of
// RFC 9113 it would break. Graceful shutdown reaches the connections
// through srv.RegisterOnShutdown, as with the bundled server.
func (g *Gateway) serveHTTP2(srv *http.Server, listener string) {
	h2 := &http2.Server{MaxReadFrameSize: h2MaxFrameSize, MaxDecoderHeaderTableSize: h2HeaderTableSize}
	// ConfigureServer fails only for cipher suites in srv.TLSConfig, and
	// srv has none: the gateway hands it connections already in TLS.
	if err := http2.ConfigureServer(srv, h2); err != nil {
		g.log.Error().Err(err).Str("listener", listener).Msg("HTTP/2 setup failed")
		return
	}
	serve := func(hs *http.Server, c net.Conn, h http.Handler, sawPreface bool) {
		// net/http passes the connection's base context (with
		// ConnContext's values) through the handler it hands over.
		ctx := context.Background()
		if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
			ctx = bc.BaseContext()
		}
		remote := c.RemoteAddr()
		rules := newConformGuard(c, sawPreface, hs.MaxHeaderBytes)
		guard := newResetGuard(rules, sawPreface, func(streams, premature int) {
			g.tooManyResets(listener, "HTTP/2", remote, streams, premature)
		})
		if ci, ok := ctx.Value(connKey{}).(*connInfo); ok {
			ci.h2 = guard
		}
		var conn net.Conn = guard
		if tc, ok := c.(*tls.Conn); ok {
			conn = resetGuardTLS{guard, tc}
		}
		h2.ServeConn(conn, &http2.ServeConnOpts{Context: ctx, Handler: h, BaseConfig: hs, SawClientPreface: sawPreface})
	}
	srv.TLSNextProto[http2.NextProtoTLS] = func(hs *http.Server, c *tls.Conn, h http.Handler) {
		serve(hs, c, h, false)
	}
	// net/http hands an h2c connection over wrapped in a *tls.Conn that
	// was never used, after reading the client's preface from it.
	srv.TLSNextProto["unencrypted_http2"] = func(hs *http.Server, c *tls.Conn, h http.Handler) {
		if u, ok := c.NetConn().(interface{ UnencryptedNetConn() net.Conn }); ok {
			nc := u.UnencryptedNetConn()
			if oc, ok := nc.(*h2cOnlyConn); ok {
				oc.h2.Store(true)
			}
			serve(hs, nc, h, true)
		}
	}
}

// tooManyResets records a connection closed for resetting too many streams
// before their response (HTTP/2 with GOAWAY ENHANCE_YOUR_CALM, HTTP/3 with
// H3_EXCESSIVE_LOAD): one warning and one count per connection, since the
// streams it reset did no work worth a line each.
func (g *Gateway) tooManyResets(listener, protocol string, remote net.Addr, streams, premature int) {
	g.metrics.TooManyPrematureResets(listener)
	g.log.Warn().Str("listener", listener).Str("protocol", protocol).Stringer("remote", remote).
		Int("streams", streams).Int("premature_resets", premature).
		Msg("connection closed: too many streams reset before their response")
}
