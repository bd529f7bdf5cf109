package harness

import (
	"bufio"
	"os"
	"runtime"
	"strings"

	"github.com/portcullis-gw/portcullis/bench/report"
)

// machine describes the machine the run is on, from /proc.
func machine(pinned bool, loadCPUs, serverCPUs string) report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Pinned: pinned, Model: "unknown", Kernel: "unknown"}
	if pinned {
		m.LoadCPUs, m.ServerCPUs = loadCPUs, serverCPUs
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
