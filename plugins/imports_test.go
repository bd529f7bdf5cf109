package plugins_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the contract apart from the data plane: neither the
// contract nor the helpers that test plugins import the gateway or the
// routes package, so a plugin and its tests depend on the contract alone.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{".", "./plugintest"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, banned := range []string{"/portcullis/gateway", "/portcullis/routes"} {
				if strings.Contains(dep, banned) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
