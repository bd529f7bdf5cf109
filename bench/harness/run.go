package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/portcullis-gw/portcullis/bench/hist"
	"github.com/portcullis-gw/portcullis/bench/load"
	"github.com/portcullis-gw/portcullis/bench/report"
)

// instance is a contender running for one scenario.
type instance struct {
	c    *contender
	a    addrs
	proc *process
	res  *report.Contender
	// rel reloads it in the reload scenario.
	rel *reloader
}

// scenario runs one scenario: it starts the backend and every contender,
// warms each up, then runs the rounds interleaved and stops them all.
func (h *harness) scenario(ctx context.Context, sc scenario) *report.Scenario {
	idle := 0
	if sc.idle {
		idle = h.opt.Idle
	}
	out := &report.Scenario{Name: sc.name, Title: sc.title, Load: sc.describe(idle, h.opt.ReloadEvery), Idle: idle}
	if sc.reload {
		out.ReloadEvery = h.opt.ReloadEvery.String()
		out.ApplyWithin = h.opt.ApplyWithin.String()
	}
	if sc.missing != "" {
		out.Skipped = sc.missing
		fmt.Fprintf(h.opt.Log, "%s: skipped: %s\n", sc.name, sc.missing)
		return out
	}
	dir := filepath.Join(h.work, sc.name)
	if sc.bodyText != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			out.Skipped = err.Error()
			return out
		}
		sc.bodyFile = filepath.Join(dir, "body")
		if err := os.WriteFile(sc.bodyFile, []byte(sc.bodyText), 0o644); err != nil {
			out.Skipped = err.Error()
			return out
		}
	}
	if sc.waf != nil {
		out.Baseline = "nginx-modsec"
	}
	if sc.egress {
		out.Baseline = "squid"
	}
	backend, ba, err := h.startBackend(ctx, dir)
	if err != nil {
		out.Skipped = "the backend did not start: " + err.Error()
		return out
	}
	procs := []*process{backend}
	defer func() { stopAll(procs) }()

	var running []*instance
	for _, c := range h.contenders {
		if !c.runs(sc) {
			continue
		}
		in := &instance{c: c, res: &report.Contender{Name: c.name, Hist: new(hist.Histogram)}}
		if sc.reload {
			in.res.SteadyHist = new(hist.Histogram)
		}
		out.Contenders = append(out.Contenders, in.res)
		if err := h.launch(ctx, dir, sc, in, backend, ba); err != nil {
			in.res.Skipped = err.Error()
			fmt.Fprintf(h.opt.Log, "%s: %s not run: %v\n", sc.name, c.name, err)
			continue
		}
		if in.proc != backend {
			procs = append(procs, in.proc)
		}
		running = append(running, in)
	}
	for _, in := range running {
		if h.opt.Warmup > 0 && ctx.Err() == nil {
			if _, err := h.runLoad(ctx, sc, in.a, h.opt.Warmup, 0, nil); err != nil {
				fmt.Fprintf(h.opt.Log, "%s: %s warm-up: %v\n", sc.name, in.c.name, err)
			}
		}
	}
	for r := range h.opt.Rounds {
		for _, in := range running {
			if ctx.Err() != nil {
				return out
			}
			h.round(ctx, sc, in, idle)
			h.logRound(sc, in, r)
		}
	}
	for _, in := range running {
		if _, rss, err := groupStat(in.proc.pgid()); err == nil {
			in.res.PeakRSS = rss
		}
	}
	return out
}

// startBackend starts the scenario's own backend, so no state carries over
// from one scenario to the next.
func (h *harness) startBackend(ctx context.Context, dir string) (*process, addrs, error) {
	a, err := h.addrs("")
	if err != nil {
		return nil, a, err
	}
	bdir := filepath.Join(dir, "backend")
	if err := os.MkdirAll(bdir, 0o755); err != nil {
		return nil, a, err
	}
	p, err := h.launchBackend(bdir, a)
	if err != nil {
		return nil, a, err
	}
	if err := waitReady(ctx, p, a); err != nil {
		p.stop()
		return nil, a, err
	}
	return p, a, nil
}

// launch starts one contender for the scenario, or says why it cannot run.
func (h *harness) launch(ctx context.Context, dir string, sc scenario, in *instance, backend *process, ba addrs) error {
	c := in.c
	switch {
	case c.missing != "":
		return fmt.Errorf("%s", c.missing)
	case sc.h3 && !c.h3:
		return fmt.Errorf("%s", c.noH3)
	case sc.reload && !c.reloads():
		return errors.New("has no configuration to reload")
	case c.launch == nil:
		in.a, in.proc = ba, backend
		return nil
	}
	a, err := h.addrs(ba.plain)
	if err != nil {
		return err
	}
	a.h3 = c.h3
	if sc.waf != nil {
		a.paranoia = sc.waf.paranoia
	}
	if sc.egress {
		a.upstreamTLS = ba.tls
	}
	if sc.reload {
		a.variant = variants[0]
		if c.reloadAPI {
			if a.admin, err = freePort(); err != nil {
				return err
			}
		}
	}
	cdir := filepath.Join(dir, c.name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return err
	}
	p, err := c.launch(h, cdir, a)
	if err != nil {
		return err
	}
	ready := waitReady
	if sc.egress {
		ready = waitEgressReady
	}
	if err := ready(ctx, p, a); err != nil {
		p.stop()
		return err
	}
	if sc.egress {
		if err := checkEgress(ctx, a); err != nil {
			p.stop()
			return fmt.Errorf("not measured, it failed a check: %w", err)
		}
	}
	if sc.waf != nil {
		if err := checkWAF(ctx, a); err != nil {
			p.stop()
			return fmt.Errorf("not measured, it failed a check: %w", err)
		}
	}
	if sc.reload {
		if in.rel, err = h.newReloader(c, p, cdir, a); err != nil {
			p.stop()
			return err
		}
	}
	in.a, in.proc = a, p
	return nil
}

