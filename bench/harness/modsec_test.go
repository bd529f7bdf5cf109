package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEarlyBlockingPatch(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"chained rule without actions", "    chain\"\n    SecRule TX:EARLY_BLOCKING \"@eq 1\"\nSecRule X",
			"    chain\"\n    SecRule TX:EARLY_BLOCKING \"@eq 1\" \"t:none\"\nSecRule X"},
		{"trailing blanks", "    SecRule TX:EARLY_BLOCKING \"@eq 1\" \t\n", "    SecRule TX:EARLY_BLOCKING \"@eq 1\" \"t:none\"\n"},
		{"already has actions", "    SecRule TX:EARLY_BLOCKING \"@eq 1\" \"t:none\"\n", "    SecRule TX:EARLY_BLOCKING \"@eq 1\" \"t:none\"\n"},
		{"continued on the next line", "SecRule TX:EARLY_BLOCKING \"@eq 1\" \\\n    \"id:1\"\n", "SecRule TX:EARLY_BLOCKING \"@eq 1\" \\\n    \"id:1\"\n"},
		{"another variable", "    SecRule TX:OTHER \"@eq 1\"\n", "    SecRule TX:OTHER \"@eq 1\"\n"},
		{"in a comment", "# SecRule TX:EARLY_BLOCKING \"@eq 1\"\n", "# SecRule TX:EARLY_BLOCKING \"@eq 1\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(earlyBlocking.ReplaceAll([]byte(tc.in), []byte(`$1 "t:none"`))); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCopyCRS4 copies the CRS the gateway embeds, as the WAF scenarios do
// for nginx's ModSecurity, and checks the copy: every rule and data file,
// the setup, and the two early-blocking rules given an action list.
func TestCopyCRS4(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	version, err := copyCRS4(context.Background(), repo, dir)
	if err != nil {
		t.Fatalf("copyCRS4: got %v, want nil", err)
	}
	if !strings.HasPrefix(version, "CRS 4.") || !strings.Contains(version, crsModule) {
		t.Errorf("version: got %q, want CRS 4.x from %s", version, crsModule)
	}
	if _, err := os.Stat(filepath.Join(dir, "crs-setup.conf")); err != nil {
		t.Errorf("crs-setup.conf: %v", err)
	}
	for _, glob := range []string{"REQUEST-9*.conf", "RESPONSE-9*.conf", "*.data"} {
		if m, _ := filepath.Glob(filepath.Join(dir, "rules", glob)); len(m) < 3 {
			t.Errorf("rules/%s: got %d files, want the CRS's", glob, len(m))
		}
	}
	for _, f := range []string{"REQUEST-949-BLOCKING-EVALUATION.conf", "RESPONSE-959-BLOCKING-EVALUATION.conf"} {
		b, err := os.ReadFile(filepath.Join(dir, "rules", f))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), `SecRule TX:EARLY_BLOCKING "@eq 1" "t:none"`); n != 1 {
			t.Errorf("%s: got %d early-blocking rules with an action list, want 1", f, n)
		}
	}
}

func TestModulesPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"configure arguments: --prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules --with-foo", "/usr/lib/nginx/modules"},
		{"configure arguments: --prefix=/opt/nginx", "/usr/lib/nginx/modules"},
	}
	for _, tc := range tests {
		if got := modulesPath(tc.in); got != tc.want {
			t.Errorf("modulesPath(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
