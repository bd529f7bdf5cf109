package waf

import (
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"go.yaml.in/yaml/v3"
	"rsc.io/binaryregexp"
)

// capturer is the part of a transaction an operator uses: it records the
// captures it is given.
type capturer struct {
	plugintypes.TransactionState
	capturing bool
	fields    [9]string
	set       [9]bool
}

func (c *capturer) Capturing() bool { return c.capturing }
func (c *capturer) CaptureField(i int, v string) {
	c.fields[i], c.set[i] = v, true
}

// stockRx evaluates a pattern as Coraza v3.8.1's own @rx does
// (internal/operators/rx.go, without SecRxPreFilter, which no profile
// turns on): the reference the gateway's operator is held to.
func stockRx(pattern string) func(tx *capturer, v string) bool {
	if matchesBytes(rxExpr(pattern)) {
		re := binaryregexp.MustCompile(pattern)
		return func(tx *capturer, v string) bool {
			if !tx.Capturing() {
				return re.MatchString(v)
			}
			m := re.FindStringSubmatch(v)
			for i := 0; i < len(m) && i < 9; i++ {
				tx.CaptureField(i, m[i])
			}
			return len(m) > 0
		}
	}
	re := regexp.MustCompile(rxExpr(pattern))
	return func(tx *capturer, v string) bool {
		if !tx.Capturing() {
			return re.MatchString(v)
		}
		m := re.FindStringSubmatchIndex(v)
		if m == nil {
			return false
		}
		captureIndexes(tx, v, m)
		return true
	}
}

var crsPatterns = sync.OnceValues(func() ([]string, error) {
	registerOperators()
	seen := map[string]bool{}
	plugins.RegisterOperator("rx", func(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		seen[o.Arguments] = true
		return newRx(o)
	})
	defer plugins.RegisterOperator("rx", newRx)
	_, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(rootFS{stock: true}).
		WithDirectives("Include @coraza.conf-recommended\nInclude @crs-setup.conf.example\nInclude @owasp_crs/*.conf"))
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, err
})

// crsValues are the values the CRS's regression tests send (their paths
// and queries, bodies and header values, as sent and URL-decoded), and
// benign ones.
var crsValues = sync.OnceValues(func() ([]string, error) {
	set := map[string]bool{}
	add := func(v string) {
		set[v] = true
		if d, err := url.QueryUnescape(v); err == nil {
			set[d] = true
			set[strings.ToLower(d)] = true
		}
	}
	for _, v := range benignValues {
		add(v)
	}
	err := fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := fs.ReadFile(crstests.FS, path)
		if err != nil {
			return err
		}
		var f struct {
			Tests []struct {
				Stages []struct {
					Input struct {
						URI     string            `yaml:"uri"`
						Data    string            `yaml:"data"`
						Headers map[string]string `yaml:"headers"`
					} `yaml:"input"`
				} `yaml:"stages"`
			} `yaml:"tests"`
		}
		if yaml.Unmarshal(b, &f) != nil {
			return nil // a few hold values that are not strings
		}
		for _, tt := range f.Tests {
			for _, s := range tt.Stages {
				add(s.Input.URI)
				add(s.Input.Data)
				for _, v := range s.Input.Headers {
					add(v)
				}
			}
		}
		return nil
	})
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, err
})

var benignValues = []string{
	"", "a", "blue shoes", "/products/shoes", "page=2&order=price", "Leave at the door",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"application/json, text/plain, */*", "en-GB,en;q=0.5", "gzip, deflate, br", "session=4f9c2a7e1b; theme=dark",
	`{"order":1,"customer":{"name":"Customer 1","email":"c1@example.com"}}`, "c1@example.com", "SKU-0001",
	"Ünïcödé straße", "ſelect", "\u212aey", "O'Brien", "rock & roll", "50% off (today)", "1 + 1 = 2",
	"SELECT your seat", "<b>bold</b> text", "C:\\Users\\me", "../", "\xff\xfe binary \x00",
	// Attacks with bytes that are not UTF-8 before, within and after them.
	"\xff<script>alert(1)</script>", "<scr\xffipt>alert(1)</script>", "1' or '1'='1\xc0", "\xe2\x80/etc/passwd",
	"union\xa0select password from users", "\xf0\x9f;cat /etc/passwd\xf0", "<img src=x onerror=\xfe alert(1)>",
}

