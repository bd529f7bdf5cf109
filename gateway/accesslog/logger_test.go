package accesslog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Options
		want string
	}{
		{"unknown format", Options{Format: "nginx", Path: "off"}, `unknown format "nginx"`},
		{"json with text", Options{Format: "json", Text: "%PROTOCOL%", Path: "off"}, "cannot be combined with format json"},
		{"bad text", Options{Text: "%NOPE%", Path: "off"}, "format: offset 0: unknown operator %NOPE%"},
		{"unopenable path", Options{Path: filepath.Join(dir, "missing", "access.log")}, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			if err == nil {
				l.Close()
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// readLines returns the lines of a log file, without their newlines.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("got file ending in %q, want a newline", b[max(0, len(b)-20):])
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestLoggerFormats(t *testing.T) {
	legacy, _ := Preset("istio-legacy")
	tests := []struct {
		name string
		cfg  Options
		want string
	}{
		{"istio-legacy", Options{Format: "istio-legacy"}, string(mustFormat(t, legacy, legacyRecord()))},
		{"default is istio", Options{}, string(mustFormat(t, istioFormat, legacyRecord()))},
		{"json", Options{Format: "json"}, string(AppendJSON(nil, legacyRecord()))},
		{"text gets a newline", Options{Text: "%REQ(:METHOD)% %RESPONSE_CODE%"}, "GET 200\n"},
		{"text keeps its newline", Options{Text: "%REQ(:METHOD)%\n"}, "GET\n"},
		{"unbuffered", Options{Format: "envoy", FlushInterval: -1}, string(mustFormat(t, envoyFormat, legacyRecord()))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "access.log")
			tt.cfg.Path = path
			l, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			l.Log(legacyRecord())
			l.Log(nil)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l.Log(legacyRecord()) // after Close: dropped
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %q, want %q", b, tt.want)
			}
		})
	}
}

func mustFormat(t *testing.T, text string, r *Record) []byte {
	t.Helper()
	f, err := Compile(text)
	if err != nil {
		t.Fatal(err)
	}
	return f.Append(nil, r)
}

// TestLoggerNoop checks the loggers that write nothing.
func TestLoggerNoop(t *testing.T) {
	off, err := New(Options{Path: "off"})
	if err != nil {
		t.Fatal(err)
	}
	var none *Logger
	for name, l := range map[string]*Logger{"off": off, "nil": none} {
		t.Run(name, func(t *testing.T) {
			l.Log(legacyRecord())
			if err := l.Reopen(); err != nil {
				t.Errorf("Reopen: got %v, want nil", err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
			if got := l.Failures(); got != 0 {
				t.Errorf("Failures: got %d, want 0", got)
			}
		})
	}
}

// TestLoggerStdStreams checks that Close leaves stdout and stderr open.
func TestLoggerStdStreams(t *testing.T) {
	for _, path := range []string{"", "stdout", "stderr"} {
		t.Run(path, func(t *testing.T) {
			l, err := New(Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: got %v, want nil", err)
			}
			for _, f := range []*os.File{os.Stdout, os.Stderr} {
				if _, err := f.Stat(); err != nil {
					t.Errorf("%s: got %v, want it open", f.Name(), err)
				}
			}
		})
	}
}

func TestLogAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, format := range []string{"istio-legacy", "json"} {
		for _, interval := range []time.Duration{0, -1} {
			name := format + map[time.Duration]string{0: "/buffered", -1: "/unbuffered"}[interval]
			t.Run(name, func(t *testing.T) {
				l, err := New(Options{Format: format, Path: filepath.Join(t.TempDir(), "a.log"), FlushInterval: interval})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				r := legacyRecord()
				if got := testing.AllocsPerRun(1000, func() { l.Log(r) }); got != 0 {
					t.Errorf("got %v allocations per line, want 0", got)
				}
			})
		}
	}
}
