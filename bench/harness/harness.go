// Package harness runs the bench: it builds the load generator, the backend
// and the bare Go proxy, starts the backend and every contender (the
// gateway, nginx, HAProxy, Caddy, the bare Go proxy, and the backend alone
// as the baseline) on loopback, pinned to the server CPUs, and runs each
// scenario's load from the load CPU in interleaved rounds (A B C … A B C …)
// after a warm-up, measuring each contender's CPU time and peak memory from
// /proc. Where wrk and h2load are installed it runs them too, as a
// cross-check of the load generator. The outcome is a report.Report.
package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/portcullis-gw/portcullis/bench/report"
)

// Options configure a run.
type Options struct {
	// Repo is the module's root directory, where the binaries are built.
	Repo string
	// Scenarios and Contenders select by name; empty selects all.
	Scenarios, Contenders []string
	// Rounds per contender, each Duration long, after a Warmup run.
	Rounds           int
	Duration, Warmup time.Duration
	// Idle is the number of idle keep-alive connections the conns scenario
	// holds.
	Idle int
	// ReloadEvery is the interval between reloads in the reload scenario;
	// zero means a second.
	ReloadEvery time.Duration
	// ApplyWithin is how long a reload may take to be in force before it
	// counts as not applied; zero means ReloadEvery, so that a reload
	// counts only if it took effect before the next was due. Tests on a
	// loaded machine give it much longer.
	ApplyWithin time.Duration
	// LoadCPUs run the load generator, ServerCPUs the backend and the
	// contender (taskset lists, "0" and "1" on two cores). Pin turns
	// pinning on; it is off anyway when taskset is missing.
	LoadCPUs, ServerCPUs string
	Pin                  bool
	// CrossCheck runs wrk and h2load where installed.
	CrossCheck bool
	// WidePct is the spread, in percent of the median, above which the
	// report says a figure is too noisy to conclude from.
	WidePct float64
	// Command is the command line, for the report.
	Command string
	// Log receives a line per run, so a long bench shows its progress.
	Log io.Writer
}

// harness is the state of one run.
type harness struct {
	opt        Options
	pin        bool
	taskset    string
	work       string
	bins       binaries
	certs      certs
	contenders []*contender
	notes      []string
	// crs4 is the CRS v4 copied for nginx's ModSecurity in the WAF
	// scenarios, crs4Version its version; crs4Err says why there is none.
	crs4, crs4Version, crs4Err string
	// nofile is the open-file limit every process runs under.
	nofile int
}

// Run runs the selected scenarios and returns the finished report. It stops
// early, with what it measured so far, when ctx is done.
func Run(ctx context.Context, opt Options) (*report.Report, error) {
	scs, err := pick(opt.Scenarios)
	if err != nil {
		return nil, err
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.ReloadEvery <= 0 {
		opt.ReloadEvery = time.Second
	}
	if opt.ApplyWithin <= 0 {
		opt.ApplyWithin = opt.ReloadEvery
	}
	h := &harness{opt: opt}
	if h.work, err = os.MkdirTemp("", "portcullis-bench-"); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer os.RemoveAll(h.work)
	if err := h.prepare(ctx, scs); err != nil {
		return nil, err
	}
	rep := &report.Report{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Name:    setName(opt.Scenarios),
		Command: opt.Command,
		Machine: machine(h.pin, opt.LoadCPUs, opt.ServerCPUs),
		Method: report.Method{Rounds: opt.Rounds, Duration: opt.Duration.String(),
			Warmup: opt.Warmup.String(), WidePct: opt.WidePct},
	}
	rep.Versions = h.versions()
	for _, sc := range scs {
		if ctx.Err() != nil {
			h.notes = append(h.notes, "interrupted: the scenarios after "+rep.Scenarios[len(rep.Scenarios)-1].Name+" did not run")
			break
		}
		rep.Scenarios = append(rep.Scenarios, h.scenario(ctx, sc))
	}
	rep.Notes = h.notes
	rep.Finish()
	return rep, nil
}

// prepare raises the file limit, finds taskset, builds the binaries, makes
// the certificate, copies the CRS when a WAF scenario runs, and finds the
// contenders.
func (h *harness) prepare(ctx context.Context, scs []scenario) error {
	n, err := raiseNoFile()
	if err != nil {
		h.notef("could not raise the open-file limit (%v); it is %d", err, n)
	} else if n < uint64(h.opt.Idle)+1000 {
		h.notef("the open-file limit is %d, too low for %d idle connections", n, h.opt.Idle)
	}
	h.nofile = int(min(n, 1<<20))
	if h.opt.Pin {
		if ts, err := exec.LookPath("taskset"); err == nil && runtime.NumCPU() > 1 {
			h.pin, h.taskset = true, ts
		} else {
			h.notef("pinning off: taskset is not installed or the machine has one CPU; every process ran unpinned")
		}
	} else {
		h.notef("pinning off (-pin=false): every process ran unpinned")
	}
	if h.bins, err = build(ctx, h.opt.Repo, filepath.Join(h.work, "bin")); err != nil {
		return err
	}
	if h.certs, err = makeCerts(h.work); err != nil {
		return err
	}
	if slices.ContainsFunc(scs, func(sc scenario) bool { return sc.waf != nil }) {
		h.crs4 = filepath.Join(h.work, "crs4")
		if h.crs4Version, err = copyCRS4(ctx, h.opt.Repo, h.crs4); err != nil {
			h.crs4Err = err.Error()
		}
	}
	h.contenders = h.find(scs)
	return nil
}

// notef adds a note to the report and says it on the log at once.
func (h *harness) notef(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	h.notes = append(h.notes, n)
	fmt.Fprintf(h.opt.Log, "note: %s\n", n)
}

// setName names the report's files after the scenarios asked for.
func setName(names []string) string {
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		return report.SetName(nil, true)
	}
	return report.SetName(names, false)
}
