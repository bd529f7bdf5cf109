package main

import (
	"bytes"
	"flag"
	"runtime"
	"strings"
	"testing"
)

// TestHelp runs every way of asking for help: each exits 0, writes to
// stdout only, and names what it should, every flag of the command included.
func TestHelp(t *testing.T) {
	everyCommand := []string{"portcullis [serve] [flags]", "portcullis validate FILE...", "portcullis version", "portcullis help [COMMAND]"}
	serveFlagNames := flagNames(t, "serve")
	tests := []struct {
		name  string
		args  []string
		want  []string
		flags []string // every one must appear as --name
	}{
		{"--help", []string{"--help"}, everyCommand, serveFlagNames},
		{"-h", []string{"-h"}, everyCommand, serveFlagNames},
		{"-help", []string{"-help"}, everyCommand, serveFlagNames},
		{"help", []string{"help"}, append(everyCommand, "SIGHUP", "SIGINT (Ctrl-C) drains without the delay"), serveFlagNames},
		{"serve --help", []string{"serve", "--help"}, []string{"usage: portcullis [serve] [flags]", "embedded demo"}, serveFlagNames},
		{"serve -h", []string{"serve", "-h"}, []string{"usage: portcullis [serve] [flags]"}, serveFlagNames},
		{"help serve", []string{"help", "serve"}, []string{"usage: portcullis [serve] [flags]"}, serveFlagNames},
		{"flags alone --help", []string{"--config", "x.yaml", "--help"}, []string{"usage: portcullis [serve] [flags]"}, serveFlagNames},
		{"validate --help", []string{"validate", "--help"}, []string{"usage: portcullis validate FILE...", "file:line:column"}, nil},
		{"help validate", []string{"help", "validate"}, []string{"usage: portcullis validate FILE..."}, nil},
		{"version --help", []string{"version", "--help"}, []string{"usage: portcullis version", "print the version"}, nil},
		{"help help", []string{"help", "help"}, []string{"usage: portcullis help [COMMAND]"}, nil},
		{"certs --help", []string{"certs", "--help"}, []string{"usage: portcullis certs init|issue|bundle|inspect", "SPIFFE"}, nil},
		{"help certs", []string{"help", "certs"}, []string{"usage: portcullis certs init|issue|bundle|inspect"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != 0 || errb.Len() != 0 {
				t.Fatalf("got exit %d, stderr %q; want 0 and nothing on stderr", code, errb.String())
			}
			want := tt.want
			if strings.HasPrefix(want[0], "usage: ") { // one command's help names the others
				want = append(want, "commands: serve, validate, authz, certs, waf, egress, version, help;")
			}
			wantAll(t, "help", out.String(), want)
			for _, f := range tt.flags {
				if !strings.Contains(out.String(), "  --"+f+" ") && !strings.Contains(out.String(), "  --"+f+"\n") {
					t.Errorf("help lacks the flag --%s:\n%s", f, out.String())
				}
			}
		})
	}
}

// wantAll fails t for each of wants that text, named what, lacks.
func wantAll(t *testing.T, what, text string, wants []string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// flagNames returns the names of every flag the command defines.
func flagNames(t *testing.T, cmd string) []string {
	c, ok := lookup(cmd)
	if !ok {
		t.Fatalf("no command %q", cmd)
	}
	var names []string
	flagsOf(c).VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if len(names) < 4 {
		t.Fatalf("%s: got flags %v, want config, log-level, drain-delay and drain-timeout", cmd, names)
	}
	return names
}

// TestCommandLineErrors checks that a command line that does not parse
// exits 2 with its fault and the usage on stderr, and nothing on stdout.
func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, []string{`portcullis: unknown command "frobnicate"`, "portcullis validate FILE...", "--drain-delay"}},
		{"typo of a command", []string{"valdate", "x.yaml"}, []string{`unknown command "valdate" (did you mean "validate"?)`}},
		{"unknown flag", []string{"--bogus"}, []string{"portcullis serve: flag provided but not defined: -bogus", "usage: portcullis [serve] [flags]", "--config"}},
		{"flag without its value", []string{"serve", "--config"}, []string{"flag needs an argument: -config"}},
		{"bad duration", []string{"--drain-delay", "soon"}, []string{`invalid value "soon" for flag -drain-delay`}},
		{"argument to serve", []string{"serve", "routes.yaml"}, []string{`unexpected argument "routes.yaml" (the routes file goes after --config)`}},
		{"help on an unknown command", []string{"help", "nope"}, []string{`portcullis help: unknown command "nope"`, "portcullis version"}},
		{"argument to version", []string{"version", "extra"}, []string{`portcullis version: unexpected argument "extra"`}},
		{"validate with no file", []string{"validate"}, []string{"portcullis validate: no file given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != 2 || out.Len() != 0 {
				t.Fatalf("got exit %d, stdout %q; want 2 and nothing on stdout", code, out.String())
			}
			wantAll(t, "stderr", errb.String(), tt.want)
		})
	}
}

// TestVersionFlag checks that version, --version and -version print the
// same line: the version, then the Go toolchain.
func TestVersionFlag(t *testing.T) {
	want := "portcullis " + appVersion() + " " + runtime.Version() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 || out.String() != want || errb.Len() != 0 {
			t.Errorf("%v: got exit %d, %q, stderr %q; want 0 and %q", args, code, out.String(), errb.String(), want)
		}
	}
}

// TestAppVersion checks where the version comes from: the value set at
// build time wins over the module's.
func TestAppVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v1.2.3"
	if got := appVersion(); got != "v1.2.3" {
		t.Errorf("with -X main.version=v1.2.3: got %q, want v1.2.3", got)
	}
	version = "dev"
	if got := appVersion(); got == "" || got == "(devel)" || got == "unknown" {
		t.Errorf("without it: got %q, want the module's version or dev", got)
	}
}
