package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
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

// gcSettings are the garbage collector's settings and where they came
// from, for the start-up log.
type gcSettings struct {
	Percent     string // the GC percent, or GOGC's value
	MemoryLimit int64  // bytes; 0 for none set here
	Source      string // "GOMEMLIMIT", a cgroup file, or empty
}

// decideGC chooses the settings from the environment and the cgroup's
// memory limit, read through readFile from root (/ but in tests).
func decideGC(getenv func(string) string, readFile func(string) ([]byte, error), root string) (s gcSettings, setPercent, setLimit bool) {
	if v := getenv("GOGC"); v != "" {
		s.Percent = v
	} else {
		s.Percent, setPercent = strconv.Itoa(defaultGCPercent), true
	}
	if getenv("GOMEMLIMIT") != "" {
		s.Source = "GOMEMLIMIT"
		return s, setPercent, false
	}
	if limit, file := cgroupMemoryLimit(readFile, root); limit > 0 {
		s.MemoryLimit, s.Source, setLimit = int64(float64(limit)*memoryLimitShare), file, true
	}
	return s, setPercent, setLimit
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup: cgroup
// v2's memory.max, at the root of the namespace a container sees or under
// the process's own cgroup, or cgroup v1's memory.limit_in_bytes. It
// returns 0 when there is none ("max", or v1's near-2⁶³ for none).
func cgroupMemoryLimit(readFile func(string) ([]byte, error), root string) (int64, string) {
	files := []string{"sys/fs/cgroup/memory.max"}
	if b, err := readFile(filepath.Join(root, "proc/self/cgroup")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok && p != "/" && !strings.Contains(p, "..") {
				files = append(files, filepath.Join("sys/fs/cgroup", p, "memory.max"))
			}
		}
	}
	files = append(files, "sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, f := range files {
		b, err := readFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		v := string(bytes.TrimSpace(b))
		if v == "max" {
			return 0, ""
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0, ""
		}
		return n, "/" + f
	}
	return 0, ""
}

// tuneGC applies decideGC's settings to the process.
func tuneGC() gcSettings {
	s, setPercent, setLimit := decideGC(os.Getenv, os.ReadFile, "/")
	if setPercent {
		debug.SetGCPercent(defaultGCPercent)
	}
	if setLimit {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	return s
}

func logGC(log zerolog.Logger, s gcSettings) {
	e := log.Info().Str("gc_percent", s.Percent)
	if s.MemoryLimit > 0 {
		e = e.Int64("memory_limit_bytes", s.MemoryLimit)
	}
	if s.Source != "" {
		e = e.Str("memory_limit_from", s.Source)
	}
	e.Msg("garbage collector")
}
