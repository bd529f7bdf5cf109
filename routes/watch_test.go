package routes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
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

// TestWatcherPolicyGlobs reloads when a file comes to match a policies
// glob: a bad policy added beside the others fails the reload with its own
// file:line, its fix loads, and its removal loads again.
func TestWatcherPolicyGlobs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "routes.yaml")
	policies := filepath.Join(dir, "policies")
	policy := "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: %s, namespace: ns }\nspec:\n  rules: [ { to: [ { operation: { ports: [\"%s\"] } } ] } ]\n"
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(policies, 0o700); err != nil {
		t.Fatal(err)
	}
	write(path, "listeners: [ { name: web, address: \"127.0.0.1:0\" } ]\npolicies: [ \"policies/*.yaml\" ]\n")
	write(filepath.Join(policies, "a.yaml"), fmt.Sprintf(policy, "a", "80"))
	reg, err := plugins.NewRegistry(authz.New(nil).Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	var loads []error
	w, err := NewWatcher(path, cfg, reg, func(c *Config, err error) {
		loads = append(loads, err)
		if c != nil {
			c.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.fw.Close()
	added := filepath.Join(policies, "b.yaml")
	if !w.relevant(added) {
		t.Errorf("an event on %s: got irrelevant, want it to match the glob", added)
	}
	write(added, fmt.Sprintf(policy, "b", "http"))
	w.reload(false)
	if len(loads) != 1 || loads[0] == nil || !strings.Contains(loads[0].Error(), added+":5:43: AuthorizationPolicy ns/b: bad port (http)") {
		t.Fatalf("after a bad policy was added: got %v, want its error", loads)
	}
	write(added, fmt.Sprintf(policy, "b", "8080"))
	w.reload(false)
	if err := os.Remove(added); err != nil {
		t.Fatal(err)
	}
	w.reload(false)
	if len(loads) != 3 || loads[1] != nil || loads[2] != nil {
		t.Fatalf("after the fix and the removal: got %v, want two good loads", loads)
	}
}
