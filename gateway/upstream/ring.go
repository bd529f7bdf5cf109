package upstream

import (
	"slices"
	"strconv"
)

// pointsPerWeight is the ring points per unit of weight. With 100 points an
// endpoint's share of the ring is within a few percent of its weight's
// share, and a ring of a hundred endpoints is 10,000 points (160 KB).
const pointsPerWeight = 100

// ringPoint is one point of the ring_hash ring.
type ringPoint struct {
	hash uint64
	e    *endpoint
}

// buildRing places each endpoint at pointsPerWeight × weight points, hashed
// from its address, Ketama's way. A point depends only on its own endpoint,
// so removing an endpoint moves only the keys that fell on its points.
func buildRing(all []*endpoint) []ringPoint {
	var ring []ringPoint
	for _, e := range all {
		for i := range pointsPerWeight * e.weight {
			ring = append(ring, ringPoint{hashString(e.addr + "_" + strconv.Itoa(i)), e})
		}
	}
	slices.SortFunc(ring, func(a, b ringPoint) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	return ring
}

// ringPick returns the endpoint of the first point at or after h, walking on
// past ineligible endpoints and, while another is eligible, tried ones.
func (s *endpointSet) ringPick(h uint64, tried []*endpoint) *endpoint {
	n := len(s.ring)
	if n == 0 {
		return nil
	}
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.ring[mid].hash < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	var fallback *endpoint
	for k := range n {
		i := lo + k
		if i >= n {
			i -= n
		}
		e := s.ring[i].e
		switch {
		case !e.eligible():
		case !e.in(tried):
			return e
		case fallback == nil:
			fallback = e
		}
	}
	return fallback
}

// hashString is 64-bit FNV-1a with a final mix: FNV alone leaves keys that
// differ only in their last bytes close together on the ring.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}
