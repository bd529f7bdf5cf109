//go:build race

package waf

// raceDetector skips the tests that run the CRS's patterns and rules over
// many values, which the race detector slows several times over: .ci/run
// runs them on their own without it.
const raceDetector = true
