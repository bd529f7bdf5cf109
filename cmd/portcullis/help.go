package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// usage writes every command with every flag: `portcullis --help`.
func usage(w io.Writer) {
	fmt.Fprint(w, `Portcullis is an edge gateway: TLS, HTTP/1.1, HTTP/2 and HTTP/3, routing by host and path,
plugins, Envoy's access log and Istio's metrics, from one routes file.

usage:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s\n%s\n", synopsis(c), indent(wrap(c.summary, 92), "        "))
	}
	for _, c := range commands() {
		if fs := flagsOf(c); hasFlags(fs) {
			fmt.Fprintf(w, "\n%s flags:\n", c.name)
			printFlags(w, fs)
		}
	}
	fmt.Fprint(w, `
With no command, portcullis serves. Signals while serving: SIGHUP reloads the routes file (or the
demo), SIGUSR1 reopens the access-log file, SIGTERM drains (--drain-delay, then --drain-timeout),
SIGINT (Ctrl-C) drains without the delay; a second SIGTERM or SIGINT ends the process at once.
`)
}

// commandHelp writes one command's synopsis and flags: `portcullis serve --help`.
func commandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", synopsis(c), wrap(c.summary, 100))
	if fs := flagsOf(c); hasFlags(fs) {
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, fs)
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, "\ncommands: %s; portcullis --help describes them all.\n", strings.Join(names, ", "))
}

func synopsis(c command) string {
	s := "portcullis " + c.name
	if c.name == commands()[0].name {
		s = "portcullis [" + c.name + "]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// flagsOf returns c's flags, defined on a flag set of their own.
func flagsOf(c command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags writes each flag as --name VALUE, its usage below it and its
// default, if it has one, after the usage.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if value != "" {
			line += " " + strings.ToUpper(value)
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n%s\n", line, indent(wrap(usage, 92), "        "))
	})
}

// wrap breaks s into lines of at most width bytes at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
