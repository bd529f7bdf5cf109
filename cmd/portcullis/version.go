package main

import (
	"runtime"

	"github.com/portcullis-gw/portcullis/gateway/metrics"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// appVersion is the one version the binary gives everywhere: its version
// command, its start-up log line, /config and the build metrics. It is the
// version set at build time, else the module version the go command
// stamped (a tag for `go install …@v1.2.3`), else "dev".
func appVersion() string {
	if version != "dev" {
		return version
	}
	if v := metrics.BuildVersion(); v != "" && v != "(devel)" && v != "unknown" {
		return v
	}
	return version
}

// versionString is what `portcullis version` prints after the name: the
// version and the Go toolchain that built the binary.
func versionString() string {
	return appVersion() + " " + runtime.Version()
}
