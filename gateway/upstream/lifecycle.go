package upstream

import (
	"context"
	"net/http"
	"slices"
)

// Start begins the pool's work: the first resolution of endpoint names and
// their re-resolution every dns_refresh, and the active health checks. It
// returns at once; a request that arrives before the first resolution
// waits for it. Start after Start or Close does nothing.
func (p *Pool) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stateNew {
		return
	}
	p.state = stateStarted
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for _, e := range p.set.Load().all {
		p.obs.EndpointHealth(e.addr, e.eligible())
		p.startCheck(ctx, e)
	}
	if slices.ContainsFunc(p.targets, func(t target) bool { _, ok := t.static(); return !ok }) {
		p.wg.Add(1)
		go p.resolveLoop(ctx)
	}
	p.started.Store(true)
}

// Close stops the pool's goroutines and waits for them, and closes its idle
// connections. Requests in progress go on and finish; new ones are still
// served, without health checks or re-resolution. Close is safe on a pool
// that New gave up on and safe to call twice.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.state == stateClosed {
		p.mu.Unlock()
		return
	}
	started := p.state == stateStarted
	p.state = stateClosed
	if p.cancel != nil {
		p.cancel()
	}
	for _, e := range p.byAddr {
		p.retire(e, started)
	}
	p.mu.Unlock()
	p.resolvedOnce.Do(func() { close(p.resolved) })
	p.wg.Wait()
	for _, rt := range p.closers {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}

// retire stops an endpoint's checker and ejection timer and drops its
// metrics series. The caller holds p.mu.
func (p *Pool) retire(e *endpoint, report bool) {
	e.removed = true
	if e.stopCheck != nil {
		e.stopCheck()
	}
	if e.uneject != nil {
		e.uneject.Stop()
	}
	if report {
		p.obs.EndpointRemoved(e.addr)
	}
}

// wanted is one address the pool should have, and the target it came from.
type wanted struct {
	t    *target
	addr string
}

// apply makes the pool's endpoints those in want, in that order. Endpoints
// that stay keep their state; a new one starts eligible; a removed one
// finishes its requests in progress, which hold it, but gets no more.
// ctx is the pool's goroutines' context, which new endpoints' health
// checkers run under.
func (p *Pool) apply(ctx context.Context, want []wanted) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stateClosed || p.unchanged(want) {
		return
	}
	next := make(map[string]*endpoint, len(want))
	all := make([]*endpoint, 0, len(want))
	added := 0
	for _, w := range want {
		if next[w.addr] != nil {
			continue // the same address twice counts once, as first written
		}
		e := p.byAddr[w.addr]
		if e == nil {
			name := ""
			if _, static := w.t.static(); !static {
				name = w.t.name
			}
			e = newEndpoint(w.addr, name, w.t.weight, w.t.rt)
			added++
			if p.state == stateStarted {
				p.obs.EndpointHealth(e.addr, true)
				p.startCheck(ctx, e)
			}
		}
		next[w.addr] = e
		all = append(all, e)
	}
	removed := 0
	for addr, e := range p.byAddr {
		if next[addr] == nil {
			p.retire(e, p.state == stateStarted)
			removed++
		}
	}
	p.byAddr = next
	p.set.Store(newSet(all, p.balancer == ringHash))
	if p.state == stateStarted && added+removed > 0 {
		p.log.Info().Int("added", added).Int("removed", removed).Int("endpoints", len(all)).Msg("upstream endpoints changed")
	}
}

// closeBody closes a request body that no transport will see.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// unchanged reports whether want is the current set, address for address,
// so that a refresh with the same answers rebuilds nothing.
func (p *Pool) unchanged(want []wanted) bool {
	s := p.set.Load()
	if s == nil || len(s.all) != len(want) {
		return false
	}
	for i, w := range want {
		if s.all[i].addr != w.addr {
			return false
		}
	}
	return true
}