// addrs picks fresh loopback ports for a server.
func (h *harness) addrs(upstream string) (addrs, error) {
	plain, err := freePort()
	if err != nil {
		return addrs{}, err
	}
	tls, err := freePort()
	if err != nil {
		return addrs{}, err
	}
	return addrs{plain: plain, tls: tls, upstream: upstream, h3: true}, nil
}

// round runs one measured round against one contender, and the
// cross-check tool after it. In the reload scenario it is two: one
// without reloads, then one while the contender reloads.
func (h *harness) round(ctx context.Context, sc scenario, in *instance, idle int) {
	if in.rel != nil {
		in.res.Steady = append(in.res.Steady, h.measure(ctx, sc, in, idle, nil, in.res.SteadyHist))
	}
	in.res.Rounds = append(in.res.Rounds, h.measure(ctx, sc, in, idle, in.rel, in.res.Hist))
	if h.opt.CrossCheck && sc.cross != "" {
		if x, ok := h.cross(ctx, sc, in.a); ok {
			in.res.CrossTool = sc.cross
			in.res.Cross = append(in.res.Cross, x)
		}
	}
}

// measure runs the load once and returns the round, with the CPU time the
// contender's processes used from the start of the measured part to its
// end; the latencies are merged into the histogram given. With rel it
// reloads the contender throughout the measured part.
func (h *harness) measure(ctx context.Context, sc scenario, in *instance, idle int, rel *reloader, into *hist.Histogram) report.Round {
	var rd report.Round
	var before, after float64
	errBefore := errors.New("the load generator never started measuring")
	errAfter := errors.New("the load generator never stopped measuring")
	var stop func() reloadStats
	var rs reloadStats
	res, err := h.runLoad(ctx, sc, in.a, h.opt.Duration, idle, func(mark string) {
		if mark == load.StartMark {
			before, _, errBefore = groupStat(in.proc.pgid())
			if rel != nil {
				stop = rel.start(ctx, h.opt.ReloadEvery, h.opt.ApplyWithin)
			}
			return
		}
		// The CPU time is the measured part's, without the wait for a
		// reload still being applied.
		after, _, errAfter = groupStat(in.proc.pgid())
		if stop != nil {
			rs, stop = stop(), nil
		}
	})
	if stop != nil { // the load generator ended without its stop mark
		rs = stop()
	}
	switch {
	case err != nil:
		rd.Failed = err.Error()
	default:
		rd.RPS, rd.Requests, rd.Errors, rd.Latency = res.RPS, res.Requests, res.Errors, res.Latency
		for _, s := range res.ErrorSamples {
			rd.ErrorSample = s
			break
		}
		if res.IdleFailed > 0 {
			rd.Errors["idle_not_opened"] += uint64(res.IdleFailed)
		}
		if errBefore == nil && errAfter == nil {
			rd.CPUSeconds = after - before
		}
		into.Merge(res.Histogram)
	}
	if rel != nil {
		rd.Reloads, rd.Applied, rd.ReloadError = rs.reloads, rs.applied, rs.firstErr
		rd.SlowestApply = float64(rs.slowest.Microseconds())
		for k, n := range rs.probeErrs {
			if rd.Errors == nil {
				rd.Errors = map[string]uint64{}
			}
			rd.Errors[k] += n
		}
		if rd.ErrorSample == "" {
			rd.ErrorSample = rs.probeSample
		}
	}
	return rd
}

func (h *harness) logRound(sc scenario, in *instance, r int) {
	if len(in.res.Steady) > 0 {
		h.logLine(sc, in, r, "steady", in.res.Steady[len(in.res.Steady)-1])
		h.logLine(sc, in, r, "reloads", in.res.Rounds[len(in.res.Rounds)-1])
		return
	}
	h.logLine(sc, in, r, "", in.res.Rounds[len(in.res.Rounds)-1])
}

// logLine says how one measured run went; what names it in the reload
// scenario (steady or reloads).
func (h *harness) logLine(sc scenario, in *instance, r int, what string, rd report.Round) {
	name := in.c.name
	if what != "" {
		name += " " + what
	}
	if rd.Failed != "" {
		fmt.Fprintf(h.opt.Log, "%s round %d/%d %-10s failed: %s\n", sc.name, r+1, h.opt.Rounds, name, rd.Failed)
		return
	}
	var errs uint64
	for _, n := range rd.Errors {
		errs += n
	}
	line := fmt.Sprintf("%s round %d/%d %-10s %9.0f req/s  p99 %8.0f µs  errors %d",
		sc.name, r+1, h.opt.Rounds, name, rd.RPS, rd.Latency.P99, errs)
	if rd.Reloads > 0 {
		line += fmt.Sprintf("  reloads applied %d/%d, slowest %.1f ms", rd.Applied, rd.Reloads, rd.SlowestApply/1e3)
	}
	if errs > 0 && rd.ErrorSample != "" {
		line += "  (" + rd.ErrorSample + ")"
	}
	fmt.Fprintln(h.opt.Log, line)
}
