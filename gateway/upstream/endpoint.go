package upstream

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// endpoint is one address of a pool. The balancers read its eligibility and
// load without locks; the rest of its state belongs to the pool's mutex or,
// for the probe counts, to its health checker.
type endpoint struct {
	addr   string // ip:port, the key of its state
	name   string // host:port as written, when the address came from DNS
	weight int
	rt     http.RoundTripper

	active  atomic.Int64 // requests in progress
	healthy atomic.Bool  // the active health check's verdict
	ejected atomic.Bool  // by outlier detection

	// Consecutive failures for outlier detection: 5xx answers and local
	// failures, and local failures alone.
	consec5xx, consecLocal atomic.Int32

	// Guarded by Pool.mu.
	ejections    int
	ejectedUntil time.Time
	returned     time.Time // when the last ejection ended
	uneject      *time.Timer
	stopCheck    context.CancelFunc
	removed      bool

	// Owned by the health checker goroutine.
	probesOK, probesFailed int
}

func newEndpoint(addr, name string, weight int, rt http.RoundTripper) *endpoint {
	e := &endpoint{addr: addr, name: name, weight: weight, rt: rt}
	e.healthy.Store(true)
	return e
}

// eligible reports whether the balancers may pick the endpoint.
func (e *endpoint) eligible() bool { return e.healthy.Load() && !e.ejected.Load() }

// lighter reports whether e carries less load than o for its weight:
// e.active/e.weight < o.active/o.weight, without division.
func (e *endpoint) lighter(o *endpoint) bool {
	return e.active.Load()*int64(o.weight) < o.active.Load()*int64(e.weight)
}

// in reports whether e is among tried.
func (e *endpoint) in(tried []*endpoint) bool {
	for _, t := range tried {
		if t == e {
			return true
		}
	}
	return false
}
