package upstream

import "slices"

// endpointSet is the pool's endpoints at one moment. It is never modified:
// a change of endpoints builds a new set and swaps it in, so a request picks
// from one consistent set without a lock.
type endpointSet struct {
	all []*endpoint
	// slots holds each endpoint weight times, spread out smoothly, for
	// weighted round robin and weighted random choice.
	slots []*endpoint
	// ring is the ring_hash ring, sorted by hash; nil for other balancers.
	ring []ringPoint
}

func newSet(all []*endpoint, withRing bool) *endpointSet {
	s := &endpointSet{all: all, slots: spread(all)}
	if withRing {
		s.ring = buildRing(all)
	}
	return s
}

// spread returns the slots of weighted round robin: each endpoint as many
// times as its weight, in nginx's smooth order, so that weights 5, 1, 1 give
// a a b a c a a rather than a a a a a b c.
func spread(all []*endpoint) []*endpoint {
	total := 0
	for _, e := range all {
		total += e.weight
	}
	if total == len(all) {
		return slices.Clone(all) // all weights 1
	}
	slots := make([]*endpoint, 0, total)
	current := make([]int, len(all))
	for range total {
		best := 0
		for i, e := range all {
			current[i] += e.weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		slots = append(slots, all[best])
	}
	return slots
}

// scan returns the first eligible endpoint from slot start on that is not
// in tried and is not skip; failing that, the first eligible one in tried
// (a retry may go back to an endpoint when no other is left); or nil.
func (s *endpointSet) scan(start uint64, tried []*endpoint, skip *endpoint) *endpoint {
	n := len(s.slots)
	if n == 0 {
		return nil
	}
	i := int(start % uint64(n))
	var fallback *endpoint
	for range n {
		e := s.slots[i]
		if i++; i == n {
			i = 0
		}
		switch {
		case e == skip || !e.eligible():
		case !e.in(tried):
			return e
		case fallback == nil:
			fallback = e
		}
	}
	if skip != nil {
		return nil // a second candidate must be another endpoint
	}
	return fallback
}
