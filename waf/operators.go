package waf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/libinjection-go"
	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// innerOperators are the operators @transformed runs after its
// transformations (see fused.go), by the names SecLang gives them. But
// @rx, they are Coraza v3.8.1's own (internal/operators), written again
// here since Coraza keeps them internal: the same libraries, built with
// the same options, give the same matches and captures.
// TestFusedMatchesStock holds them to Coraza's.
var innerOperators = map[string]plugintypes.OperatorFactory{
	"rx":                newRx,
	"pm":                newPM,
	"pmFromFile":        newPMFromFile,
	"pmf":               newPMFromFile,
	"detectSQLi":        func(plugintypes.OperatorOptions) (plugintypes.Operator, error) { return detectSQLi{}, nil },
	"detectXSS":         func(plugintypes.OperatorOptions) (plugintypes.Operator, error) { return detectXSS{}, nil },
	"validateByteRange": newValidateByteRange,
}

// pm matches any of a list of phrases, without regard to ASCII case.
type pm struct {
	matcher ahocorasick.AhoCorasick
	minLen  int // of the shortest phrase: a shorter value cannot match
	// plainFree says that no plain value holds a phrase (plain.go).
	plainFree bool
}

func newPM(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := strings.ToLower(o.Arguments)
	dict := strings.Split(data, " ")
	m, err := memoize(o.Memoizer, "portcullis-pm:"+data, func() (any, error) { return buildPM(dict, true), nil })
	if err != nil {
		return nil, err
	}
	return &pm{matcher: m.(ahocorasick.AhoCorasick), minLen: minLen(dict), plainFree: plainFree(dict, true)}, nil
}

// newPMFromFile reads the phrases from a file beside the rule's, a line
// each, skipping empty lines and comments.
func newPMFromFile(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data, err := readBeside(o.Arguments, o.Path, o.Root)
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		lines = append(lines, strings.ToLower(l))
	}
	m, err := memoize(o.Memoizer, "portcullis-pmf:"+strings.Join(o.Path, ",")+o.Arguments, func() (any, error) { return buildPM(lines, false), nil })
	if err != nil {
		return nil, err
	}
	return &pm{matcher: m.(ahocorasick.AhoCorasick), minLen: minLen(lines), plainFree: plainFree(lines, true)}, nil
}

func buildPM(dict []string, dfa bool) ahocorasick.AhoCorasick {
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{
		AsciiCaseInsensitive: true,
		MatchKind:            ahocorasick.LeftMostLongestMatch,
		DFA:                  dfa,
	})
	return b.Build(dict)
}

func minLen(dict []string) int {
	n := 0
	for _, p := range dict {
		if p == "" {
			return 0
		}
		if n == 0 || len(p) < n {
			n = len(p)
		}
	}
	return n
}

// Evaluate reports whether a phrase is in value, and when the rule
// captures, captures the first ten phrases found as TX.0 to TX.9.
func (o *pm) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if len(value) < o.minLen {
		return false
	}
	it := o.matcher.Iter(value)
	if !tx.Capturing() {
		return it.Next() != nil
	}
	n := 0
	for m := it.Next(); m != nil; m = it.Next() {
		tx.CaptureField(n, value[m.Start():m.End()])
		if n++; n == 10 {
			break
		}
	}
	return n > 0
}

// readBeside reads a file named by a rule: from the directories of the
// files that include it, the first that holds it.
func readBeside(name string, dirs []string, root fs.FS) ([]byte, error) {
	if path.IsAbs(name) {
		return fs.ReadFile(root, name)
	}
	if len(dirs) == 0 {
		return nil, errors.New("empty dirs")
	}
	var err error
	for _, d := range dirs {
		var b []byte
		if b, err = fs.ReadFile(root, path.Join(d, name)); err == nil {
			return b, nil
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
	}
	return nil, err
}

// detectSQLi is libinjection's SQL injection test; it captures the
// fingerprint as TX.0.
type detectSQLi struct{}

func (detectSQLi) Evaluate(tx plugintypes.TransactionState, value string) bool {
	ok, fingerprint := libinjection.IsSQLi(value)
	if ok {
		tx.CaptureField(0, fingerprint)
	}
	return ok
}

// detectXSS is libinjection's cross-site scripting test.
type detectXSS struct{}

func (detectXSS) Evaluate(_ plugintypes.TransactionState, value string) bool {
	return libinjection.IsXSS(value)
}

// validateByteRange matches a value that holds a byte outside the ranges
// it is given ("1-255", "9,10,13,32-126").
type validateByteRange struct{ valid [256]bool }

func newValidateByteRange(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	if o.Arguments == "" {
		return matchAll{}, nil
	}
	v := &validateByteRange{}
	for _, r := range strings.Split(o.Arguments, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(r), "-")
		lo, err := byteArg(from)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = byteArg(to); err != nil {
				return nil, err
			}
		}
		for i := lo; i <= hi; i++ {
			v.valid[i] = true
		}
	}
	return v, nil
}

func byteArg(s string) (int, error) {
	b, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if b < 0 || b > 255 {
		return 0, fmt.Errorf("invalid byte %d", b)
	}
	return b, nil
}

func (o *validateByteRange) Evaluate(_ plugintypes.TransactionState, value string) bool {
	for i := 0; i < len(value); i++ {
		if !o.valid[value[i]] {
			return true
		}
	}
	return false
}

// matchAll is @unconditionalMatch, which an empty @validateByteRange is.
type matchAll struct{}

func (matchAll) Evaluate(plugintypes.TransactionState, string) bool { return true }
