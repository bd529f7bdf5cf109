//go:build !unix

package waf_test

// cpuTime is zero where the process's CPU time is not at hand.
func cpuTime() int64 { return 0 }
