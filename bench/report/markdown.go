package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// targetText says each scenario's target in words, for the summary table.
var targetText = map[string]string{
	"h1":     "req/s ≥ nginx's, p99 ≤ 1.5× nginx's (stretch: HAProxy's req/s)",
	"h2":     "req/s ≥ nginx's",
	"h3":     "req/s ≥ 0.8× the gateway's own h2",
	"conns":  "peak RSS < 100 MiB holding 10,000 idle keep-alive connections",
	"reload": "no errors during reloads",
	// The forward proxy's: a tunnel beside a direct connection, and new
	// TLS tunnels beside squid's.
	"egress-bytes": "bytes/s through a CONNECT tunnel ≥ 0.9× direct (the backend alone)",
	"egress-tls":   "new TLS tunnels per second ≥ squid's",
	// The WAF's, over nginx with ModSecurity v3 on the same CRS v4.
	"waf-get-pl1":    "WAF, benign GET, PL1: req/s ≥ 2× nginx + ModSecurity's (target 3×)",
	"waf-json-pl1":   "WAF, 4 KiB JSON POST, PL1: req/s ≥ 5× nginx + ModSecurity's (target 10×)",
	"waf-attack-pl1": "WAF, attack, PL1: no target; the figures beside nginx + ModSecurity's",
	"waf-get-pl2":    "WAF, benign GET, PL2: req/s ≥ 2× nginx + ModSecurity's (target 3×)",
	"waf-json-pl2":   "WAF, 4 KiB JSON POST, PL2: req/s ≥ 5× nginx + ModSecurity's (target 10×)",
	"waf-attack-pl2": "WAF, attack, PL2: no target; the figures beside nginx + ModSecurity's",
}

