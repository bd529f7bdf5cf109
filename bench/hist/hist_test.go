package hist

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// reference is the value of rank ceil(q·n) in sorted order: the definition
// Quantile approximates.
func reference(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// halfBucket is the most a bucket's middle can be from any value in it.
func halfBucket(v int64) int64 {
	lo, hi := bounds(index(uint64(v)))
	return int64(hi-lo+1) / 2
}

func TestQuantileMatchesSortedReference(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) int64
	}{
		{"uniform small", func(r *rand.Rand) int64 { return r.Int64N(200) }},
		{"uniform micro to milli", func(r *rand.Rand) int64 { return 1_000 + r.Int64N(10_000_000) }},
		{"log-normal latencies", func(r *rand.Rand) int64 { return int64(math.Exp(11 + 1.5*r.NormFloat64())) }},
		{"bimodal with a stall", func(r *rand.Rand) int64 {
			if r.IntN(100) == 0 {
				return 2_000_000_000 + r.Int64N(1_000_000)
			}
			return 50_000 + r.Int64N(20_000)
		}},
		{"huge values", func(r *rand.Rand) int64 { return math.MaxInt64 - r.Int64N(1<<40) }},
	}
	quantiles := []float64{0, 0.001, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			vals := make([]int64, 20_000)
			for i := range vals {
				vals[i] = tc.gen(r)
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range quantiles {
				got, want := h.Quantile(q), reference(vals, q)
				if d := got - want; d > halfBucket(want) || -d > halfBucket(want) {
					t.Errorf("Quantile(%v): got %d, want %d ± %d", q, got, want, halfBucket(want))
				}
			}
			if got, want := h.Min(), vals[0]; got != want {
				t.Errorf("Min: got %d, want %d", got, want)
			}
			if got, want := h.Max(), vals[len(vals)-1]; got != want {
				t.Errorf("Max: got %d, want %d", got, want)
			}
		})
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 12345, 1<<63 - 1, 1 << 63, math.MaxUint64}
	for _, v := range values {
		i := index(v)
		lo, hi := bounds(i)
		if v < lo || v > hi {
			t.Errorf("value %d: bucket %d holds [%d, %d], want it to hold the value", v, i, lo, hi)
		}
		if i < 0 || i >= buckets {
			t.Errorf("value %d: got bucket %d, want 0 ≤ i < %d", v, i, buckets)
		}
		if v >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount {
			t.Errorf("value %d: bucket width %d over %d, want relative width ≤ 1/%d", v, hi-lo+1, lo, subCount)
		}
	}
}

func TestMergeAndJSON(t *testing.T) {
	var a, b, all Histogram
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		v := r.Int64N(1_000_000_000)
		all.Record(v)
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	raw, err := json.Marshal(&a)
	if err != nil {
		t.Fatalf("marshal: got %v, want nil", err)
	}
	var back Histogram
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("unmarshal: got %v, want nil", err)
	}
	if back != all {
		t.Errorf("merged and round-tripped histogram: got count %d mean %v, want count %d mean %v",
			back.Count(), back.Mean(), all.Count(), all.Mean())
	}
}

func TestUnmarshalRejectsBadInput(t *testing.T) {
	tests := []struct{ name, in string }{
		{"index out of range", `{"count":1,"buckets":[[99999,1]]}`},
		{"counts do not add up", `{"count":5,"buckets":[[1,1]]}`},
		{"not json", `{"count":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			if err := json.Unmarshal([]byte(tc.in), &h); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("Quantile of empty: got %d, want 0", got)
	}
	if got := h.Mean(); got != 0 {
		t.Errorf("Mean of empty: got %v, want 0", got)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(int64(i) * 7919)
	}
}
