package report

import "fmt"

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
)

// Verdicts.
const (
	Pass       = "pass"
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
