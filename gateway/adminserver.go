package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/portcullis-gw/portcullis/gateway/admin"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
)

// adminServer is the admin server on the address the configuration names.
// A reload that changes admin.address binds the new address first, so
// that an address in use fails the reload with the old server still
// serving, and only then retires the old one.
type adminServer struct {
	// address is admin.address as configured, which a reload compares:
	// "127.0.0.1:0" stays where it was bound.
	address string
	ln      net.Listener
	srv     *admin.Server
}

// openAdmin binds address for the admin pages; "off" gives nil.
func (g *Gateway) openAdmin(address string) (*adminServer, error) {
	if address == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("admin.address: %w", err)
	}
	srv := admin.New(admin.Options{
		Address: address,
		Metrics: g.metrics.Handler(),
		Ready:   g.ready.Load,
		Config:  func() any { return admin.Redact(g.configPage()) },
		Extra: func(r chi.Router) {
			r.Get("/upstreams", upstream.Handler(g.pools).ServeHTTP)
		},
		Logger: g.log,
	})
	return &adminServer{address: address, ln: ln, srv: srv}, nil
}

// serveAdmin serves a until it is shut down; a nil a does nothing.
func (g *Gateway) serveAdmin(a *adminServer) {
	if a == nil {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error().Err(err).Msg("admin server stopped")
		}
	}()
}

// adminAddress is the admin.address of the server in force. g.mu is held.
func (g *Gateway) adminAddress() string {
	if g.admin == nil {
		return "off"
	}
	return g.admin.address
}

// adminBoundTo reports whether the admin server is bound to address
// already, as the address it was given with port 0 turned out: a routes file
// that names the bound address keeps the server where it is, as listeners
// keep their socket.
func (g *Gateway) adminBoundTo(address string) bool {
	return g.admin != nil && g.admin.ln.Addr().String() == address
}

// retireAdmin shuts a down in the background, letting a request in
// progress (a CPU profile) finish within the drain timeout.
func (g *Gateway) retireAdmin(a *adminServer) {
	if a == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), g.opts.DrainTimeout)
		defer cancel()
		if err := a.srv.Shutdown(ctx); err != nil {
			g.log.Warn().Err(err).Str("address", a.ln.Addr().String()).Msg("previous admin server")
		}
	}()
}

// AdminAddr returns the admin server's address, or nil when it is off.
func (g *Gateway) AdminAddr() net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.admin == nil {
		return nil
	}
	return g.admin.ln.Addr()
}
