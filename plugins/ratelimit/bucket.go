package ratelimit

import "math"

// rate is a limit's figures.
type rate struct {
	perSecond float64 // tokens added per second
	burst     float64 // bucket size, a whole number >= 1
}

// bucket is one key's token bucket. It is refilled lazily, when a request
// reads it, from the time elapsed since the last refill, so an idle key
// costs no work and the limiter runs no timer.
type bucket struct {
	tokens float64
	last   int64 // monotonic nanoseconds of the last refill
}

// full returns a bucket as a key's first request finds it.
func full(r *rate, now int64) bucket { return bucket{tokens: r.burst, last: now} }

// take refills b to now and takes one token. It returns 0 when it took one,
// or else the whole seconds until a token is there, rounded up and at least
// 1, for Retry-After.
//
// A now earlier than the last refill, read by a request that waited for the
// bucket's lock behind a later one, refills nothing: time never runs
// backwards for a bucket.
func (b *bucket) take(r *rate, now int64) int64 {
	if d := now - b.last; d > 0 {
		b.tokens = min(r.burst, b.tokens+float64(d)*r.perSecond/1e9)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	// The wait is at most 1/perSecond seconds; the cap keeps the
	// conversion defined even for a vanishing rate, whose wait is +Inf.
	wait := math.Ceil((1 - b.tokens) / r.perSecond)
	return int64(min(max(wait, 1), maxRetryAfter))
}

// maxRetryAfter caps Retry-After at a year: a client told to wait longer
// may as well be told that.
const maxRetryAfter = 365 * 24 * 3600
