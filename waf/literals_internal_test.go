package waf

import (
	"regexp"
	"regexp/syntax"
	"testing"
)

// TestLiteralsNeverSkipAMatch checks the literal test of patterns built to
// trip it (case folding beyond ASCII, U+FFFD, classes, optional and
// repeated pieces, anchors) on values that match them: it must let every
// one through to the regular expression, and turn away the value that
// holds none of the pattern's literals.
func TestLiteralsNeverSkipAMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		matches []string
		skipped string // a value the test turns away
	}{
		{`(?i)select`, []string{"SELECT", "SeLeCt", "ſelect", "\u017fELECT"}, "selec"},
		{`(?i)kill`, []string{"KILL", "\u212aill", "\u212aILL"}, "kil"},
		{`(?i)Straße`, []string{"straße", "STRAßE"}, ""},
		{`\x{FFFD}x`, []string{"\xffx", "\ufffdx"}, ""},
		{`a[bc]d`, []string{"abd", "xacdx"}, "ad"},
		{`(?i)a[bc]d`, []string{"ABD", "aCd"}, "a-d"},
		{`ab?c`, []string{"ac", "abc"}, "a-c"},
		{`(?:union|select)\s+all`, []string{"union all", "select \t all"}, "onion all"},
		{`(?i)(?:on(?:load|error)|src)\s*=`, []string{"ONLOAD=", "src =", "onError\n="}, "onclick="},
		{`^(?:GET|HEAD)$`, []string{"GET", "x\nHEAD\ny"}, "PUT"},
		{`\bor\b\s+1=1`, []string{"x or 1=1"}, "x or 1-1"},
		{`(?:a|b)+c{2,3}`, []string{"acc", "babaccc"}, "ab c"},
		{`<script[^>]*>`, []string{"<script>", "<script src=x>"}, "<scrip>"},
		{`(?i)<script`, []string{"<SCRIPT", "<sCrIpT"}, "<scrip"},
		{`\.\./`, []string{"../", "a/../b"}, "./"},
		{`[\x{212A}]ey`, []string{"\u212aey"}, "Key"},
		{`(?i)é`, []string{"É", "é"}, ""},
		{`x{0}y`, []string{"y"}, ""},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			expr := rxExpr(tt.pattern)
			re := regexp.MustCompile(expr)
			tree, err := syntax.Parse(expr, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			l := newLiterals(need(tree.Simplify()))
			for _, v := range tt.matches {
				if !re.MatchString(v) {
					t.Fatalf("%q does not match: the case is wrong", v)
				}
				if l != nil && !l.in(v) {
					t.Errorf("got %q turned away, want it matched", v)
				}
			}
			if tt.skipped != "" && (l == nil || l.in(tt.skipped)) {
				t.Errorf("got %q let through, want it turned away", tt.skipped)
			}
		})
	}
}
