package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxCachedSeries bounds the cache of resolved series. The label values are
// bounded by config (and by maxHostLabels for hosts), so a working gateway
// stays far below it; the bound is a backstop, not a tuning knob.
const maxCachedSeries = 4096

// series is one label set's resolved counter and histograms.
type series struct {
	requests      prometheus.Counter
	duration      prometheus.Observer
	requestBytes  prometheus.Observer
	responseBytes prometheus.Observer
}

// seriesCache maps a seriesKey to its resolved series. Reads take a shared
// lock, so concurrent requests do not serialise on it; when the cache is
// full it is emptied rather than evicted entry by entry, which keeps the
// read path free of LRU bookkeeping (an LRU's Get needs the exclusive lock).
// Emptying loses nothing: the series stay in the vectors and are resolved
// again on the next miss.
type seriesCache struct {
	mu  sync.RWMutex
	m   map[seriesKey]*series
	max int
}

// get returns the cached series for k, or nil.
func (c *seriesCache) get(k *seriesKey) *series {
	c.mu.RLock()
	s := c.m[*k]
	c.mu.RUnlock()
	return s
}

// add caches s under k and returns the series now cached for k.
func (c *seriesCache) add(k *seriesKey, s *series) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[*k]; ok {
		return old
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[*k] = s
	return s
}

// len returns the number of cached series.
func (c *seriesCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