// TestRxMatchesStock checks the gateway's @rx against Coraza's on every
// pattern of the embedded CRS and every value of the CRS's regression
// tests: the same match and the same captures, with and without
// capturing.
func TestRxMatchesStock(t *testing.T) {
	if raceDetector {
		t.Skip("slow under the race detector; .ci/run runs it without")
	}
	patterns, err := crsPatterns()
	if err != nil {
		t.Fatal(err)
	}
	values, err := crsValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(patterns) < 250 || len(values) < 5000 {
		t.Fatalf("got %d patterns and %d values, want the CRS's", len(patterns), len(values))
	}
	// Every value against every pattern takes minutes: the benign and
	// broken ones and a sample of the rest, which FuzzRx goes beyond.
	sample := slices.Clone(benignValues)
	for i := 0; i < len(values); i += 47 {
		sample = append(sample, values[i])
	}
	matched, filtered := 0, 0
	for _, p := range patterns {
		op, err := newRx(plugintypes.OperatorOptions{Arguments: p})
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		stock := stockRx(p)
		if r, ok := op.(*rx); ok && r.need != nil {
			filtered++
		}
		for _, v := range sample {
			for _, capturing := range []bool{false, true} {
				got, want := &capturer{capturing: capturing}, &capturer{capturing: capturing}
				g, w := op.Evaluate(got, v), stock(want, v)
				if g != w || got.fields != want.fields || got.set != want.set {
					t.Fatalf("%q on %q (capturing %v): got %v %q, want %v %q", p, v, capturing, g, got.fields, w, want.fields)
				}
				if g && capturing {
					matched++
				}
			}
		}
	}
	t.Logf("%d patterns, %d with a literal test; %d values; %d matches", len(patterns), filtered, len(values), matched)
}

// FuzzRx checks the gateway's @rx against Coraza's on the CRS's patterns
// and any value.
func FuzzRx(f *testing.F) {
	if raceDetector {
		f.Skip("slow under the race detector; .ci/run fuzzes it without")
	}
	patterns, err := crsPatterns()
	if err != nil {
		f.Fatal(err)
	}
	values, err := crsValues()
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < len(values); i += 50 {
		f.Add(uint16(i), values[i])
	}
	ops := make([]plugintypes.Operator, len(patterns))
	stock := make([]func(*capturer, string) bool, len(patterns))
	f.Fuzz(func(t *testing.T, n uint16, v string) {
		i := int(n) % len(patterns)
		if ops[i] == nil {
			if ops[i], err = newRx(plugintypes.OperatorOptions{Arguments: patterns[i]}); err != nil {
				t.Fatal(err)
			}
			stock[i] = stockRx(patterns[i])
		}
		got, want := &capturer{capturing: true}, &capturer{capturing: true}
		if g, w := ops[i].Evaluate(got, v), stock[i](want, v); g != w || got.fields != want.fields {
			t.Fatalf("%q on %q: got %v %q, want %v %q", patterns[i], v, g, got.fields, w, want.fields)
		}
	})
}

// TestMatchesBytes checks which patterns go to binaryregexp, as Coraza
// sends them: those whose \x escapes spell bytes that are not UTF-8.
func TestMatchesBytes(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		want    bool
	}{
		{`\xac\xed\x00\x05`, true},
		{`a\xff`, true},
		{`\x{ff}`, true},
		{`\x{c2}\x{b4}`, false}, // the bytes of ´
		{`\xc2\xb4`, false},
		{`\x41\x42`, false},
		{`abc\x`, false},
		{`\\xff`, true}, // as Coraza reads it: an escaped backslash is not skipped
		{`[\x00-\x7f]`, false},
		{`\xe2\x80`, true},
		{`\x{e2}\x80[\x98\x99]`, true},
	} {
		if got := matchesBytes(rxExpr(tt.pattern)); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
