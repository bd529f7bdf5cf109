// Command portcullis is the Portcullis edge gateway.
//
//	portcullis [serve] [--config FILE] …   serve a routes file (the embedded demo without one)
//	portcullis validate FILE...            check routes files, print every error with file:line:column
//	portcullis authz check --config F URL  decide a request against the routes file's policies
//	portcullis certs …                     a development CA for SPIFFE identities
//	portcullis waf test 'GET /?q=…'         why the WAF blocks a request: its verdict and the rules that matched
//	portcullis egress check …              what the egress rules say of a caller and a destination
//	portcullis version                     print the version
//	portcullis help [COMMAND]              print the commands and their flags
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/portcullis-gw/portcullis/routes"
)

//go:embed demo.yaml
var demoYAML []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one of the binary's subcommands.
type command struct {
	name, args, summary string
	// flags defines the command's flags on fs and returns what runs the
	// command with them and the arguments left.
	flags func(fs *flag.FlagSet) func(args []string, stdout, stderr io.Writer) int
}

// commands returns the subcommands, in the order help lists them; the
// first is the one that runs when none is named.
func commands() []command {
	return []command{
		{"serve", "[flags]", "serve the routes file --config names (or $PORTCULLIS_CONFIG); without one, the embedded demo", serveFlags},
		{"validate", "FILE...", "check routes files as serve would load them; print every error as file:line:column and exit 1 on any", validateFlags},
		{"authz", "check --config FILE [flags] URL", "decide a request against the routes file's AuthorizationPolicies and print the route, each policy's verdict and the decision", authzFlags},
		{"certs", "init|issue|bundle|inspect ...", "a development CA that issues SPIFFE certificates (X.509-SVIDs); portcullis certs help says more", certsFlags0},
		{"waf", "test ...", "run one request through a WAF profile and print the verdict and every rule that matched; portcullis waf help says more", oneSubcommand("waf", "test", wafUsage, wafTest)},
		{"egress", "check ...", "decide, as the forward proxy would, whether a caller may reach a destination, and check the addresses it resolves to; portcullis egress help says more", oneSubcommand("egress", "check", egressUsage, egressCheck)},
		{"version", "", "print the version", versionFlags},
		{"help", "[COMMAND]", "print this help, or a command's", helpFlags},
	}
}

// run is the whole command, with its arguments and output streams given, so
// tests run it in-process. It returns the exit code: 0, 1 for a failure, 2
// for a command line that does not parse.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := commands()[0]
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-version" || a == "--version":
			args[0] = "version"
		case a == "-h" || a == "-help" || a == "--help":
			args[0] = "help"
		}
		if c, ok := lookup(args[0]); ok {
			cmd, args = c, args[1:]
		} else if !strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "portcullis: unknown command %q%s\n\n", args[0], suggestCommand(args[0]))
			usage(stderr)
			return 2
		}
	}
	fs := flag.NewFlagSet("portcullis "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are written below, once
	runCmd := cmd.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(stdout, cmd)
			return 0
		}
		fmt.Fprintf(stderr, "portcullis %s: %v\n\n", cmd.name, err)
		commandHelp(stderr, cmd)
		return 2
	}
	return runCmd(fs.Args(), stdout, stderr)
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// suggestCommand is " (did you mean "validate"?)" for a command name one
// typo away from a real one, and "" otherwise.
func suggestCommand(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := routes.Suggest(name, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func helpFlags(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		switch {
		case len(args) == 0:
			usage(stdout)
		case len(args) == 1:
			c, ok := lookup(args[0])
			if !ok {
				fmt.Fprintf(stderr, "portcullis help: unknown command %q%s\n\n", args[0], suggestCommand(args[0]))
				usage(stderr)
				return 2
			}
			commandHelp(stdout, c)
		default:
			fmt.Fprintln(stderr, "portcullis help: at most one command, got", strings.Join(args, " "))
			return 2
		}
		return 0
	}
}

func versionFlags(*flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "portcullis version: unexpected argument %q\n", args[0])
			return 2
		}
		fmt.Fprintln(stdout, "portcullis", versionString())
		return 0
	}
}

// certsFlags0 hands the certs command its arguments whole: its
// subcommands parse their own flags.
func certsFlags0(*flag.FlagSet) func(args []string, stdout, stderr io.Writer) int {
	return certs
}
