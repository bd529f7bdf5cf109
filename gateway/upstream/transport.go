package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// newTransport builds the connection pool for endpoints that share a TLS
// server name. dials counts the connections being dialled, the pool's
// measure of pending requests.
func newTransport(spec *routes.UpstreamSpec, serverName string, dials *atomic.Int64, id *identity.Identity) (*http.Transport, error) {
	dialer := &net.Dialer{Timeout: time.Duration(spec.ConnectTimeout), KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			defer dials.Add(-1)
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &localConn{Conn: c, local: c.LocalAddr().String()}, nil
		},
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   spec.MaxIdlePerHost,
		IdleConnTimeout:       time.Duration(spec.IdleTimeout),
		TLSHandshakeTimeout:   time.Duration(spec.ConnectTimeout),
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0, // the route's timeout and the per-try timeout bound the exchange
		// HTTP/1's header block and HTTP/2's header list alike.
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		// The gateway forwards what the client asked for; it neither
		// adds nor undoes compression.
		DisableCompression: true,
		Protocols:          new(http.Protocols),
		Proxy:              nil,
	}
	switch {
	case spec.Protocol == "http2" && spec.TLS == nil:
		t.Protocols.SetUnencryptedHTTP2(true)
	case spec.Protocol == "http2":
		t.Protocols.SetHTTP2(true)
	default:
		t.Protocols.SetHTTP1(true)
	}
	if spec.TLS != nil {
		var cfg *tls.Config
		var err error
		if spec.TLS.Mode == "mutual" {
			cfg, err = mutualTLS(spec.TLS, serverName, id)
		} else {
			cfg, err = upstreamTLS(spec.TLS, serverName)
		}
		if err != nil {
			return nil, err
		}
		cfg.NextProtos = alpn(spec)
		t.TLSClientConfig = cfg
	}
	return t, nil
}

// alpn returns the protocols an upstream's handshake offers: the
// configured ones, Istio's before the protocol's own, or nil for the
// transport's default.
func alpn(spec *routes.UpstreamSpec) []string {
	switch t := spec.TLS; {
	case len(t.ALPN) > 0:
		return t.ALPN
	case t.IstioALPN && spec.Protocol == "http2":
		return []string{"istio-h2", "istio", "h2"}
	case t.IstioALPN:
		return []string{"istio-http/1.1", "istio", "http/1.1"}
	}
	return nil
}

// upstreamTLS builds the client TLS config that verifies an upstream.
// serverName is sent as SNI and verified: the configured server_name, or
// the endpoint's DNS name, since the transport dials the resolved address
// and would otherwise verify the certificate against an IP.
func upstreamTLS(c *routes.UpstreamTLS, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("tls ca_file: no certificate found")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// localConn is a dialled connection that has its local address as text, so
// that the requests it carries log %UPSTREAM_LOCAL_ADDRESS% without
// formatting it each time.
type localConn struct {
	net.Conn
	local string
	// peer is what the TLS handshake over it said, read once.
	peer atomic.Pointer[TLSPeer]
}

// TLSPeer is what an upstream connection's TLS handshake says, for the
// access log and the metrics.
type TLSPeer struct {
	// Version is the TLS version, TLSv1.3 or TLSv1.2 as Envoy spells it.
	Version string
	// URISAN is the URI SANs of the upstream's certificate, joined by ','
	// as Envoy's %UPSTREAM_PEER_URI_SAN% writes them: for tls mode mutual,
	// the SPIFFE ID the handshake verified.
	URISAN string
}

// PeerOf returns what the TLS handshake of an upstream connection as
// httptrace's GotConn hands it over said, or nil for a connection without
// TLS. A pool's connection reads it once, and its requests share it.
func PeerOf(c net.Conn) *TLSPeer {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil
	}
	lc, _ := tc.NetConn().(*localConn)
	if lc != nil {
		if p := lc.peer.Load(); p != nil {
			return p
		}
	}
	cs := tc.ConnectionState()
	p := &TLSPeer{Version: VersionName(cs.Version)}
	if len(cs.PeerCertificates) > 0 {
		uris := make([]string, len(cs.PeerCertificates[0].URIs))
		for i, u := range cs.PeerCertificates[0].URIs {
			uris[i] = u.String()
		}
		p.URISAN = strings.Join(uris, ",")
	}
	if lc != nil && cs.HandshakeComplete {
		lc.peer.Store(p)
	}
	return p
}

// VersionName spells a TLS version as Envoy's %DOWNSTREAM_TLS_VERSION% and
// %UPSTREAM_TLS_VERSION% do.
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return tls.VersionName(v)
}

// LocalAddress returns the local ip:port of an upstream connection as
// httptrace's GotConn hands it over: a TLS connection is looked through, and
// the pool's own connections have the text ready.
func LocalAddress(c net.Conn) string {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*localConn); ok {
		return lc.local
	}
	if c == nil || c.LocalAddr() == nil {
		return ""
	}
	return c.LocalAddr().String()
}
