package report

import (
	"slices"
)

// Summary is what the tables show for one contender in one scenario.
type Summary struct {
	RPS Spread `json:"rps"`
	// P50, P99 and P999 are the medians over the rounds, in microseconds.
	P50  float64 `json:"p50_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p99_9_us"`
	// Errors is the total over the rounds; ErrorKinds splits it by kind.
	Errors     uint64            `json:"errors"`
	ErrorKinds map[string]uint64 `json:"error_kinds,omitempty"`
	// CPUPer10k is the proxy's CPU seconds per 10,000 successful requests,
	// median over the rounds.
	CPUPer10k  float64 `json:"cpu_s_per_10k"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// VsBackend and VsNginx are the median req/s over the backend alone's
	// and over the scenario's baseline's (nginx's, or the one
	// Scenario.Baseline names); zero when that contender did not run.
	VsBackend float64 `json:"vs_backend,omitempty"`
	VsNginx   float64 `json:"vs_nginx,omitempty"`
	// Target is the verdict against the project's target for this scenario
	// ("pass", "falls short", or "" where no target applies) and TargetNote
	// what was compared.
	Target     string `json:"target,omitempty"`
	TargetNote string `json:"target_note,omitempty"`
	// TargetWide is set when a figure the verdict rests on has a spread too
	// wide to conclude from.
	TargetWide bool `json:"target_wide,omitempty"`
	// Cross summarises the external tool's rounds.
	Cross *Spread `json:"cross_rps,omitempty"`
	// CrossP99 is the external tool's median p99 in microseconds.
	CrossP99 float64 `json:"cross_p99_us,omitempty"`
	// Requests is the total over the rounds.
	Requests uint64 `json:"requests"`
	// Reloads, ReloadsApplied and SlowestApply (µs) total and top the
	// rounds' reloads, in the reload scenario; ReloadError is the first
	// reason a reload was not applied.
	Reloads        int     `json:"reloads,omitempty"`
	ReloadsApplied int     `json:"reloads_applied,omitempty"`
	SlowestApply   float64 `json:"slowest_apply_us,omitempty"`
	ReloadError    string  `json:"reload_error,omitempty"`
	// Steady summarises the reload scenario's rounds without reloads.
	Steady *Summary `json:"steady,omitempty"`
}

// Spread is a median with the range it was taken from.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Pct is (max − min) as a percentage of the median; Wide is set when it
	// is over the report's limit, and then the median does not settle a
	// comparison.
	Pct  float64 `json:"spread_pct"`
	Wide bool    `json:"wide,omitempty"`
}

// spreadOf summarises vs; an empty slice gives the zero Spread.
func spreadOf(vs []float64, widePct float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := Spread{Median: median(vs), Min: slices.Min(vs), Max: slices.Max(vs)}
	if s.Median > 0 {
		s.Pct = 100 * (s.Max - s.Min) / s.Median
	}
	s.Wide = s.Pct > widePct
	return s
}

// median of vs, the mean of the middle two for an even count.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarize computes c.Summary from its rounds; failed rounds are left out.
func (c *Contender) summarize(widePct float64) {
	s := roundsSummary(c.Rounds, widePct)
	s.PeakRSSMiB = float64(c.PeakRSS) / (1 << 20)
	if len(c.Steady) > 0 {
		steady := roundsSummary(c.Steady, widePct)
		s.Steady = &steady
	}
	var xr, xp99 []float64
	for _, x := range c.Cross {
		if x.Failed == "" {
			xr = append(xr, x.RPS)
			xp99 = append(xp99, x.P99)
		}
	}
	if len(xr) > 0 {
		sp := spreadOf(xr, widePct)
		s.Cross, s.CrossP99 = &sp, median(xp99)
	}
	c.Summary = s
}

// roundsSummary computes the figures of a list of rounds: medians of the
// rates and percentiles, error and reload totals. Failed rounds count only
// in the totals.
func roundsSummary(rounds []Round, widePct float64) Summary {
	var rps, p50, p99, p999, cpu []float64
	s := Summary{ErrorKinds: map[string]uint64{}}
	for _, r := range rounds {
		for k, v := range r.Errors {
			s.ErrorKinds[k] += v
			s.Errors += v
		}
		s.Reloads += r.Reloads
		s.ReloadsApplied += r.Applied
		s.SlowestApply = max(s.SlowestApply, r.SlowestApply)
		if s.ReloadError == "" {
			s.ReloadError = r.ReloadError
		}
		if r.Failed != "" {
			continue
		}
		s.Requests += r.Requests
		rps = append(rps, r.RPS)
		p50 = append(p50, r.Latency.P50)
		p99 = append(p99, r.Latency.P99)
		p999 = append(p999, r.Latency.P999)
		if r.Requests > 0 {
			cpu = append(cpu, r.CPUSeconds/float64(r.Requests)*1e4)
		}
	}
	s.RPS = spreadOf(rps, widePct)
	s.P50, s.P99, s.P999, s.CPUPer10k = median(p50), median(p99), median(p999), median(cpu)
	if len(s.ErrorKinds) == 0 {
		s.ErrorKinds = nil
	}
	return s
}

// Finish computes every summary, ratio and target verdict from the raw
// rounds. The harness calls it once all scenarios ran; it may be called
// again after the rounds change.
func (r *Report) Finish() {
	for _, sc := range r.Scenarios {
		for _, c := range sc.Contenders {
			c.summarize(r.Method.WidePct)
		}
		base, nginx := sc.find("backend"), sc.find(sc.baseline())
		for _, c := range sc.Contenders {
			c.Summary.VsBackend = ratio(c, base)
			c.Summary.VsNginx = ratio(c, nginx)
		}
	}
	r.judge()
}

// baseline names the contender the × column divides by.
func (sc *Scenario) baseline() string {
	if sc.Baseline != "" {
		return sc.Baseline
	}
	return "nginx"
}

// find returns the named contender if it ran, else nil.
func (sc *Scenario) find(name string) *Contender {
	for _, c := range sc.Contenders {
		if c.Name == name && c.Skipped == "" && c.Summary.RPS.Median > 0 {
			return c
		}
	}
	return nil
}

// ratio is c's median req/s over ref's; zero when either did not run.
func ratio(c, ref *Contender) float64 {
	if ref == nil || c.Skipped != "" || ref.Summary.RPS.Median == 0 {
		return 0
	}
	return c.Summary.RPS.Median / ref.Summary.RPS.Median
}