// Markdown writes the report as Markdown: the run's facts, a summary of
// the targets, then one section per scenario.
func Markdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Portcullis bench: %s\n\n", r.Name)
	fmt.Fprintf(&b, "Run %s with\n\n```sh\n%s\n```\n\n", r.Date, r.Command)
	header(&b, r)
	targets(&b, r)
	for _, sc := range r.Scenarios {
		scenario(&b, r, sc)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func header(b *strings.Builder, r *Report) {
	m := r.Machine
	pin := "off: every process ran unpinned (taskset missing or pinning disabled)"
	if m.Pinned {
		pin = fmt.Sprintf("load generator on CPU %s; proxy and backend on CPU %s (taskset)", m.LoadCPUs, m.ServerCPUs)
	}
	b.WriteString("| machine | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| CPUs | %d × %s |\n", m.CPUs, m.Model)
	fmt.Fprintf(b, "| kernel | %s |\n", m.Kernel)
	fmt.Fprintf(b, "| Go | %s |\n", m.Go)
	fmt.Fprintf(b, "| pinning | %s |\n", pin)
	fmt.Fprintf(b, "| method | %d rounds × %s per contender, interleaved (A B C … A B C …) after a %s warm-up each; "+
		"medians of the rounds; spread = (max − min) / median, ⚠ above %.0f%% |\n\n",
		r.Method.Rounds, r.Method.Duration, r.Method.Warmup, r.Method.WidePct)
	if len(r.Versions) > 0 {
		b.WriteString("| contender or tool | version |\n| --- | --- |\n")
		for _, v := range r.Versions {
			fmt.Fprintf(b, "| %s | %s |\n", v.Name, cell(v.Version))
		}
		b.WriteString("\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
}

func targets(b *strings.Builder, r *Report) {
	b.WriteString("## Targets\n\n| scenario | target | portcullis | verdict |\n| --- | --- | --- | --- |\n")
	for _, sc := range r.Scenarios {
		t, ok := targetText[sc.Name]
		if !ok {
			continue
		}
		note, v := "did not run", NotJudged
		if sc.Skipped != "" {
			note = sc.Skipped
		} else if g := sc.find(gateway); g != nil && g.Summary.Target != "" {
			note, v = g.Summary.TargetNote, g.Summary.Target
			if g.Summary.TargetWide {
				v += " ⚠ spread too wide to conclude"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | **%s** |\n", sc.Name, t, cell(note), v)
	}
	b.WriteString("\n")
}

func scenario(b *strings.Builder, r *Report, sc *Scenario) {
	fmt.Fprintf(b, "## %s: %s\n\n", sc.Name, sc.Title)
	if sc.Skipped != "" {
		fmt.Fprintf(b, "Skipped: %s\n\n", sc.Skipped)
		return
	}
	if sc.ReloadEvery != "" {
		reloadTable(b, sc)
		plot(b, sc)
		return
	}
	fmt.Fprintf(b, "Load: %s.\n\n", sc.Load)
	fmt.Fprintf(b, "| contender | req/s | spread | p50 | p99 | p99.9 | errors | CPU s / 10k req | peak RSS | × backend | × %s | target |\n", sc.baseline())
	b.WriteString("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	var skipped, errs []string
	for _, c := range sc.Contenders {
		if c.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("- %s: %s", c.Name, c.Skipped))
			continue
		}
		s := c.Summary
		target := s.Target
		if s.TargetWide {
			target += " ⚠"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d | %.2f | %s | %s | %s | %s |\n",
			c.Name, count(s.RPS.Median), spread(s.RPS), us(s.P50), us(s.P99), us(s.P999), s.Errors,
			s.CPUPer10k, mib(s.PeakRSSMiB), times(s.VsBackend), times(s.VsNginx), target)
		if s.Errors > 0 || failed(c) {
			errs = append(errs, fmt.Sprintf("- %s: %s%s", c.Name, kinds(s.ErrorKinds), sample(c)))
		}
	}
	b.WriteString("\n")
	cross(b, sc)
	if len(errs) > 0 {
		fmt.Fprintf(b, "Errors by kind:\n\n%s\n\n", strings.Join(errs, "\n"))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(b, "Not run:\n\n%s\n\n", strings.Join(skipped, "\n"))
	}
	plot(b, sc)
}

// plot links the scenario's latency plot, if it has one.
func plot(b *strings.Builder, sc *Scenario) {
	if sc.Plot != "" {
		fmt.Fprintf(b, "![Latency percentiles of each contender, %s](%s)\n\n", sc.Name, sc.Plot)
	}
}

// cross writes the external tool's figures beside the harness's own, so a
// reader can see the load generator agrees with a tool they know.
func cross(b *strings.Builder, sc *Scenario) {
	var rows []string
	tool := ""
	for _, c := range sc.Contenders {
		if c.Skipped != "" || c.Summary.Cross == nil {
			continue
		}
		tool = c.CrossTool
		x := c.Summary.Cross
		agree := "–"
		if c.Summary.RPS.Median > 0 {
			agree = fmt.Sprintf("%.2f", x.Median/c.Summary.RPS.Median)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |",
			c.Name, count(c.Summary.RPS.Median), count(x.Median), spread(*x), agree, us(c.Summary.CrossP99)))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "Cross-check with %s on the same contenders, same connections, same rounds:\n\n", tool)
	fmt.Fprintf(b, "| contender | load req/s | %s req/s | %s spread | %s / load | %s p99 |\n", tool, tool, tool, tool)
	b.WriteString("| --- | ---: | ---: | --- | ---: | ---: |\n")
	b.WriteString(strings.Join(rows, "\n"))
	b.WriteString("\n\n")
}

// failed says whether any round of c produced no figures.
func failed(c *Contender) bool {
	for _, r := range c.Rounds {
		if r.Failed != "" {
			return true
		}
	}
	return false
}

// kinds lists error counts by kind in a stable order.
func kinds(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// sample is the first error message of a contender's rounds.
func sample(c *Contender) string {
	for _, r := range c.Rounds {
		if r.ErrorSample != "" {
			return fmt.Sprintf(" (e.g. `%s`)", strings.ReplaceAll(r.ErrorSample, "`", "'"))
		}
		if r.Failed != "" {
			return fmt.Sprintf(" (round failed: `%s`)", strings.ReplaceAll(r.Failed, "`", "'"))
		}
	}
	return ""
}

// cell makes a value safe inside a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
