package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxRequestSeries bounds the label sets of Istio's request metrics, a
// fixed bound. Each label set costs a counter and three histograms: 67
// lines and about 50 KB of scrape page, since every line carries the 25
// labels. The labels a client can steer (the host under a wildcard virtual
// host, the response code, the flags, the protocol and the gRPC status)
// multiply, so without a bound a few thousand hostile requests made a page
// of tens of megabytes. 256 label sets cap these metrics at about 14 MB and
// 17,500 lines of page, above what a gateway's own upstreams and their
// usual codes make; past the bound, requests are counted in the overflow
// series and in portcullis_metrics_series_folded_total.
const maxRequestSeries = 256

// maxClientSeries is the part of maxRequestSeries open to label sets that
// name no upstream (destination_service from the Host header, or
// "unknown": 404s, redirects, local replies), whose variety the clients
// choose. The rest is kept for the label sets of the config's upstreams,
// so that hosts and codes a client invents cannot crowd an upstream's own
// failures out of the page.
const maxClientSeries = 64

// series is one label set's resolved counter and histograms.
type series struct {
	requests      prometheus.Counter
	duration      prometheus.Observer
	requestBytes  prometheus.Observer
	responseBytes prometheus.Observer
}

// seriesCache maps a seriesKey to its resolved series, and is the record of
// every label set the request metrics hold: it is never emptied, and it
// takes no key past max. Reads take a shared lock, so concurrent requests
// do not serialise on it.
type seriesCache struct {
	mu  sync.RWMutex
	m   map[seriesKey]*series
	max int
	// maxClient bounds the label sets that name no upstream, client the
	// number held.
	maxClient, client int
}

// get returns the cached series for k, or nil.
func (c *seriesCache) get(k *seriesKey) *series {
	c.mu.RLock()
	s := c.m[*k]
	c.mu.RUnlock()
	return s
}

// add returns the series for k, resolving it in vecs the first time; nil
// when k is new and the cache is full, or its share for label sets that
// name no upstream is, so that no series is created. It
// takes the vectors rather than a function so that k does not escape to
// the heap on every request.
func (c *seriesCache) add(k *seriesKey, vecs *istioVecs) *series {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[*k]; ok {
		return s
	}
	byClient := k.DestinationServiceName == ""
	if len(c.m) >= c.max || byClient && c.client >= c.maxClient {
		return nil
	}
	s := vecs.resolve(k)
	c.m[*k] = s
	if byClient {
		c.client++
	}
	return s
}

// len returns the number of label sets.
func (c *seriesCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
