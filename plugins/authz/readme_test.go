package authz_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// TestREADME writes the README's routes file and policy beside it, loads
// them, and decides the seed example's requests as the README says.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blocks := regexp.MustCompile("(?s)<!-- example: (\\S+) -->\n```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 4 {
		t.Fatalf("got %d examples, want two routes files, each with its policy", len(blocks))
	}
	for _, b := range blocks {
		path := filepath.Join(dir, string(b[1]))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b[2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := routes.Load(filepath.Join(dir, "routes.yaml"), registry(t))
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	for _, c := range []struct {
		path, principal string
		allowed         bool
	}{
		{"/allowed-path/x", "cluster.local/ns/allowed-namespace/sa/c", true},
		{"/allowed-path/x", "cluster.local/ns/other/sa/c", false},
		{"/other", "cluster.local/ns/allowed-namespace/sa/c", false},
	} {
		_, err := decide(t, cfg, c.path, c.principal)
		var rej *plugins.Reject
		if c.allowed != (err == nil) || !c.allowed && !errors.As(err, &rej) {
			t.Errorf("%s as %s: got %v, want allowed %v", c.path, c.principal, err, c.allowed)
		}
	}

	// The CUSTOM example: /api/ asks the authorizer, which is not running
	// here, so the check fails closed with status_on_error; other paths
	// are not asked about.
	custom, err := routes.Load(filepath.Join(dir, "custom", "routes.yaml"), registry(t))
	if err != nil {
		t.Fatal(err)
	}
	defer custom.Close()
	if _, err := decide(t, custom, "/home", ""); err != nil {
		t.Errorf("/home: got %v, want allowed", err)
	}
	var rej *plugins.Reject
	if _, err := decide(t, custom, "/api/x", ""); !errors.As(err, &rej) || rej.Status != 503 || rej.Flag != "UAEX" || rej.Details != "ext_authz_error" {
		t.Errorf("/api/x: got %v, want 503 UAEX ext_authz_error", err)
	}
}
