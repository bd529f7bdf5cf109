// Package ratelimit is the rate_limit plugin: token buckets per key (the
// client's address, a header, the route, or the caller's principal), held in
// a bounded LRU cache so that a flood of distinct keys cannot grow memory
// without bound. A request over the limit is refused with 429, Retry-After
// and the response flag RL, which the gateway's access log and request
// metrics record.
package ratelimit

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/portcullis-gw/portcullis/plugins"
)

var _ plugins.Handler = (*RateLimit)(nil)

// RateLimit is one route's limit. The routes file builds one per route, even
// for a limit listed on a virtual host, so each route's buckets are its own.
// It is safe for concurrent use.
type RateLimit struct {
	keyer   keyer
	rate    rate
	buckets *table
	// now reads the monotonic clock in nanoseconds; tests replace it.
	now func() int64
	// rejects caches the answers for waits of 1 to len(rejects) seconds,
	// each built at its first use, so that refusing a flood allocates
	// nothing.
	rejects []atomic.Pointer[plugins.Reject]
}

// maxCached bounds the answers cached. A rate of at least one a second never
// asks to wait more than a second; slower rates need up to 1/per_second
// seconds, and waits past an hour build their answer each time.
const maxCached = 3600

func newRateLimit(k keyer, r rate, t *table, now func() int64) *RateLimit {
	n := int(min(maxCached, math.Ceil(1/r.perSecond)))
	return &RateLimit{keyer: k, rate: r, buckets: t, now: now, rejects: make([]atomic.Pointer[plugins.Reject], n)}
}

// HandleRequest takes a token from the request's bucket, or refuses the
// request with 429 when there is none.
func (h *RateLimit) HandleRequest(_ context.Context, req *plugins.Request) error {
	wait := h.buckets.take(h.keyer.of(req), &h.rate, h.now())
	if wait == 0 {
		return nil
	}
	if wait > int64(len(h.rejects)) {
		return reject(wait)
	}
	slot := &h.rejects[wait-1]
	rej := slot.Load()
	if rej == nil {
		// Two requests may both build it; either answer is right.
		rej = reject(wait)
		slot.Store(rej)
	}
	return rej
}

// reject builds the answer to a request that must wait secs seconds. It is
// shared by every request refused with the same wait: the gateway only
// reads a Reject, and the header's value slice has no spare capacity, so an
// append to it copies.
func reject(secs int64) *plugins.Reject {
	return &plugins.Reject{
		Status:  http.StatusTooManyRequests,
		Body:    "local_rate_limited",
		Flag:    "RL",
		Details: "local_rate_limited",
		Header:  http.Header{"Retry-After": []string{strconv.FormatInt(secs, 10)}[:1:1]},
	}
}
