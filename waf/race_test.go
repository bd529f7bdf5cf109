//go:build race

package waf_test

// raceEnabled skips the CRS regression suite, which the race detector
// slows several times over: .ci/run runs it on its own without.
const raceEnabled = true
