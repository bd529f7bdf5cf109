package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestReloadRefusesHugeFiles replaces the running routes file with one past
// the size bound and one of millions of tiny values under an ignored x-
// key: each reload is refused with the file's name, the running
// configuration keeps serving, and the process's peak memory stays small.
func TestReloadRefusesHugeFiles(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc for the process's peak memory")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "routes.yaml")
	good := `
admin: { address: "127.0.0.1:0" }
access_log: { path: off }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: hello, match: { path_prefix: / }, direct_response: { status: 200, body: "v1" } } ] }
`
	if err := os.WriteFile(cfgPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "--config", cfgPath)
	web := strings.TrimSuffix(c.waitLog(t, "listening")["url"].(string), "/")

	// replace swaps the file in whole, as the kubelet does, so that no
	// reload sees half of it.
	replace := func(write func(f *os.File) error) {
		t.Helper()
		tmp := filepath.Join(dir, "next.yaml")
		f, err := os.Create(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if err := write(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
		c.cmd.Process.Signal(syscall.SIGHUP)
	}
	tests := []struct {
		name  string
		write func(f *os.File) error
		want  string
	}{
		{"past the size bound", func(f *os.File) error { return f.Truncate(64 << 20) },
			cfgPath + ": the file is 67108864 bytes, larger than 16777216 (16 MiB)"},
		{"four million tiny values", func(f *os.File) error {
			_, err := io.WriteString(f, "x-filler: ["+strings.Repeat("1,", 4_000_000)+"1]\n"+good)
			return err
		}, cfgPath + ": the file holds up to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replace(tt.write)
			for {
				m := c.waitLog(t, "routes file has errors; keeping the running configuration")
				if e, _ := m["error"].(string); strings.HasPrefix(e, tt.want) {
					break
				}
			}
			resp, err := http.Get(web + "/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "v1" {
				t.Errorf("after the refused file: got %d %q, want 200 v1", resp.StatusCode, b)
			}
			if hwm := peakRSS(t, c.cmd.Process.Pid); hwm > 256<<20 {
				t.Errorf("peak RSS %d MiB, want under 256 MiB", hwm>>20)
			} else {
				t.Logf("peak RSS %d MiB", hwm>>20)
			}
		})
	}
}

// peakRSS reads a process's peak resident set size from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
