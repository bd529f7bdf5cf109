package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
)

// upstream is the runtime side of one upstream definition: its endpoints,
// the balancer's state and a connection pool.
type upstream struct {
	spec      *routes.UpstreamSpec
	endpoints []string
	next      atomic.Uint64
	scheme    string
	transport http.RoundTripper
	// cluster is the upstream's name in Istio's form, outbound|port||host,
	// for the access log and metrics.
	cluster string
	// service is the destination service host for metrics.
	service string
}

func newUpstream(spec *routes.UpstreamSpec) (*upstream, error) {
	u := &upstream{spec: spec, endpoints: spec.Endpoints, scheme: "http"}
	u.service = spec.Name
	if spec.Namespace != "" {
		u.service = spec.Name + "." + spec.Namespace + ".svc.cluster.local"
	}
	port := "80"
	if len(spec.Endpoints) > 0 {
		if _, p, err := net.SplitHostPort(spec.Endpoints[0]); err == nil {
			port = p
		}
	}
	u.cluster = "outbound|" + port + "||" + u.service
	if spec.Builtin == "echo" {
		u.endpoints = []string{"echo.builtin:80"}
		u.transport = echoTransport{}
		return u, nil
	}
	t, err := newTransport(spec)
	if err != nil {
		return nil, err
	}
	if spec.TLS != nil {
		u.scheme = "https"
	}
	u.transport = t
	return u, nil
}

// pick chooses the endpoint for one request, round robin.
func (u *upstream) pick() string {
	if len(u.endpoints) == 1 {
		return u.endpoints[0]
	}
	n := u.next.Add(1) - 1
	return u.endpoints[n%uint64(len(u.endpoints))]
}

func (u *upstream) close() {
	if t, ok := u.transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

// newTransport builds the connection pool for one upstream.
func newTransport(spec *routes.UpstreamSpec) (*http.Transport, error) {
	dialer := &net.Dialer{Timeout: time.Duration(spec.ConnectTimeout), KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   spec.MaxIdlePerHost,
		IdleConnTimeout:       time.Duration(spec.IdleTimeout),
		TLSHandshakeTimeout:   time.Duration(spec.ConnectTimeout),
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 0, // the route's timeout bounds the exchange
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
		cfg, err := upstreamTLS(spec.TLS)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = cfg
	}
	return t, nil
}

// upstreamTLS builds the client TLS config that verifies an upstream. The
// seam for mutual TLS with the gateway's own SPIFFE identity is here: a later
// version adds GetClientCertificate and a SPIFFE ID check.
func upstreamTLS(c *routes.UpstreamTLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
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
