package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// defaultGCPercent is the garbage collector's target unless GOGC says
// otherwise: the heap may grow to five times what is live before a
// collection, where Go's default is twice. The WAF allocates much per
// request (Coraza builds a match object for every value each rule reads),
// and at Go's default a sixth of its CPU went to collecting; at 400 the
// WAF's 4 KiB JSON POST served about a quarter more requests per second on
// one core, and its benign GET about an eighth more, for about 60 to 80
// MiB more of peak memory (README, Running it in production).
const defaultGCPercent = 400

// memoryLimitShare is the part of the container's memory limit that the
// garbage collector keeps the heap under, unless GOMEMLIMIT says
// otherwise: near it, it collects more often whatever the GC percent, so
// the larger target cannot take the process past its limit.
const memoryLimitShare = 0.9

// gcSettings are what the gateway sets of the garbage collector's
// settings: the GC percent (defaultGCPercent) when SetPercent, and the
// memory limit when MemoryLimit is not 0; and where the memory limit came
// from, for the start-up log.
type gcSettings struct {
	SetPercent  bool
	MemoryLimit int64  // bytes
	Source      string // "GOMEMLIMIT", a cgroup file, or empty
}

// decideGC chooses the settings from the environment and the cgroup's
// memory limit, read through readFile from root (/ but in tests).
func decideGC(getenv func(string) string, readFile func(string) ([]byte, error), root string) gcSettings {
	s := gcSettings{SetPercent: getenv("GOGC") == ""}
	if getenv("GOMEMLIMIT") != "" {
		s.Source = "GOMEMLIMIT"
		return s
	}
	if limit, file := cgroupMemoryLimit(readFile, root); limit > 0 {
		s.MemoryLimit, s.Source = int64(float64(limit)*memoryLimitShare), file
	}
	return s
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup: the
// smallest of cgroup v2's memory.max at the root of the namespace a
// container sees and in the process's own cgroup and each of its parents
// (a systemd slice may hold the limit), or else cgroup v1's
// memory.limit_in_bytes. It returns 0 when there is none ("max", or v1's
// near-2⁶³ for none), with the file the limit came from.
func cgroupMemoryLimit(readFile func(string) ([]byte, error), root string) (int64, string) {
	files := []string{"sys/fs/cgroup/memory.max"}
	if b, err := readFile(filepath.Join(root, "proc/self/cgroup")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			p, ok := strings.CutPrefix(line, "0::")
			if !ok || strings.Contains(p, "..") {
				continue
			}
			for p = filepath.Clean("/" + p); p != "/"; p = filepath.Dir(p) {
				files = append(files, filepath.Join("sys/fs/cgroup", p, "memory.max"))
			}
		}
	}
	limit, from := int64(0), ""
	for _, f := range files {
		if n := readLimit(readFile, filepath.Join(root, f)); n > 0 && (limit == 0 || n < limit) {
			limit, from = n, "/"+f
		}
	}
	if limit == 0 {
		f := "sys/fs/cgroup/memory/memory.limit_in_bytes"
		if n := readLimit(readFile, filepath.Join(root, f)); n > 0 {
			limit, from = n, "/"+f
		}
	}
	return limit, from
}

// readLimit reads a cgroup's memory limit file: 0 for none, for "max",
// for v1's near-2⁶³, and for what is not a positive number.
func readLimit(readFile func(string) ([]byte, error), path string) int64 {
	b, err := readFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}

// tuneGC applies decideGC's settings to the process.
func tuneGC() gcSettings {
	s := decideGC(os.Getenv, os.ReadFile, "/")
	if s.SetPercent {
		debug.SetGCPercent(defaultGCPercent)
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	return s
}

// logGC logs the collector's settings in force, as the runtime reports
// them, and where the memory limit came from.
func logGC(log zerolog.Logger, s gcSettings) {
	samples := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(samples)
	e := log.Info()
	if v := samples[0].Value; v.Kind() == metrics.KindUint64 {
		e = e.Uint64("gc_percent", v.Uint64())
	}
	if v := samples[1].Value; v.Kind() == metrics.KindUint64 && v.Uint64() < math.MaxInt64 {
		e = e.Uint64("memory_limit_bytes", v.Uint64())
	}
	if s.Source != "" {
		e = e.Str("memory_limit_from", s.Source)
	}
	e.Msg("garbage collector")
}
