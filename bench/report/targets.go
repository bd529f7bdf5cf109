package report

import (
	"fmt"
	"strings"
)

// The project's targets, as the bench issue states them.
const (
	// gateway is the contender the targets are for.
	gateway = "portcullis"
	// h1P99Factor: plain h1 p99 no worse than 1.5× nginx's.
	h1P99Factor = 1.5
	// h3OverH2: h3 at least 0.8× the gateway's own h2 in the same run.
	h3OverH2 = 0.8
	// idleRSSLimit: 10,000 idle keep-alive connections under 100 MiB.
	idleRSSLimit = 100
	idleConns    = 10_000
	// egressOverDirect: bytes through a tunnel at least 0.9× direct.
	egressOverDirect = 0.9
)

// The WAF's floors and targets: req/s over nginx with ModSecurity on the
// same CRS, by load.
var wafGoals = map[string]struct{ floor, target float64 }{
	"get":  {2, 3},
	"json": {5, 10},
}

// Verdicts. FloorMet is a WAF figure past its floor and short of its
// target.
const (
	Pass       = "pass"
	FloorMet   = "floor met"
	FallsShort = "falls short"
	NotJudged  = "n/a"
)

// judge sets the gateway's verdict in every scenario that has a target.
func (r *Report) judge() {
	for _, sc := range r.Scenarios {
		g := sc.find(gateway)
		if g == nil {
			continue
		}
		s := &g.Summary
		nginx := sc.find("nginx")
		switch sc.Name {
		case "h1":
			if nginx == nil {
				s.Target, s.TargetNote = NotJudged, "nginx did not run"
				break
			}
			n := nginx.Summary
			ok := s.RPS.Median >= n.RPS.Median && s.P99 <= h1P99Factor*n.P99
			s.TargetNote = fmt.Sprintf("req/s %.2f× nginx (≥ 1); p99 %.2f× nginx (≤ %.1f)",
				s.RPS.Median/n.RPS.Median, s.P99/n.P99, h1P99Factor)
			if hap := sc.find("haproxy"); hap != nil {
				s.TargetNote += fmt.Sprintf("; stretch: %.2f× haproxy", s.RPS.Median/hap.Summary.RPS.Median)
			}
			s.Target, s.TargetWide = verdict(ok), unsettled(s.RPS, n.RPS, 1)
		case "h2":
			if nginx == nil {
				s.Target, s.TargetNote = NotJudged, "nginx did not run"
				break
			}
			n := nginx.Summary
			s.Target = verdict(s.RPS.Median >= n.RPS.Median)
			s.TargetNote = fmt.Sprintf("req/s %.2f× nginx (≥ 1)", s.RPS.Median/n.RPS.Median)
			s.TargetWide = unsettled(s.RPS, n.RPS, 1)
		case "h3":
			h2 := r.scenario("h2")
			var own *Contender
			if h2 != nil {
				own = h2.find(gateway)
			}
			if own == nil {
				s.Target, s.TargetNote = NotJudged, "the gateway's h2 scenario did not run"
				break
			}
			o := own.Summary
			s.Target = verdict(s.RPS.Median >= h3OverH2*o.RPS.Median)
			s.TargetNote = fmt.Sprintf("req/s %.2f× own h2 (≥ %.1f)", s.RPS.Median/o.RPS.Median, h3OverH2)
			s.TargetWide = unsettled(s.RPS, o.RPS, h3OverH2)
		case "conns":
			s.TargetNote = fmt.Sprintf("peak RSS %.1f MiB with %s idle connections (< %d MiB with %s)",
				s.PeakRSSMiB, count(float64(sc.Idle)), idleRSSLimit, count(idleConns))
			s.Target = verdict(s.PeakRSSMiB < idleRSSLimit)
			if sc.Idle < idleConns {
				s.Target = NotJudged
			}
		case "reload":
			s.Target, s.TargetNote = judgeReload(g)
		case "egress-bytes":
			judgeOver(s, sc.find("backend"), "direct", egressOverDirect)
		case "egress-tls":
			judgeOver(s, sc.find("squid"), "squid", 1)
		}
		if strings.HasPrefix(sc.Name, "waf-") {
			judgeWAF(sc, g)
		}
	}
}

// unsettled says whether noise could turn the comparison "a ≥ factor × b"
// around: a spread is too wide and the two ranges overlap. Ranges that do
// not overlap settle it whatever their width.
func unsettled(a, b Spread, factor float64) bool {
	if !a.Wide && !b.Wide {
		return false
	}
	return a.Min < factor*b.Max && a.Max >= factor*b.Min
}

func verdict(ok bool) string {
	if ok {
		return Pass
	}
	return FallsShort
}

// scenario returns the named scenario if it ran.
func (r *Report) scenario(name string) *Scenario {
	for _, sc := range r.Scenarios {
		if sc.Name == name && sc.Skipped == "" {
			return sc
		}
	}
	return nil
}

// judgeWAF sets the gateway's verdict in a WAF scenario (waf-<load>-pl<n>)
// against the floor and target of its load, and gives its CPU per request
// and latency beside the baseline's; the attack load has no target.
func judgeWAF(sc *Scenario, g *Contender) {
	s := &g.Summary
	base := sc.find(sc.baseline())
	if base == nil {
		s.Target, s.TargetNote = NotJudged, sc.baseline()+" did not run"
		return
	}
	b := base.Summary
	r := s.RPS.Median / b.RPS.Median
	s.TargetNote = fmt.Sprintf("req/s %.2f× %s", r, sc.baseline())
	kind, _, _ := strings.Cut(strings.TrimPrefix(sc.Name, "waf-"), "-")
	goal, ok := wafGoals[kind]
	if ok {
		s.TargetNote += fmt.Sprintf(" (floor ≥ %g, target ≥ %g)", goal.floor, goal.target)
	}
	if b.CPUPer10k > 0 && s.CPUPer10k > 0 {
		s.TargetNote += fmt.Sprintf("; CPU per request %.2f× its", s.CPUPer10k/b.CPUPer10k)
	}
	s.TargetNote += fmt.Sprintf("; p50 %s vs %s, p99 %s vs %s", us(s.P50), us(b.P50), us(s.P99), us(b.P99))
	switch {
	case !ok:
		s.Target = NotJudged
	case r >= goal.target:
		s.Target = Pass
	case r >= goal.floor:
		s.Target = FloorMet
	default:
		s.Target = FallsShort
	}
	if ok {
		s.TargetWide = unsettled(s.RPS, b.RPS, goal.floor)
	}
}

// judgeOver judges "req/s ≥ factor × other's", other being named name in
// the note.
func judgeOver(s *Summary, other *Contender, name string, factor float64) {
	if other == nil {
		s.Target, s.TargetNote = NotJudged, name+" did not run"
		return
	}
	o := other.Summary
	s.Target = verdict(s.RPS.Median >= factor*o.RPS.Median)
	s.TargetNote = fmt.Sprintf("req/s %.2f× %s (≥ %g)", s.RPS.Median/o.RPS.Median, name, factor)
	if o.CPUPer10k > 0 && s.CPUPer10k > 0 {
		s.TargetNote += fmt.Sprintf("; CPU per request %.2f× its", s.CPUPer10k/o.CPUPer10k)
	}
	s.TargetWide = unsettled(s.RPS, o.RPS, factor)
}
