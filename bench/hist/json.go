package hist

import (
	"encoding/json"
	"fmt"
)

// wire is the JSON form: only the non-empty buckets, as [index, count]
// pairs, so a histogram of a few hundred distinct latencies stays small and
// two processes (the load generator and the harness) can exchange it.
type wire struct {
	Count   uint64      `json:"count"`
	Min     uint64      `json:"min"`
	Max     uint64      `json:"max"`
	Sum     float64     `json:"sum"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON writes the histogram with its non-empty buckets only.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := wire{Count: h.total, Min: h.min, Max: h.max, Sum: h.sum, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote, refusing bucket indexes out of
// range and counts that do not add up to the total.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	*h = Histogram{}
	var n uint64
	for _, p := range w.Buckets {
		if p[0] >= buckets {
			return fmt.Errorf("histogram: bucket index %d out of range", p[0])
		}
		h.counts[p[0]] += p[1]
		n += p[1]
	}
	if n != w.Count {
		return fmt.Errorf("histogram: buckets hold %d values, count says %d", n, w.Count)
	}
	h.total, h.min, h.max, h.sum = w.Count, w.Min, w.Max, w.Sum
	return nil
}
