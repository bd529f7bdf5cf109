//go:build !race

package waf

const rxSampleStep = 47
