package harness

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/bench/report"
)

// cross runs the scenario's external tool against a contender with the
// same connections and duration as the load generator; ok is false when the
// tool is not installed.
func (h *harness) cross(ctx context.Context, sc scenario, a addrs) (x report.Cross, ok bool) {
	bin := lookPath(sc.cross)
	if bin == "" {
		return x, false
	}
	secs := max(1, int(math.Round(h.opt.Duration.Seconds())))
	threads := strconv.Itoa(cpuCount(h.opt.LoadCPUs))
	var argv []string
	switch sc.cross {
	case "wrk":
		argv = []string{bin, "-t", threads, "-c", strconv.Itoa(sc.conns), "-d", fmt.Sprintf("%ds", secs),
			"--timeout", "10s", "--latency", "http://" + a.plain + sc.path}
	case "h2load":
		argv = []string{bin, "-t", threads, "-c", strconv.Itoa(sc.conns), "-m", strconv.Itoa(sc.streams),
			"-D", strconv.Itoa(secs), "https://" + a.tls + sc.path}
	default:
		return x, false
	}
	argv = h.pinned(h.opt.LoadCPUs, argv)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		x.Failed = fmt.Sprintf("%s: %v: %s", sc.cross, err, firstLine(string(out)))
		return x, true
	}
	if sc.cross == "wrk" {
		x, err = parseWrk(string(out))
	} else {
		x, err = parseH2load(string(out))
	}
	if err != nil {
		x.Failed = err.Error()
	}
	return x, true
}

var (
	wrkRate    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	h2Finished = regexp.MustCompile(`finished in [\d.]+\w*, ([\d.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx`)
)

// parseWrk reads wrk's report (run with --latency).
func parseWrk(out string) (report.Cross, error) {
	var x report.Cross
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return x, fmt.Errorf("wrk: no Requests/sec in its output: %q", firstLine(out))
	}
	x.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		v *= map[string]float64{"us": 1, "ms": 1e3, "s": 1e6}[p[3]]
		if p[1] == "50" {
			x.P50 = v
		} else {
			x.P99 = v
		}
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		x.Errors += sumInts(m[1:])
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		x.Errors += sumInts(m[1:])
	}
	return x, nil
}

// parseH2load reads h2load's report; it gives no percentiles.
func parseH2load(out string) (report.Cross, error) {
	var x report.Cross
	m := h2Finished.FindStringSubmatch(out)
	if m == nil {
		return x, fmt.Errorf("h2load: no req/s in its output: %q", firstLine(out))
	}
	x.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := h2Requests.FindStringSubmatch(out); m != nil {
		x.Errors += sumInts(m[1:])
	}
	if m := h2Status.FindStringSubmatch(out); m != nil {
		x.Errors += sumInts(m[1:])
	}
	return x, nil
}

func sumInts(ss []string) uint64 {
	var n uint64
	for _, s := range ss {
		v, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		n += v
	}
	return n
}
