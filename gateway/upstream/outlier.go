package upstream

import (
	"sync/atomic"
	"time"
)

// observe feeds one try's outcome to outlier detection: code is the
// response's status (0 for none) and f how the try failed.
func (p *Pool) observe(e *endpoint, code int, f failure) {
	o := p.outlier
	if o == nil || f == requestFailure {
		// The request failed by its own fault: the endpoint did nothing.
		return
	}
	switch {
	case f != noFailure:
		n5, nl := e.consec5xx.Add(1), e.consecLocal.Add(1)
		if int(n5) >= o.Consecutive5xx || int(nl) >= o.ConsecutiveConnectFailures {
			p.eject(e)
		}
	case code >= 500:
		// The connection worked: local failures are no longer in a row.
		zero(&e.consecLocal)
		if int(e.consec5xx.Add(1)) >= o.Consecutive5xx {
			p.eject(e)
		}
	default:
		zero(&e.consec5xx)
		zero(&e.consecLocal)
	}
}

// zero resets a counter, writing only when it is not zero already, so that
// the common success does not bounce the cache line between cores.
func zero(c *atomic.Int32) {
	if c.Load() != 0 {
		c.Store(0)
	}
}

// eject takes e out of the balancers' choice for its ejection time, unless
// that would eject more than max_ejection_percent of the endpoints or the
// last one.
func (p *Pool) eject(e *endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.consec5xx.Store(0)
	e.consecLocal.Store(0)
	if p.state == stateClosed || e.removed || e.ejected.Load() {
		return
	}
	all := p.set.Load().all
	ejected := 0
	for _, o := range all {
		if o.ejected.Load() {
			ejected++
		}
	}
	if !mayEject(ejected, len(all), p.outlier.MaxEjectionPercent) {
		p.log.Warn().Str("endpoint", e.addr).Int("ejected", ejected).Msg("outlier not ejected: max_ejection_percent reached")
		return
	}
	now := time.Now()
	base := time.Duration(p.outlier.BaseEjectionTime)
	if !e.returned.IsZero() && base > 0 {
		// Time back in the pool earns the endpoint's record back.
		e.ejections = max(0, e.ejections-int(now.Sub(e.returned)/base))
	}
	e.ejections++
	d := base * time.Duration(e.ejections)
	if most := time.Duration(p.outlier.MaxEjectionTime); most > 0 {
		d = min(d, most)
	}
	e.ejected.Store(true)
	e.ejectedUntil = now.Add(d)
	e.uneject = time.AfterFunc(d, func() { p.unEject(e) })
	p.obs.Ejected()
	p.obs.EndpointHealth(e.addr, false)
	p.log.Warn().Str("endpoint", e.addr).Dur("for", d).Int("ejections", e.ejections).Msg("outlier ejected")
}

// mayEject reports whether one more of n endpoints may be ejected when
// ejected already are: never past percent of them, and never the last
// one, unless the pool has one endpoint and the percent is 100.
func mayEject(ejected, n, percent int) bool {
	if n == 1 {
		return ejected == 0 && percent == 100
	}
	return ejected+1 < n && (ejected+1)*100 <= percent*n
}

// unEject returns e to the pool when its ejection time is over.
func (p *Pool) unEject(e *endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stateClosed || e.removed {
		return
	}
	e.ejected.Store(false)
	e.returned = time.Now()
	e.consec5xx.Store(0)
	e.consecLocal.Store(0)
	p.obs.EndpointHealth(e.addr, e.eligible())
	p.log.Info().Str("endpoint", e.addr).Msg("outlier returned to the pool")
}
