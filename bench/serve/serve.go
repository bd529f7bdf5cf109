// Package serve runs one HTTP handler on the listeners every Go program of
// the bench has: plain HTTP/1.1 with h2c, TLS with HTTP/1.1 and HTTP/2, and
// HTTP/3 on the TLS port's UDP twin. The backend and the bare Go proxy use
// it, so the two are served exactly alike.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Options says where to listen; an empty address is not listened on.
type Options struct {
	// Addr serves HTTP/1.1 and h2c, TLSAddr serves TLS with HTTP/1.1 and
	// HTTP/2 using CertFile and KeyFile, and with H3 also HTTP/3 on UDP at
	// TLSAddr.
	Addr, TLSAddr     string
	CertFile, KeyFile string
	H3                bool
}

// Run serves h until ctx is done, then closes every listener. It returns
// the first error of a listener that failed for a reason other than the
// shutdown.
func Run(ctx context.Context, h http.Handler, o Options) error {
	if o.Addr == "" && o.TLSAddr == "" {
		return errors.New("serve: no address to listen on")
	}
	errc := make(chan error, 3)
	var closers []func() error
	if o.Addr != "" {
		srv := newServer(h)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		ln, err := net.Listen("tcp", o.Addr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		closers = append(closers, srv.Close)
		go func() { errc <- srv.Serve(ln) }()
	}
	if o.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		srv := newServer(h)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ln, err := net.Listen("tcp", o.TLSAddr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		closers = append(closers, srv.Close)
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
		if o.H3 {
			h3 := &http3.Server{
				Addr:       o.TLSAddr,
				Handler:    h,
				TLSConfig:  http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
				QUICConfig: &quic.Config{MaxIdleTimeout: 2 * time.Minute, MaxIncomingStreams: 1000},
			}
			closers = append(closers, h3.Close)
			go func() { errc <- h3.ListenAndServe() }()
		}
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, c := range closers {
		_ = c()
	}
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, quic.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newServer has the timeouts of a long-lived server; the idle timeout is
// long enough to hold idle keep-alive connections through a whole run.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		Protocols:         new(http.Protocols),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 1000},
	}
}
