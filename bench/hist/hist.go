// Package hist is a log-bucketed latency histogram in the manner of
// HdrHistogram: values below 128 are counted exactly and every power of two
// above is split into 128 linear sub-buckets, so any recorded value is known
// to within 1/128 (0.8%) of itself at a fixed memory cost and with an
// allocation-free Record. Histograms merge by adding counts, which lets each
// load worker keep its own and the results of several rounds be combined.
package hist

import (
	"math"
	"math/bits"
)

const (
	subBits  = 7
	subCount = 1 << subBits
	// buckets covers every uint64: 128 exact values, then 128 sub-buckets for
	// each of the exponents 7..63.
	buckets = subCount + (64-subBits)*subCount
)

// Histogram counts non-negative integer values (nanoseconds, in this
// project) in log-linear buckets. The zero value is ready to use; it is not
// safe for concurrent use, so each goroutine records into its own and the
// results are merged.
type Histogram struct {
	counts [buckets]uint64
	total  uint64
	min    uint64
	max    uint64
	sum    float64
}

// index maps a value to its bucket.
func index(v uint64) int {
	if v < subCount {
		return int(v)
	}
	msb := bits.Len64(v) - 1
	shift := msb - subBits
	sub := (v >> shift) & (subCount - 1)
	return subCount + shift*subCount + int(sub)
}

// bounds is the lowest and highest value that land in bucket i.
func bounds(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := (i - subCount) / subCount
	sub := uint64((i - subCount) % subCount)
	lo = (uint64(1) << (shift + subBits)) | sub<<shift
	return lo, lo + (uint64(1) << shift) - 1
}

// Record counts one value; negative values count as zero, since a latency
// can only be negative through a clock step and zero is the honest floor.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	h.counts[index(u)]++
	if h.total == 0 || u < h.min {
		h.min = u
	}
	if u > h.max {
		h.max = u
	}
	h.total++
	h.sum += float64(u)
}

// Merge adds every count of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min is the smallest value recorded, exactly; zero when empty.
func (h *Histogram) Min() int64 { return int64(h.min) }

// Max is the largest value recorded, exactly; zero when empty.
func (h *Histogram) Max() int64 { return int64(h.max) }

// Mean is the exact mean of the values recorded; zero when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile is the value at quantile q (0.99 for p99): the value of rank
// ceil(q·n) in sorted order, given as the middle of its bucket and clamped to
// the exact minimum and maximum, so it is within half a bucket (≤ 0.4%) of
// the true value. It is zero for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	rank = min(rank, h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bounds(i)
			mid := lo + (hi-lo)/2
			return int64(min(max(mid, h.min), h.max))
		}
	}
	return int64(h.max)
}
