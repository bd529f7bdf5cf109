package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat. The kernel
// reports them in USER_HZ, which is 100 on every Linux architecture Go
// runs on.
const userHZ = 100

// groupStat sums, over every process in the process group pgid, the CPU
// time used (utime + stime) and the peak resident memory (VmHWM). Summing
// is what makes multi-process peers (nginx's master and workers) comparable
// with single-process ones.
func groupStat(pgid int) (cpuSeconds float64, peakRSS int64, err error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, fmt.Errorf("proc: %w", err)
	}
	found := false
	var ticks uint64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone since the listing
		}
		group, t, ok := parseStat(stat)
		if !ok || group != pgid {
			continue
		}
		found = true
		ticks += t
		peakRSS += vmHWM(pid)
	}
	if !found {
		return 0, 0, fmt.Errorf("process group %d: no process left", pgid)
	}
	return float64(ticks) / userHZ, peakRSS, nil
}

// parseStat reads the process group and utime+stime from a stat line. The
// command name in parentheses may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(b []byte) (pgrp int, ticks uint64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); pgrp is field 5, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(f[2])
	ut, err2 := strconv.ParseUint(f[11], 10, 64)
	st, err3 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return pgrp, ut + st, true
}

// vmHWM is a process's peak resident set in bytes, zero if unknown.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
