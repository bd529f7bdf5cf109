package waf

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGateUnsettledNestedRelativeInclude: Coraza resolves an Include
// without a glob, inside an included file, against that file's directory;
// the reading of a profile's directives follows it there, not to the
// working directory.
func TestGateUnsettledNestedRelativeInclude(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "profile")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sub, "outer.conf"), "Include inner.conf\n")
	write(filepath.Join(sub, "inner.conf"), "SecRuleUpdateTargetById 941110 REQUEST_HEADERS:X-Q\n")
	write(filepath.Join(root, "inner.conf"), "SecRuleEngine On\n") // harmless file of the same name
	t.Chdir(root)
	if !gateUnsettled([]chunk{{text: "Include " + filepath.Join(sub, "outer.conf")}}) {
		t.Fatal("gate kept on although profile/inner.conf adds a target to 941110")
	}
}
