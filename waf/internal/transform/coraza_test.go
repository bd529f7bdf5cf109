package transform

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
)

// corazaVersion is the release of Coraza the transformations were copied
// from.
const corazaVersion = "v3.8.1"

// TestCopiedFromCorazaVersion fails when the Coraza the gateway builds
// with is not the one the transformations were copied from: a new
// release may have changed them, so they are to be copied again.
func TestCopiedFromCorazaVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "github.com/corazawaf/coraza/v3" {
			if f[1] != corazaVersion {
				t.Fatalf("this package holds Coraza %s's transformations; go.mod requires %s: copy them again", corazaVersion, f[1])
			}
			return
		}
	}
	t.Fatal("go.mod does not require Coraza")
}

// hostile are values each transformation has work on: escapes of every
// kind, entities, comments, paths, whitespace beyond ASCII, NUL and bytes
// that are not UTF-8.
var hostile = []string{
	"", "a", "ABC def", "%41%42%zz%", "%u0041%U00e9%u12", "a+b%2Bc", "%C3%A9%c3", "&lt;script&gt;&#x41;&#65;&amp;&bogus;",
	`\x41\u0042\101\n\t\\`, `\41 \0 \ff \"`, "/* c */ a -- b # c /*!50000 x*/", "a/./b/../../c//d\\e\\..\\f",
	"C:\\Windows\\..\\System32\\.\\cmd.exe", "  a \t\n\r\v\f b\u00a0c\u0085d\u2003e  ", "\x00a\x00b\x00",
	"\xff\xfe\xc0\xaf", "Straße ÉCOLE \u212a", "c^at /e\"t\"c/'pa'sswd,;(x)", "eval(atob('YWxlcnQ='))",
	"SGVsbG8gV29ybGQ=", "a\x00%00%2500", strings.Repeat("%41&amp;\\x42 ", 200),
}

// TestTransformsMatchCoraza runs every transformation on hostile values,
// beside Coraza's own run by a Coraza engine, and requires the same
// result.
func TestTransformsMatchCoraza(t *testing.T) {
	check := corazaTransforms(t)
	for _, v := range hostile {
		check(t, v)
	}
}

// FuzzTransformsMatchCoraza goes on from TestTransformsMatchCoraza.
func FuzzTransformsMatchCoraza(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	check := corazaTransforms(f)
	f.Fuzz(func(t *testing.T, v string) { check(t, v) })
}

// corazaTransforms builds an engine with a rule per transformation, which
// matches any value, and returns a check that sends v to it and compares
// what each rule read with what the transformation here gives.
func corazaTransforms(tb testing.TB) func(*testing.T, string) {
	names := Names()
	slices.Sort(names)
	var rules strings.Builder
	rules.WriteString("SecRuleEngine On\nSecRequestBodyAccess On\n")
	for i, n := range names {
		fmt.Fprintf(&rules, "SecRule ARGS_GET:v \"@unconditionalMatch\" \"id:%d,phase:2,pass,nolog,t:none,t:%s\"\n", i+1, n)
	}
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(rules.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return func(t *testing.T, v string) {
		tx := w.NewTransaction()
		defer tx.Close()
		tx.AddGetRequestArgument("v", v)
		tx.ProcessRequestHeaders()
		if _, err := tx.ProcessRequestBody(); err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, m := range tx.MatchedRules() {
			n := names[m.Rule().ID()-1]
			want := m.MatchedDatas()[0].Value()
			f, _ := Get(n)
			got, _, err := f(v)
			if err != nil {
				got = v
			}
			if got != want {
				t.Errorf("%s(%q) = %q, Coraza's gives %q", n, v, got, want)
			}
			seen++
		}
		if seen != len(names) {
			t.Fatalf("%d of %d rules matched", seen, len(names))
		}
	}
}
