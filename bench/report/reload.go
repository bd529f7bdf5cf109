package report

import (
	"fmt"
	"strings"
)

// judgeReload is the reload target: no request fails while the gateway
// reloads. A reload that did not take effect also falls short, since
// errors are no evidence if nothing was reloaded.
func judgeReload(g *Contender) (verdict, note string) {
	s := g.Summary
	for _, r := range g.Rounds {
		if r.Failed != "" {
			return NotJudged, "a round failed: " + r.Failed
		}
	}
	if s.Reloads == 0 {
		return NotJudged, "no reload was due: the rounds are shorter than the reload interval"
	}
	took := fmt.Sprintf("%d of %d reloads applied, the slowest in %s", s.ReloadsApplied, s.Reloads, us(s.SlowestApply))
	switch {
	case s.Errors > 0:
		return FallsShort, fmt.Sprintf("%d of %s requests failed (%s); %s", s.Errors, count(float64(s.Requests)), kinds(s.ErrorKinds), took)
	case s.ReloadsApplied < s.Reloads:
		return FallsShort, fmt.Sprintf("no errors in %s requests, but %s (%s)", count(float64(s.Requests)), took, s.ReloadError)
	}
	return Pass, fmt.Sprintf("no errors in %s requests; %s", count(float64(s.Requests)), took)
}

// applyWithin says how soon a reload had to be in force to count.
func applyWithin(sc *Scenario) string {
	if sc.ApplyWithin == "" || sc.ApplyWithin == sc.ReloadEvery {
		return "before the next reload is due, " + sc.ReloadEvery + " later"
	}
	return "within " + sc.ApplyWithin + " (a reload is due every " + sc.ReloadEvery + ")"
}

// reloadTable is the reload scenario's table: each contender's figures
// while it reloads, beside its own figures without reloads.
func reloadTable(b *strings.Builder, sc *Scenario) {
	fmt.Fprintf(b, "Load: %s. Each round runs twice per contender, first without reloads, then with them; "+
		"a reload rewrites the configuration file, alternating two variants that differ only in a response header, "+
		"and triggers the contender's own reload. It counts as applied when a new connection gets the new header "+
		"%s. In the plot, dashed curves are the rounds without reloads (steady).\n\n",
		sc.Load, applyWithin(sc))
	b.WriteString("| contender | req/s | spread | p50 | p99 | p99.9 | errors | reloads applied | slowest reload | " +
		"without reloads: req/s | p99 | p99.9 | errors | req/s kept | target |\n")
	b.WriteString("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	var skipped, errs []string
	for _, c := range sc.Contenders {
		if c.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("- %s: %s", c.Name, c.Skipped))
			continue
		}
		s := c.Summary
		st := s.Steady
		if st == nil {
			st = &Summary{}
		}
		kept := 0.0
		if st.RPS.Median > 0 {
			kept = s.RPS.Median / st.RPS.Median
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d | %d / %d | %s | %s | %s | %s | %d | %s | %s |\n",
			c.Name, count(s.RPS.Median), spread(s.RPS), us(s.P50), us(s.P99), us(s.P999), s.Errors,
			s.ReloadsApplied, s.Reloads, us(s.SlowestApply),
			count(st.RPS.Median), us(st.P99), us(st.P999), st.Errors, times(kept), s.Target)
		if s.Errors > 0 || failed(c) {
			errs = append(errs, fmt.Sprintf("- %s, during reloads: %s%s", c.Name, kinds(s.ErrorKinds), sample(c)))
		}
		if st.Errors > 0 {
			errs = append(errs, fmt.Sprintf("- %s, without reloads: %s%s", c.Name, kinds(st.ErrorKinds),
				sample(&Contender{Rounds: c.Steady})))
		}
		if s.ReloadsApplied < s.Reloads {
			errs = append(errs, fmt.Sprintf("- %s: reloads not applied: %d (e.g. `%s`)", c.Name,
				s.Reloads-s.ReloadsApplied, strings.ReplaceAll(s.ReloadError, "`", "'")))
		}
	}
	b.WriteString("\n")
	if len(errs) > 0 {
		fmt.Fprintf(b, "Errors by kind:\n\n%s\n\n", strings.Join(errs, "\n"))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(b, "Not run:\n\n%s\n\n", strings.Join(skipped, "\n"))
	}
}
