package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/bench/load"
)

// loadArgs is the load generator's command line for one run.
func (h *harness) loadArgs(sc scenario, a addrs, d time.Duration, idle int) []string {
	scheme, addr := "http", a.plain
	if sc.tls {
		scheme, addr = "https", a.tls
	}
	var proxy string
	if sc.egress && a.upstream != "" {
		// Through the forward proxy's tunnels to the backend.
		proxy, addr = a.plain, a.upstream
		if sc.tls {
			addr = a.upstreamTLS
		}
	}
	argv := []string{h.bins.load, "-q", "-mark",
		"-url", scheme + "://" + addr + sc.path, "-proto", sc.proto,
		"-c", strconv.Itoa(sc.conns), "-streams", strconv.Itoa(sc.streams),
		"-d", d.String(), "-method", sc.method, "-body", strconv.Itoa(sc.body),
		"-sni", serverName, "-cacert", h.certs.cert, "-timeout", "10s"}
	if sc.newConn {
		argv = append(argv, "-new-conn")
	}
	if proxy != "" {
		argv = append(argv, "-proxy", proxy)
	}
	for _, h := range sc.header {
		argv = append(argv, "-H", h)
	}
	if sc.bodyFile != "" {
		argv = append(argv, "-body-file", sc.bodyFile)
	}
	if sc.expect != 0 {
		argv = append(argv, "-expect", strconv.Itoa(sc.expect))
	}
	if idle > 0 {
		argv = append(argv, "-idle", strconv.Itoa(idle))
	}
	return h.pinned(h.opt.LoadCPUs, argv)
}

// runLoad runs the load generator on the load CPUs and reads its result.
// onMark, if not nil, is called with each of the generator's marks: the
// start and the end of the measured part.
func (h *harness) runLoad(ctx context.Context, sc scenario, a addrs, d time.Duration, idle int, onMark func(string)) (*load.Result, error) {
	// Opening ten thousand idle connections takes seconds before the
	// measured part starts; the bound leaves room for it.
	ctx, cancel := context.WithTimeout(ctx, d+2*time.Minute)
	defer cancel()
	argv := h.loadArgs(sc, a, d, idle)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var errLines []string
	sc2 := bufio.NewScanner(stderr)
	for sc2.Scan() {
		if line := sc2.Text(); line == load.StartMark || line == load.StopMark {
			if onMark != nil {
				onMark(line)
			}
			continue
		}
		errLines = append(errLines, sc2.Text())
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("load: %w: %s", err, strings.Join(errLines, " / "))
	}
	var res load.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("load: reading its result: %w", err)
	}
	return &res, nil
}
