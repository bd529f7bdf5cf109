package load

import "github.com/portcullis-gw/portcullis/bench/hist"

// StartMark and StopMark are the lines cmd/load -mark prints on stderr
// when the measured part starts and ends, so the harness can take the
// server's CPU time then and not count the setup (dialling, idle
// connections) or the teardown against it.
const (
	StartMark = "load: measuring"
	StopMark  = "load: measured"
)

// Result is the outcome of one run, written as JSON by cmd/load and read by
// the harness.
type Result struct {
	URL     string  `json:"url"`
	Proto   string  `json:"proto"`
	Mode    string  `json:"mode"` // closed or open
	Conns   int     `json:"conns"`
	Streams int     `json:"streams"`
	Rate    float64 `json:"rate,omitempty"`
	// Seconds is the measured time, from the first request sent to the last
	// answer read.
	Seconds float64 `json:"seconds"`
	// Requests counts successful requests only; errors are counted apart.
	Requests uint64  `json:"requests"`
	RPS      float64 `json:"rps"`
	// Errors counts failed requests by kind (refused, reset, timeout, tls,
	// status_502 …); ErrorSamples keeps the first message of each kind.
	Errors       map[string]uint64 `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	// Unsent counts open-loop requests that fell due but could not be sent
	// before the end: a backlog that says the target fell behind the rate.
	Unsent    uint64 `json:"unsent,omitempty"`
	BodyBytes uint64 `json:"body_bytes"`
	// Idle is the number of idle keep-alive connections held during the run,
	// IdleFailed the number that could not be opened.
	Idle       int `json:"idle,omitempty"`
	IdleFailed int `json:"idle_failed,omitempty"`
	// Latency summarises Histogram in microseconds.
	Latency   Latency         `json:"latency_us"`
	Histogram *hist.Histogram `json:"histogram_ns"`
}

// Latency is a latency summary in microseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Summarize gives the percentiles of h in microseconds.
func Summarize(h *hist.Histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		P50:  us(h.Quantile(0.50)),
		P90:  us(h.Quantile(0.90)),
		P99:  us(h.Quantile(0.99)),
		P999: us(h.Quantile(0.999)),
		Max:  us(h.Max()),
		Mean: h.Mean() / 1e3,
	}
}

// TotalErrors is the number of failed requests of every kind.
func (r *Result) TotalErrors() uint64 {
	var n uint64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// merge folds the workers' tallies into r.
func (r *Result) merge(ts []*tally) {
	r.Histogram = new(hist.Histogram)
	r.Errors = map[string]uint64{}
	r.ErrorSamples = map[string]string{}
	for _, t := range ts {
		r.Histogram.Merge(&t.lat)
		for k, v := range t.errs {
			r.Errors[k] += v
		}
		for k, v := range t.samples {
			if _, ok := r.ErrorSamples[k]; !ok {
				r.ErrorSamples[k] = v
			}
		}
		r.BodyBytes += t.bytes
		r.Unsent += t.unsent
	}
	r.Requests = r.Histogram.Count()
	if r.Seconds > 0 {
		r.RPS = float64(r.Requests) / r.Seconds
	}
	r.Latency = Summarize(r.Histogram)
}
