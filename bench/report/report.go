// Package report holds the bench's results and renders them: a Markdown
// table per scenario with every contender's ratio to the backend alone and
// to nginx and a pass/fall-short column against the project's targets, the
// same data as JSON, and an SVG plot of the latency distributions. The
// figures that decide (medians, spreads, ratios, targets) are computed here
// from the raw rounds, so the report cannot disagree with its own data.
package report

import (
	"github.com/portcullis-gw/portcullis/bench/hist"
	"github.com/portcullis-gw/portcullis/bench/load"
)

// Report is one run of the harness.
type Report struct {
	// Date is when the run started, RFC 3339.
	Date string `json:"date"`
	// Name is the scenario set, used in file names ("h1-h2" or "all").
	Name     string    `json:"name"`
	Command  string    `json:"command"`
	Machine  Machine   `json:"machine"`
	Versions []Version `json:"versions"`
	Method   Method    `json:"method"`
	// Notes are facts about the run a reader must know (a peer not
	// installed, pinning off).
	Notes     []string    `json:"notes,omitempty"`
	Scenarios []*Scenario `json:"scenarios"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs   int    `json:"cpus"`
	Model  string `json:"model"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	// Pinned says whether taskset placed the load generator on LoadCPUs and
	// the servers on ServerCPUs.
	Pinned     bool   `json:"pinned"`
	LoadCPUs   string `json:"load_cpus,omitempty"`
	ServerCPUs string `json:"server_cpus,omitempty"`
}

// Version is a contender's or tool's version as it reports it.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Method is how the figures were taken.
type Method struct {
	Rounds   int    `json:"rounds"`
	Duration string `json:"duration"`
	Warmup   string `json:"warmup"`
	// WidePct is the spread, in percent of the median, above which a figure
	// is flagged as too noisy to conclude from.
	WidePct float64 `json:"wide_pct"`
}

// Scenario is the results of one scenario for every contender.
type Scenario struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Load describes the load: protocol, connections, request.
	Load string `json:"load"`
	// Idle is the number of idle keep-alive connections held during the
	// measurement, for the many-connections scenario.
	Idle int `json:"idle,omitempty"`
	// ReloadEvery is the interval between reloads in the reload scenario,
	// whose rounds run while each contender reloads its configuration;
	// empty in every other scenario.
	ReloadEvery string `json:"reload_every,omitempty"`
	// ApplyWithin is how long a reload had to be in force to count as
	// applied; empty in older reports, where it was ReloadEvery.
	ApplyWithin string `json:"apply_within,omitempty"`
	// Baseline is the contender the × column divides by: nginx, unless
	// the scenario names another (nginx with ModSecurity in the WAF
	// scenarios).
	Baseline string `json:"baseline,omitempty"`
	// Skipped says why the scenario did not run; empty when it ran.
	Skipped    string       `json:"skipped,omitempty"`
	Contenders []*Contender `json:"contenders,omitempty"`
	// Plot is the file name of the latency plot, beside the Markdown.
	Plot string `json:"plot,omitempty"`
}

// Contender is one contender's rounds in one scenario.
type Contender struct {
	Name string `json:"name"`
	// Skipped says why the contender did not run in this scenario.
	Skipped string  `json:"skipped,omitempty"`
	Rounds  []Round `json:"rounds,omitempty"`
	// CrossTool names the external tool (wrk, h2load) whose rounds are in
	// Cross; empty when there is none.
	CrossTool string  `json:"cross_tool,omitempty"`
	Cross     []Cross `json:"cross,omitempty"`
	// PeakRSS is the proxy's peak resident memory in bytes (VmHWM, summed
	// over its processes) at the end of the scenario.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// Hist is every round's latencies merged, for the plot.
	Hist *hist.Histogram `json:"-"`
	// Steady are the reload scenario's rounds without reloads, run beside
	// those with them, so a reader sees what the reloads cost; SteadyHist
	// merges their latencies.
	Steady     []Round         `json:"steady_rounds,omitempty"`
	SteadyHist *hist.Histogram `json:"-"`
	Summary    Summary         `json:"summary"`
}

// Round is one measured run of the load generator.
type Round struct {
	RPS      float64           `json:"rps"`
	Requests uint64            `json:"requests"`
	Errors   map[string]uint64 `json:"errors,omitempty"`
	// ErrorSample is one error message, to say what went wrong.
	ErrorSample string       `json:"error_sample,omitempty"`
	Latency     load.Latency `json:"latency_us"`
	// CPUSeconds is the proxy's user+system CPU time during the round.
	CPUSeconds float64 `json:"cpu_seconds"`
	// Failed says why the round produced no figures.
	Failed string `json:"failed,omitempty"`
	// Reloads counts the reloads triggered during the round, in the reload
	// scenario; Applied those the contender answered with (the new
	// variant, on a new connection) before the next was due, and
	// SlowestApply is the longest wait for that, in microseconds.
	Reloads      int     `json:"reloads,omitempty"`
	Applied      int     `json:"reloads_applied,omitempty"`
	SlowestApply float64 `json:"slowest_apply_us,omitempty"`
	// ReloadError is one reason a reload was not applied.
	ReloadError string `json:"reload_error,omitempty"`
}

// Cross is one round of an external load tool, for the cross-check.
type Cross struct {
	RPS    float64 `json:"rps"`
	P50    float64 `json:"p50_us,omitempty"`
	P99    float64 `json:"p99_us,omitempty"`
	Errors uint64  `json:"errors"`
	Failed string  `json:"failed,omitempty"`
}
