package accesslog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// idRecord returns a record whose line carries id, for counting lines.
func idRecord(id string) *Record {
	r := legacyRecord()
	r.RequestID, r.RequestHeader = id, nil
	return r
}

func TestReopen(t *testing.T) {
	for _, interval := range []time.Duration{0, -1} {
		t.Run(fmt.Sprintf("interval=%v", interval), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "access.log")
			rotated := filepath.Join(dir, "access.log.1")
			l, err := New(Options{Text: "%REQ(X-REQUEST-ID)%", Path: path, FlushInterval: interval})
			if err != nil {
				t.Fatal(err)
			}
			l.Log(idRecord("before-1"))
			l.Log(idRecord("before-2"))
			if err := os.Rename(path, rotated); err != nil {
				t.Fatal(err)
			}
			l.Log(idRecord("renamed"))
			if err := l.Reopen(); err != nil {
				t.Fatal(err)
			}
			l.Log(idRecord("after"))
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Reopen(); err == nil {
				t.Errorf("Reopen after Close: got nil, want an error")
			}
			if got, want := readLines(t, rotated), []string{"before-1", "before-2", "renamed"}; !slices.Equal(got, want) {
				t.Errorf("rotated file: got %q, want %q", got, want)
			}
			if got, want := readLines(t, path), []string{"after"}; !slices.Equal(got, want) {
				t.Errorf("new file: got %q, want %q", got, want)
			}
		})
	}
}

// TestReopenFailure checks that a Logger whose path cannot be reopened keeps
// writing to the file it has.
func TestReopenFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "access.log")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := New(Options{Text: "%REQ(X-REQUEST-ID)%", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(filepath.Dir(path), moved); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err == nil || !strings.Contains(err.Error(), "access log: reopen:") {
		t.Errorf("got %v, want an access log: reopen: error", err)
	}
	l.Log(idRecord("kept"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readLines(t, filepath.Join(moved, "access.log")), []string{"kept"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestConcurrentLog logs from many goroutines while the file is rotated and
// checks that every line arrives whole, exactly once.
func TestConcurrentLog(t *testing.T) {
	const goroutines, perGoroutine = 16, 300
	for _, tt := range []struct {
		name     string
		format   string
		interval time.Duration
	}{
		{"json buffered", "json", 0},
		{"json unbuffered", "json", -1},
		{"text buffered", "istio-legacy", 0},
		{"text tiny interval", "istio-legacy", time.Microsecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "access.log")
			l, err := New(Options{Format: tt.format, Path: path, FlushInterval: tt.interval})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perGoroutine {
						r := idRecord(strconv.Itoa(g) + "-" + strconv.Itoa(i))
						// A long value makes lines big enough to cross
						// buffer boundaries.
						r.Path = "/" + strings.Repeat("p", g*50)
						l.Log(r)
					}
				})
			}
			rotated := filepath.Join(dir, "access.log.1")
			if err := os.Rename(path, rotated); err != nil {
				t.Fatal(err)
			}
			if err := l.Reopen(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			lines := append(readLines(t, rotated), readLines(t, path)...)
			if len(lines) != goroutines*perGoroutine {
				t.Fatalf("got %d lines, want %d", len(lines), goroutines*perGoroutine)
			}
			want, _ := Preset("istio-legacy")
			seen := map[string]bool{}
			for _, line := range lines {
				r := legacyRecord()
				var id string
				if tt.format == "json" {
					m, _ := decodeJSON(t, []byte(line+"\n"))
					id, _ = m[FieldRequestID].(string)
					r.Path = m[FieldPath].(string)
				} else {
					id = strings.Split(line, `"`)[11]
					r.Path = strings.Fields(line)[2]
				}
				r.RequestID, r.RequestHeader = id, nil
				var exp string
				if tt.format == "json" {
					exp = string(AppendJSON(nil, r))
				} else {
					exp = string(mustFormat(t, want, r))
				}
				if line+"\n" != exp {
					t.Fatalf("got line %q, want %q", line, exp)
				}
				if seen[id] {
					t.Fatalf("got line %q twice", id)
				}
				seen[id] = true
			}
		})
	}
}

// TestFlushInterval checks that buffered lines reach the file without Close.
func TestFlushInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := New(Options{Text: "%REQ(X-REQUEST-ID)%", Path: path, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Log(idRecord("flushed"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if b, _ := os.ReadFile(path); string(b) == "flushed\n" {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("got %q after 10s, want %q", b, "flushed\n")
		}
	}
}
