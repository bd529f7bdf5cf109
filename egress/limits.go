package egress

import (
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
)

// Limiter counts the tunnels and requests in progress, and the rate of new
// ones, by caller and by destination. It outlives configurations: a reload
// changes the limits, not the counts.
type Limiter struct {
	mu      sync.Mutex
	callers map[string]*slot
	dests   map[string]*slot
	calls   int
	now     func() time.Time
}

// slot is one key's open count and token bucket.
type slot struct {
	open   int
	tokens float64
	last   time.Time
}

// NewLimiter returns an empty limiter.
func NewLimiter() *Limiter {
	return &Limiter{callers: make(map[string]*slot), dests: make(map[string]*slot), now: time.Now}
}

// Limit reasons, as logs and metrics name them.
const (
	CallerTunnels      = "caller_tunnel_limit"
	CallerRate         = "caller_rate_limit"
	DestinationTunnels = "destination_tunnel_limit"
	DestinationRate    = "destination_rate_limit"
)

// Acquire takes a place for a new tunnel or request of caller to dest
// under lim, or returns the limit it would break ("" when it got one).
// Each place taken is given back with Release.
func (l *Limiter) Acquire(caller, dest string, lim routes.EgressLimits) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.calls++; l.calls%4096 == 0 {
		l.sweep(now, lim)
	}
	c, d := l.slot(l.callers, caller, lim.PerCaller, now), l.slot(l.dests, dest, lim.PerDestination, now)
	switch {
	case lim.PerCaller.MaxTunnels > 0 && c.open >= lim.PerCaller.MaxTunnels:
		return CallerTunnels
	case lim.PerCaller.PerSecond > 0 && c.tokens < 1:
		return CallerRate
	case lim.PerDestination.MaxTunnels > 0 && d.open >= lim.PerDestination.MaxTunnels:
		return DestinationTunnels
	case lim.PerDestination.PerSecond > 0 && d.tokens < 1:
		return DestinationRate
	}
	c.open++
	d.open++
	if lim.PerCaller.PerSecond > 0 {
		c.tokens--
	}
	if lim.PerDestination.PerSecond > 0 {
		d.tokens--
	}
	return ""
}

// Release gives back a place Acquire took.
func (l *Limiter) Release(caller, dest string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.callers[caller]; s != nil {
		s.open--
	}
	if s := l.dests[dest]; s != nil {
		s.open--
	}
}

// slot returns key's slot in m with its bucket refilled to now.
func (l *Limiter) slot(m map[string]*slot, key string, t routes.TunnelLimits, now time.Time) *slot {
	s := m[key]
	if s == nil {
		s = &slot{tokens: float64(t.Burst), last: now}
		m[key] = s
		return s
	}
	s.tokens = min(float64(t.Burst), s.tokens+now.Sub(s.last).Seconds()*t.PerSecond)
	s.last = now
	return s
}

// sweep forgets the keys with nothing open whose bucket would be full, so
// that the maps hold only callers and destinations that are active.
func (l *Limiter) sweep(now time.Time, lim routes.EgressLimits) {
	for _, m := range []struct {
		slots map[string]*slot
		t     routes.TunnelLimits
	}{{l.callers, lim.PerCaller}, {l.dests, lim.PerDestination}} {
		for k, s := range m.slots {
			full := s.tokens+now.Sub(s.last).Seconds()*m.t.PerSecond >= float64(m.t.Burst)
			if s.open <= 0 && full {
				delete(m.slots, k)
			}
		}
	}
}
