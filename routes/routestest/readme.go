// Package routestest holds what tests of the routes file share across
// packages: loading a plugin's README examples as whole routes files.
package routestest

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// yamlBlock matches a fenced yaml block, capturing its body.
var yamlBlock = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// ReadmeRules loads every yaml example of the README at path as a whole
// routes file with a registry of factory alone, and returns, for each, the
// rule that GET example.com/ matches, after checking that the rule's chain
// runs the plugin. It fails the test if the README has fewer than min
// examples.
func ReadmeRules(t *testing.T, path string, factory plugins.Factory, min int) []*routes.Rule {
	t.Helper()
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlock.FindAllSubmatch(readme, -1)
	if len(blocks) < min {
		t.Fatalf("got %d yaml examples in %s, want at least %d", len(blocks), path, min)
	}
	reg, err := plugins.NewRegistry(factory)
	if err != nil {
		t.Fatal(err)
	}
	var rules []*routes.Rule
	for i, b := range blocks {
		cfg, err := routes.Parse(path, b[1], reg)
		if err != nil {
			t.Fatalf("example %d: got error %v, want nil", i+1, err)
		}
		t.Cleanup(func() { cfg.Close() })
		rule, _ := cfg.Table.Match("example.com", "/", http.MethodGet, http.Header{})
		if rule == nil {
			t.Fatalf("example %d: got no rule for GET example.com/, want one", i+1)
		}
		if !slices.Contains(rule.Chain.Names, factory.Name) {
			t.Fatalf("example %d: got chain %q, want it to hold %q", i+1, rule.Chain.Names, factory.Name)
		}
		rules = append(rules, rule)
	}
	return rules
}
