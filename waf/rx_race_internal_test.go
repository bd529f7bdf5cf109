//go:build race

package waf

// rxSampleStep is the step through the CRS's values at which
// TestRxMatchesStock tries every pattern: wider under the race detector,
// which slows the regular expressions several times over.
const rxSampleStep = 151
