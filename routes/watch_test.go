package routes

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWatcherReportsAFileOnce loads a routes file with errors by a forced
// reload (SIGHUP), then by the file event of the same write: the errors are
// reported once. A change after that, and a forced reload of unchanged
// content, each load again.
func TestWatcherReportsAFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.yaml")
	good := "listeners: [ { name: web, address: \"127.0.0.1:0\" } ]\n"
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	var loads []error
	w, err := NewWatcher(path, cfg, nil, func(c *Config, err error) {
		loads = append(loads, err)
		c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.fw.Close()
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name     string
		do       func()
		loads    int
		lastGood bool
	}{
		{"a bad file on SIGHUP", func() { write("listeners: [ { name: web, adress: x } ]\n"); w.reload(true) }, 1, false},
		{"its file event", func() { w.reload(false) }, 1, false},
		{"the same bytes written again", func() { write("listeners: [ { name: web, adress: x } ]\n"); w.reload(false) }, 1, false},
		{"a fix", func() { write(good); w.reload(false) }, 2, true},
		{"its file event", func() { w.reload(false) }, 2, true},
		{"SIGHUP on unchanged content", func() { w.reload(true) }, 3, true},
	}
	for _, s := range steps {
		s.do()
		if len(loads) != s.loads || (loads[len(loads)-1] == nil) != s.lastGood {
			t.Fatalf("after %s: got loads %v, want %d, the last good: %v", s.name, loads, s.loads, s.lastGood)
		}
	}
}
