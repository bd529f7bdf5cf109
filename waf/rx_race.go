//go:build race

package waf

import "regexp"

// compileRx compiles a pattern for Go's regexp in a binary built with the
// race detector. RE2 runs as WebAssembly, whose runtime, instrumented by
// the detector, takes several seconds to build one engine: a test binary
// that starts many gateways would spend its minutes there. The detector
// cannot see into the WebAssembly's memory anyway, and the two give the
// same matches (TestRxMatchesStock, in the runs without the detector).
func compileRx(expr string) (matcher, error) { return regexp.Compile(expr) }
