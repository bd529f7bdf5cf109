package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// Start binds every listener and the admin server and starts serving. It
// returns once the sockets are open, so a bind error comes back at once and
// the bound addresses can be read.
func (g *Gateway) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	cfg := g.Config()
	g.snap.Load().start()
	g.countCallerRefusals(cfg)
	for _, spec := range cfg.File.Listeners {
		l, err := g.openListener(spec, cfg.Identity)
		if err != nil {
			g.closeListeners(g.listeners)
			g.listeners = nil
			return err
		}
		g.listeners = append(g.listeners, l)
	}
	for _, l := range g.listeners {
		if err := g.start(l, l.spec, g.httpsPort(cfg), g.opts.DrainTimeout); err != nil {
			g.closeListeners(g.listeners)
			return err
		}
	}
	a, err := g.openAdmin(cfg.File.Admin.Address)
	if err != nil {
		g.closeListeners(g.listeners)
		return err
	}
	g.admin = a
	g.serveAdmin(a)
	g.guardOwnListeners()
	g.ready.Store(true)
	return nil
}

// pools returns the running configuration's upstream pools, for /upstreams.
func (g *Gateway) pools() []*upstream.Pool {
	var out []*upstream.Pool
	for _, b := range g.snap.Load().upstreams {
		out = append(out, b.pool)
	}
	return out
}

// httpsPort is the port redirect_https sends clients to: the first TLS
// listener's, as bound.
func (g *Gateway) httpsPort(cfg *routes.Config) string {
	for _, spec := range cfg.File.Listeners {
		if spec.TLS == nil {
			continue
		}
		if l := g.listener(spec.Name); l != nil {
			return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		}
	}
	return ""
}

func (g *Gateway) listener(name string) *listener {
	i := slices.IndexFunc(g.listeners, func(l *listener) bool { return l.name == name })
	if i < 0 {
		return nil
	}
	return g.listeners[i]
}

// Addr returns the TCP address the named listener is bound to, or nil.
func (g *Gateway) Addr(name string) net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.listener(name); l != nil {
		return l.Addr()
	}
	return nil
}

// Ready reports whether the gateway takes traffic: true once started, false
// from the moment a drain begins.
func (g *Gateway) Ready() bool { return g.ready.Load() }

// Drain is what a pod's termination calls for: /readyz turns false at once
// so the load balancer stops sending, the listeners keep serving for delay
// while it notices, and then Shutdown runs with what is left of ctx.
func (g *Gateway) Drain(ctx context.Context, delay time.Duration) error {
	g.ready.Store(false)
	select {
	case <-time.After(delay):
	case <-ctx.Done():
	}
	return g.Shutdown(ctx)
}

// Shutdown marks the gateway not ready, stops accepting, asks keep-alive
// clients to go, and waits for in-flight requests (WebSockets included)
// until ctx ends. Then it closes the configuration's resources.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.ready.Store(false)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	listeners, adm, wl := g.listeners, g.admin, g.wl
	g.listeners, g.closed, g.wl = nil, true, nil
	g.mu.Unlock()
	if wl != nil {
		wl.close() // the identity in force serves to the end
	}
	drain := time.Until(deadlineOr(ctx, time.Now().Add(g.opts.DrainTimeout)))
	// Forward-proxy tunnels are no server's to wait for either: they get
	// the drain timeout, then end.
	endTunnels := time.AfterFunc(drain, g.endTunnels)
	defer endTunnels.Stop()
	errs := []error{g.closeListeners(listeners, drain)}
	// Hijacked connections (WebSockets) are not the servers' to wait for:
	// their handlers are, and they return when the tunnel ends.
	if err := g.waitInflight(ctx); err != nil {
		errs = append(errs, err)
	}
	if adm != nil {
		errs = append(errs, adm.srv.Shutdown(ctx))
	}
	g.wg.Wait()
	g.egress.Pool.Close()
	g.retire(g.snap.Load(), nil)
	return errors.Join(errs...)
}

func deadlineOr(ctx context.Context, t time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return t
}

// closeListeners stops listeners in parallel, each draining for at most the
// first drain given.
func (g *Gateway) closeListeners(ls []*listener, drain ...time.Duration) error {
	d := time.Duration(0)
	if len(drain) > 0 {
		d = drain[0]
	}
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.stop(d); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("listener %q: %w", l.name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitInflight waits until no request is being served, or ctx ends.
func (g *Gateway) waitInflight(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for g.inflight.Load() > 0 {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%d requests in flight at the deadline: %w", g.inflight.Load(), ctx.Err())
		}
	}
	return nil
}
