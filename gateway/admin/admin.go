// Package admin serves the gateway's admin pages on their own address, apart
// from traffic: liveness and readiness for Kubernetes probes, the Prometheus
// scrape endpoint, the running config (redacted), and Go's pprof profiles.
// The address should stay on loopback or a cluster-internal port: the pages
// are unauthenticated and pprof reveals a great deal about the process.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
)

// DefaultAddress is where the admin server listens when Options.Address is
// empty: loopback, so that pprof and the config are not exposed by default.
const DefaultAddress = "127.0.0.1:9901"

// The server's timeouts. writeTimeout bounds a response; pprof's profile
// and trace handlers move their own write deadline out by ?seconds=, so a
// 30s CPU profile (the default) or a longer one is not cut off by it.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Options configure the admin server. Every hook may be nil: its page is then
// absent (404), except Ready, whose absence means always ready.
type Options struct {
	// Address is host:port for ListenAndServe; empty means DefaultAddress.
	Address string
	// Metrics serves GET /metrics.
	Metrics http.Handler
	// Ready reports whether the gateway should receive traffic; /readyz
	// answers 503 while it returns false (during start and drain).
	Ready func() bool
	// Config returns the running config for GET /config, which writes it
	// as JSON as is: the caller passes it through Redact first.
	Config func() any
	// Extra adds more pages, such as /upstreams, to the router.
	Extra func(r chi.Router)
	// Logger receives the HTTP server's own errors (bad TLS, panics).
	Logger zerolog.Logger
}

// Server is the admin HTTP server.
type Server struct {
	handler http.Handler
	srv     *http.Server
}

// New builds the admin server; nothing listens until Serve or ListenAndServe.
func New(opts Options) *Server {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	h := newRouter(opts)
	return &Server{
		handler: h,
		srv: &http.Server{
			Addr:              opts.Address,
			Handler:           h,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          log.New(opts.Logger.With().Str("component", "admin").Logger(), "", 0),
		},
	}
}

// Handler returns the admin pages' router, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves the admin pages on ln until Shutdown, then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin server on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on the configured address and serves as Serve does.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return fmt.Errorf("admin server: %w", err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in progress (a running CPU profile among them) to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("admin server shutdown: %w", err)
	}
	return nil
}
