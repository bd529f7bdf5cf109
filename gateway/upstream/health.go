package upstream

import (
	"context"
	"io"
	"net/http"
	"time"
)

// healthUserAgent tells an endpoint's logs the gateway's probes apart.
const healthUserAgent = "portcullis-health-check"

// startCheck starts e's active health checker, if the upstream has one. The
// caller holds p.mu.
func (p *Pool) startCheck(ctx context.Context, e *endpoint) {
	if p.spec.Health == nil || p.spec.Builtin != "" {
		return
	}
	ctx, e.stopCheck = context.WithCancel(ctx)
	p.wg.Add(1)
	go p.checkLoop(ctx, e)
}

// checkLoop probes e at once and then every interval, until ctx ends.
func (p *Pool) checkLoop(ctx context.Context, e *endpoint) {
	defer p.wg.Done()
	t := time.NewTicker(time.Duration(p.spec.Health.Interval))
	defer t.Stop()
	for {
		ok := p.probe(ctx, e)
		if ctx.Err() != nil {
			return
		}
		p.record(e, ok)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe sends one health check and reports whether the status was expected.
func (p *Pool) probe(ctx context.Context, e *endpoint) bool {
	h := p.spec.Health
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.scheme+"://"+e.addr+h.Path, nil)
	if err != nil {
		return false
	}
	if e.name != "" {
		req.Host = e.name
	}
	req.Header.Set("User-Agent", healthUserAgent)
	resp, err := e.rt.RoundTrip(req)
	if err != nil {
		return false
	}
	// Drain a little, so that the connection can serve the next probe.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	for _, r := range h.ExpectedStatuses {
		if r.Contains(resp.StatusCode) {
			return true
		}
	}
	return false
}

// record counts a probe's outcome and turns e down after
// unhealthy_threshold failures in a row, up after healthy_threshold
// successes.
func (p *Pool) record(e *endpoint, ok bool) {
	h := p.spec.Health
	if ok {
		e.probesOK, e.probesFailed = e.probesOK+1, 0
	} else {
		e.probesOK, e.probesFailed = 0, e.probesFailed+1
	}
	healthy := e.healthy.Load()
	switch {
	case !healthy && e.probesOK >= h.HealthyThreshold:
		p.setHealthy(e, true)
	case healthy && e.probesFailed >= h.UnhealthyThreshold:
		p.setHealthy(e, false)
	}
}

func (p *Pool) setHealthy(e *endpoint, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.removed {
		return
	}
	e.healthy.Store(healthy)
	p.obs.EndpointHealth(e.addr, e.eligible())
	if healthy {
		p.log.Info().Str("endpoint", e.addr).Msg("health check passed: endpoint up")
	} else {
		p.log.Warn().Str("endpoint", e.addr).Msg("health check failed: endpoint down")
	}
}
