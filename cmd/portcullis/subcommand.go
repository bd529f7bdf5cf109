package main

import (
	"flag"
	"fmt"
	"io"
)

// oneSubcommand is the flags function of a command that has one
// subcommand, sub, which parses its own flags: no argument prints usage
// and fails, help prints it, anything else but sub is an unknown command.
func oneSubcommand(name, sub, usage string, run func(args []string, stdout, stderr io.Writer) int) func(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	return func(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
		return func(args []string, stdout, stderr io.Writer) int {
			switch {
			case len(args) == 0:
				fmt.Fprint(stderr, usage)
				return 2
			case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
				fmt.Fprint(stdout, usage)
				return 0
			case args[0] != sub:
				fmt.Fprintf(stderr, "portcullis %s: unknown command %q\n%s", name, args[0], usage)
				return 2
			}
			return run(args[1:], stdout, stderr)
		}
	}
}
