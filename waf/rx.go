package waf

import (
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"rsc.io/binaryregexp"
)

// rx is the gateway's @rx operator, registered in place of Coraza's own. It
// compiles a pattern as Coraza v3.8.1 does, behind "(?sm)", and gives the
// same match and the same captures, but first looks for the literals that
// any match must hold (see need): most values the CRS's rules read hold
// none of a rule's, and a value that cannot match costs a scan of its bytes
// instead of a run of the regular expression. A value that may match is
// matched by RE2, whose automaton reads each byte once whatever the
// pattern's size, where Go's regexp steps through all of the pattern's
// states at every byte: that bounds what a long value costs.
type rx struct {
	re   matcher
	need *literals // nil when the pattern requires no literal
}

// matcher is a compiled pattern: RE2's (rx_re2.go), or Go's regexp in a
// binary built with the race detector (rx_race.go).
type matcher interface {
	MatchString(s string) bool
	FindStringSubmatchIndex(s string) []int
}

// registerOperators puts the gateway's operators in Coraza's registry once
// per process, before the first engine is built: Coraza's registry is a
// plain map that its parser reads while it builds an engine.
func registerOperators() {
	operatorsOnce.Do(func() {
		plugins.RegisterOperator("rx", newRx)
		plugins.RegisterOperator("transformed", newTransformed)
		plugins.RegisterOperator("distinctKeys", newDistinctKeys)
		plugins.RegisterOperator("gate", newGate)
	})
}

var operatorsOnce sync.Once

// rxExpr is what Coraza compiles for a pattern: dot matches a newline, and
// ^ and $ match at lines' ends too.
func rxExpr(pattern string) string { return "(?sm)" + pattern }

func newRx(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	expr := rxExpr(o.Arguments)
	if matchesBytes(expr) {
		// As Coraza does, a pattern that matches bytes that are not
		// UTF-8 runs in binaryregexp, without the flags.
		re, err := memoize(o.Memoizer, "portcullis-binrx:"+o.Arguments, func() (any, error) {
			return binaryregexp.Compile(o.Arguments)
		})
		if err != nil {
			return nil, err
		}
		return &binaryRx{re.(*binaryregexp.Regexp)}, nil
	}
	op, err := memoize(o.Memoizer, "portcullis-rx:"+expr, func() (any, error) {
		// Go's parser says first whether Coraza would take the pattern.
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			return nil, err
		}
		re, err := compileRx(expr)
		if err != nil {
			return nil, err
		}
		return &rx{re: re, need: newLiterals(need(tree.Simplify()))}, nil
	})
	if err != nil {
		return nil, err
	}
	return op.(*rx), nil
}

func memoize(m plugintypes.Memoizer, key string, fn func() (any, error)) (any, error) {
	if m == nil {
		return fn()
	}
	return m.Do(key, fn)
}

// Evaluate reports whether the pattern matches value, and when the rule
// captures, sets TX.0 (the match) to TX.8 (groups past the eighth are not
// captured, and a group that took no part is empty), as Coraza's does.
func (o *rx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.need != nil && !o.need.in(value) {
		return false
	}
	// RE2 stops reading at a byte that is not UTF-8, where Go's regexp
	// reads it as U+FFFD and goes on: RE2 reads such a value with each
	// of those bytes written as U+FFFD, the same runes.
	s, at := value, []int(nil)
	if !utf8.ValidString(value) {
		s, at = validUTF8(value)
	}
	if !tx.Capturing() {
		return o.re.MatchString(s)
	}
	m := o.re.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	if at != nil {
		for i, x := range m {
			if x >= 0 {
				m[i] = at[x]
			}
		}
	}
	captureIndexes(tx, value, m)
	return true
}

// validUTF8 returns v with each byte that is not UTF-8 replaced by U+FFFD,
// and for each index of the result and its length, the index of v it
// comes from.
func validUTF8(v string) (string, []int) {
	var b strings.Builder
	b.Grow(len(v) + 8)
	at := make([]int, 0, len(v)+9)
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
			at = append(at, i, i, i)
		} else {
			b.WriteString(v[i : i+n])
			for j := range n {
				at = append(at, i+j)
			}
		}
		i += n
	}
	return b.String(), append(at, len(v))
}

// captureIndexes captures the groups that m, pairs of indexes into value,
// gives.
func captureIndexes(tx plugintypes.TransactionState, value string, m []int) {
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
}

// binaryRx is a pattern that matches bytes that are not UTF-8.
type binaryRx struct{ re *binaryregexp.Regexp }

func (o *binaryRx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !tx.Capturing() {
		return o.re.MatchString(value)
	}
	m := o.re.FindStringSubmatch(value)
	for i := 0; i < len(m) && i < 9; i++ {
		tx.CaptureField(i, m[i])
	}
	return len(m) > 0
}

// matchesBytes reports whether a pattern's \xNN escapes, decoded, leave
// bytes that are not UTF-8: Coraza's test for a pattern it hands to
// binaryregexp.
func matchesBytes(expr string) bool {
	decoded := make([]byte, 0, len(expr))
	for i := 0; i < len(expr); i++ {
		switch {
		case expr[i] == '\\' && i+3 >= len(expr):
			return !utf8.Valid(append(decoded, expr[i:]...))
		case expr[i] != '\\' || expr[i+1] != 'x':
			decoded = append(decoded, expr[i])
			continue
		}
		sub, skip := expr[i:], 3
		if len(sub) >= 6 && sub[2] == '{' {
			if end := strings.IndexByte(sub, '}'); end != -1 {
				sub, skip = `\x`+sub[3:end], end
			}
		}
		v, multibyte, _, err := strconv.UnquoteChar(sub, 0)
		if err != nil || multibyte {
			decoded = append(decoded, expr[i])
			continue
		}
		decoded = append(decoded, byte(v))
		i += skip
	}
	return !utf8.Valid(decoded)
}
