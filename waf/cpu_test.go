//go:build unix

package waf_test

import "syscall"

// cpuTime returns the CPU time the process has used, user and system, in
// nanoseconds: a benchmark's cost that other processes' load on a shared
// machine disturbs far less than its wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
