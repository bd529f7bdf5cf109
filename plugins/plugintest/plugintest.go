// Package plugintest holds what the tests of every plugin share: loading the
// examples of a plugin's README as whole routes files.
package plugintest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
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

// Name is the subtest name of the i-th example.
func Name(i int) string { return fmt.Sprint("example ", i+1) }

// FieldErrors returns the *plugins.FieldError values in err, looking into
// errors.Join as a plugin's Build returns them.
func FieldErrors(err error) []*plugins.FieldError {
	var fe *plugins.FieldError
	if errors.As(err, &fe) && err == error(fe) {
		return []*plugins.FieldError{fe}
	}
	var out []*plugins.FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
	}
	return out
}

// CheckFieldErrors checks that a Build returned no handler and exactly the
// field errors want names, in order, each written "field: part of the
// message".
func CheckFieldErrors(t *testing.T, h plugins.Handler, err error, want []string) {
	t.Helper()
	if h != nil {
		t.Errorf("got handler %T, want nil", h)
	}
	fes := FieldErrors(err)
	if len(fes) != len(want) {
		t.Fatalf("got %d field errors (%v), want %d", len(fes), err, len(want))
	}
	for i, fe := range fes {
		field, part, _ := strings.Cut(want[i], ": ")
		if fe.Field != field || !strings.Contains(fe.Msg, part) {
			t.Errorf("got error %d %q, want field %s and a message with %q", i, fe, field, part)
		}
	}
}
