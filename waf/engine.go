package waf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"
)

// engine is one Coraza WAF, built from one profile's directives and shared
// by every route of a load that names a profile with those directives.
// Whoever uses it holds a reference: the scope that built it until every
// chain of the load is built, and each route's handler until its Close. The
// last release closes it.
type engine struct {
	waf  coraza.WAF
	refs atomic.Int64
	// done runs once the last reference is gone.
	done func()
}

func (e *engine) acquire() *engine {
	e.refs.Add(1)
	return e
}

func (e *engine) release() {
	if e.refs.Add(-1) != 0 {
		return
	}
	if c, ok := e.waf.(experimental.WAFCloser); ok {
		_ = c.Close() // it only drops Coraza's caches
	}
	if e.done != nil {
		e.done()
	}
}

// compile builds a WAF from chunks. When Coraza refuses one, the error
// names the chunk at fault, found by building ever shorter prefixes (each
// build with the CRS takes a fraction of a second, and this is only done
// for a profile that does not load).
func compile(chunks []chunk, log *errorLog) (coraza.WAF, error) {
	w, err := newWAF(chunks, log)
	if err == nil {
		return w, nil
	}
	var fallible []int
	for i, c := range chunks {
		if c.field != "" {
			fallible = append(fallible, i)
		}
	}
	// The first chunk whose prefix fails is the one at fault: a prefix
	// that holds it fails, one that does not builds.
	lo, hi := 0, len(fallible)
	failed := err
	for lo < hi {
		mid := (lo + hi) / 2
		if _, perr := newWAF(chunks[:fallible[mid]+1], nil); perr != nil {
			hi, failed = mid, perr
		} else {
			lo = mid + 1
		}
	}
	if lo == len(fallible) {
		return nil, err // not one of the profile's own directives
	}
	c := chunks[fallible[lo]]
	return nil, &fieldErr{c.field, fmt.Errorf("%s%w", c.where(), cleanError(failed))}
}

func newWAF(chunks []chunk, log *errorLog) (coraza.WAF, error) {
	root := rootFS{stock: updatesTransformations(chunks)}
	if !root.stock && !gateUnsettled(chunks) {
		root.gates = newGates(chunks)
	}
	cfg := coraza.NewWAFConfig().WithRootFS(root)
	if log != nil {
		cfg = cfg.WithErrorCallback(func(r types.MatchedRule) { log.write(r.ErrorLog()) })
	}
	var own strings.Builder
	for _, c := range chunks {
		if c.field == "" {
			own.WriteString(c.text)
			own.WriteByte('\n')
			continue
		}
		if own.Len() > 0 {
			cfg = cfg.WithDirectives(own.String())
			own.Reset()
		}
		// Apart, so that a continuation left open at its end cannot
		// join it to the next one.
		cfg = cfg.WithDirectives(c.text)
	}
	if own.Len() > 0 {
		cfg = cfg.WithDirectives(own.String())
	}
	return coraza.NewWAF(cfg)
}

// updatesTransformations reports whether a profile's directives, or the
// files they Include, may change how a rule transforms what it reads:
// SecRuleUpdateActionById with a t: action or multiMatch. Coraza adds
// those to the rule, where the CRS written anew (fused.go) has moved the
// rule's own transformations into its operator, so the order would
// differ: such a profile reads the CRS as shipped.
func updatesTransformations(chunks []chunk) bool {
	return ownTextHolds(chunks, func(l string) bool {
		i := strings.Index(l, "secruleupdateaction")
		return i >= 0 && (strings.Contains(l[i:], "t:") || strings.Contains(l[i:], "multimatch"))
	})
}

// gateUnsettled reports whether a profile's directives, or the files they
// Include, may change what the gate (gate.go) knows of the CRS's rules:
// an action updated (a rule's phase, say), a target added to a rule, or
// a skip:N action, which would count the rules the gate removes.
func gateUnsettled(chunks []chunk) bool {
	return ownTextHolds(chunks, func(l string) bool {
		if strings.Contains(l, "secruleupdateaction") || skipAction.MatchString(l) {
			return true
		}
		for _, line := range strings.Split(strings.ReplaceAll(l, "\\\n", " "), "\n") {
			_, rest, found := strings.Cut(line, "secruleupdatetarget")
			if found && addsTarget(rest) {
				return true
			}
		}
		return false
	})
}

var skipAction = regexp.MustCompile(`(^|[^a-z0-9_])skip\s*:`)

// addsTarget reads what follows SecRuleUpdateTargetBy: the rest of the
// directive's name, the rules it names, and targets. It reports whether a
// target is one that is not an exclusion (!ARGS:foo), or the line does
// not read plainly.
func addsTarget(rest string) bool {
	var args []string
	for s := strings.TrimSpace(rest); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			q, after, ok := cutQuoted(s)
			if !ok {
				return true
			}
			args, s = append(args, q[1:len(q)-1]), after
			continue
		}
		f, after, _ := strings.Cut(s, " ")
		args, s = append(args, f), after
	}
	if len(args) < 3 { // byid, the rules, one target at least
		return true
	}
	for _, a := range args[2:] {
		for _, t := range strings.Split(a, "|") {
			if t = strings.TrimSpace(t); t == "" || t[0] != '!' {
				return true
			}
		}
	}
	return false
}

// ownTextHolds reports whether test holds for the text of a profile's
// directives, lower-cased, or that of a file they Include. A file that
// cannot be read, or Includes nested past any reason, count as holding
// it.
func ownTextHolds(chunks []chunk, test func(lower string) bool) bool {
	var scan func(text string, depth int) bool
	scan = func(text string, depth int) bool {
		if test(strings.ToLower(text)) {
			return true
		}
		for _, line := range strings.Split(text, "\n") {
			name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			if !strings.EqualFold(name, "Include") {
				continue
			}
			arg = strings.Trim(strings.TrimSpace(arg), `"'`)
			if _, embedded := crsName(arg); embedded {
				continue // the CRS's own files update no rule
			}
			if depth == 8 {
				return true
			}
			files, err := filepath.Glob(arg)
			if err != nil || len(files) == 0 {
				return true
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil || scan(string(b), depth+1) {
					return true
				}
			}
		}
		return false
	}
	for _, c := range chunks {
		if scan(c.text, 0) {
			return true
		}
	}
	return false
}

// where says where in its field or file a chunk starts, for messages.
func (c chunk) where() string {
	switch {
	case c.file != "":
		return fmt.Sprintf("%s:%d: ", c.file, c.line)
	case c.line > 0:
		return fmt.Sprintf("line %d: ", c.line)
	}
	return ""
}

// cleanError drops the prefix Coraza puts before every error of a
// configuration.
func cleanError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "invalid WAF config from string: "))
}
