package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/portcullis-gw/portcullis/gateway/admin"
)

// Start binds every listener and the admin server and starts serving. It
// returns once the sockets are open, so a bind error comes back at once and
// the bound addresses can be read.
func (g *Gateway) Start() error {
	cfg := g.Config()
	httpsPort := ""
	for _, spec := range cfg.File.Listeners {
		if spec.TLS != nil {
			_, httpsPort, _ = net.SplitHostPort(spec.Address)
			break
		}
	}
	for _, spec := range cfg.File.Listeners {
		l, err := g.openListener(spec, httpsPort)
		if err != nil {
			g.closeListeners()
			return err
		}
		g.listeners = append(g.listeners, l)
	}
	// A listener on port 0 only learns its port now.
	for _, l := range g.listeners {
		if l.srv.TLSConfig != nil && l.redirectHTTPS == false {
			for _, o := range g.listeners {
				if o.redirectHTTPS && (o.httpsPort == "" || o.httpsPort == "0") {
					o.httpsPort = strconv.Itoa(l.tcp.Addr().(*net.TCPAddr).Port)
				}
			}
			break
		}
	}
	if addr := cfg.File.Admin.Address; addr != "off" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			g.closeListeners()
			return fmt.Errorf("admin: %w", err)
		}
		g.adminLn = ln
		g.admin = admin.New(admin.Options{
			Address: addr,
			Metrics: g.metrics.Handler(),
			Ready:   g.ready.Load,
			Config:  func() any { return admin.Redact(g.Config().File) },
			Logger:  g.log,
		})
	}
	g.ready.Store(true)
	for _, l := range g.listeners {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := l.serve(); err != nil {
				g.log.Error().Err(err).Str("listener", l.name).Msg("listener stopped")
			}
		}()
	}
	if g.admin != nil {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := g.admin.Serve(g.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.log.Error().Err(err).Msg("admin server stopped")
			}
		}()
	}
	return nil
}

// Addr returns the TCP address the named listener is bound to, or nil.
func (g *Gateway) Addr(name string) net.Addr {
	i := slices.IndexFunc(g.listeners, func(l *listener) bool { return l.name == name })
	if i < 0 {
		return nil
	}
	return g.listeners[i].Addr()
}

// AdminAddr returns the admin server's address, or nil when it is off.
func (g *Gateway) AdminAddr() net.Addr {
	if g.adminLn == nil {
		return nil
	}
	return g.adminLn.Addr()
}

// Shutdown marks the gateway not ready, stops accepting, asks keep-alive
// clients to go, and waits for in-flight requests until ctx ends. Then it
// closes the configuration's resources.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.ready.Store(false)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, l := range g.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("listener %q: %w", l.name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if g.admin != nil {
		errs = append(errs, g.admin.Shutdown(ctx))
	}
	g.wg.Wait()
	s := g.snap.Load()
	s.close()
	errs = append(errs, s.cfg.Close())
	return errors.Join(errs...)
}

func (g *Gateway) closeListeners() {
	for _, l := range g.listeners {
		l.tcp.Close()
		if l.udp != nil {
			l.udp.Close()
		}
	}
	g.listeners = nil
}
