// Command portcullis is the Portcullis edge gateway.
//
//	portcullis [serve] [--config FILE]   serve a routes file (the embedded demo without one)
//	portcullis validate FILE...          check routes files, print every error with file:line:column
//	portcullis certs …                   a development CA for SPIFFE identities
//	portcullis version                   print the version
package main

import (
	_ "embed"
	"fmt"
	"io"
	"os"
)

//go:embed demo.yaml
var demoYAML []byte

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command, with its arguments and output streams given, so
// tests run it in-process. It returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "validate" || args[0] == "version" || args[0] == "help" || args[0] == "certs") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "validate":
		return validate(args, stdout, stderr)
	case "certs":
		return certs(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "portcullis", versionString())
		return 0
	case "help":
		usage(stdout)
		return 0
	}
	return serve(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  portcullis [serve] [--config FILE] [--log-level LEVEL]
      serve FILE's routes; without --config (or PORTCULLIS_CONFIG) the embedded demo
  portcullis validate FILE...
      check routes files; print every error as file:line:column and exit 1 on any
  portcullis certs init|issue|bundle|inspect …
      a development CA for SPIFFE identities; portcullis certs help says more
  portcullis version
`)
}
