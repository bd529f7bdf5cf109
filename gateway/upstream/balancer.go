package upstream

import (
	"net/http"
	"sync/atomic"
)

// The balancers.
const (
	roundRobin = iota
	leastRequest
	ringHash
)

// pick chooses the endpoint for one try, or nil when none is eligible.
// Endpoints in tried are avoided while another is eligible.
func (p *Pool) pick(req *http.Request, a *Attempt, tried []*endpoint) *endpoint {
	s := p.set.Load()
	switch p.balancer {
	case leastRequest:
		return s.leastRequest(&p.rnd, tried)
	case ringHash:
		if key, ok := p.hash.key(req, a); ok {
			return s.ringPick(hashString(key), tried)
		}
	}
	return s.scan(p.next.Add(1)-1, tried, nil)
}

// leastRequest is the power of two choices: two endpoints drawn at random
// in proportion to their weights, the one with fewer requests in progress
// for its weight kept; a tie keeps the first draw, so that an idle pool is
// shared by weight.
func (s *endpointSet) leastRequest(rnd *random, tried []*endpoint) *endpoint {
	first := s.draw(rnd, tried, nil)
	if first == nil {
		return nil
	}
	second := s.draw(rnd, tried, first)
	if second != nil && second.lighter(first) {
		return second
	}
	return first
}

// draws bounds the random draws before draw falls back to a scan, which
// only happens when most slots are ineligible or tried.
const draws = 4

// draw returns a random eligible endpoint other than skip, preferring one
// not in tried.
func (s *endpointSet) draw(rnd *random, tried []*endpoint, skip *endpoint) *endpoint {
	n := uint64(len(s.slots))
	if n == 0 {
		return nil
	}
	for range draws {
		e := s.slots[rnd.next()%n]
		if e != skip && e.eligible() && !e.in(tried) {
			return e
		}
	}
	return s.scan(rnd.next(), tried, skip)
}

// random is a lock-free splitmix64 generator: cheap enough for every
// request, and seedable so that tests of the balancers are repeatable.
type random struct{ state atomic.Uint64 }

func (r *random) next() uint64 {
	z := r.state.Add(0x9e3779b97f4a7c15)
	return mix64(z)
}

// mix64 is splitmix64's finaliser (and murmur3's fmix64 in spirit): it
// spreads every input bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
