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
		for _, d := range strings.Split(l, "\n") {
			_, rest, found := strings.Cut(d, "secruleupdatetarget")
			if found && addsTarget(rest) {
				return true
			}
		}
		return false
	})
}

var skipAction = regexp.MustCompile(`(^|[^a-z0-9_])skip\s*:`)

// addsTarget reads what follows SecRuleUpdateTargetBy, lower-cased: the
// rest of the directive's name, the rules it names, and targets. It
// reports whether the targets may be more than exclusions: each must be
// one or more of !NAME, !NAME:key or !NAME:/regexp/ joined by '|', spelled
// plainly (Coraza's parser reads what follows a regular expression's
// closing '/' as a variable of its own), or the gate is turned off.
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
		if !exclusions.MatchString(a) {
			return true
		}
	}
	return false
}

var exclusions = regexp.MustCompile(`^` + exclusion + `(?:\|` + exclusion + `)*$`)

// exclusion is !NAME, !NAME:key or !NAME:/regexp/, lower-cased.
const exclusion = `![a-z_]+(?::(?:[^/'"|,\s\\]+|/[^/|\s\\]*/))?`

// ownTextHolds reports whether test holds for the directives of a
// profile (ownDirectives), or a file they Include cannot be read.
func ownTextHolds(chunks []chunk, test func(lower string) bool) bool {
	dirs, ok := ownDirectives(chunks)
	return !ok || test(strings.Join(dirs, "\n"))
}

// ownDirectives returns a profile's directives and those of the files
// they Include, lower-cased, one to a line, read as Coraza's parser reads
// them: lines trimmed, empty lines and comments skipped, a line that ends
// with '\\' joined to the next with nothing between. ok is false when a
// file cannot be read or Includes nest past any reason.
func ownDirectives(chunks []chunk) (dirs []string, ok bool) {
	// scan reads text, from a file in dir ("" for the profile's own
	// text), and the files it Includes, found as Coraza v3.8.1's parser
	// finds them (FromFile): a pattern with '*' is a glob through the
	// engine's files (rootFS: the CRS's, or absolute paths), any other
	// path is joined to dir unless absolute.
	var scan func(text, dir string, depth int) bool
	scan = func(text, dir string, depth int) bool {
		for _, dv := range seclangDirectives(text) {
			d := dv.text
			dirs = append(dirs, strings.ToLower(d))
			name, arg, _ := strings.Cut(d, " ")
			if !strings.EqualFold(name, "Include") {
				continue
			}
			arg = strings.Trim(strings.TrimSpace(arg), `"'`)
			if _, embedded := crsName(arg); embedded {
				continue // the CRS's own files update no rule
			}
			if depth == 8 {
				return false
			}
			var files []string
			switch {
			case strings.Contains(arg, "*"):
				if !filepath.IsAbs(arg) {
					return false
				}
				var err error
				if files, err = filepath.Glob(arg); err != nil || len(files) == 0 {
					return false
				}
			case strings.HasPrefix(arg, "/"):
				files = []string{arg}
			case dir != "":
				files = []string{filepath.Join(dir, arg)}
			default:
				return false // Coraza refuses it too: rootFS reads no relative path
			}
			for _, f := range files {
				f = strings.TrimSpace(f)
				if _, embedded := crsName(f); embedded {
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil || !scan(string(b), filepath.Dir(f), depth+1) {
					return false
				}
			}
		}
		return true
	}
	for _, c := range chunks {
		if !scan(c.text, "", 0) {
			return dirs, false
		}
	}
	return dirs, true
}

// directive is one of a rule file's directives, with the indexes of its
// first and last lines.
type directive struct {
	text        string
	first, last int
}

// seclangDirectives splits text into directives as Coraza v3.8.1's
// parser does (parseString): lines trimmed, empty lines and comments
// skipped, a line that ends with '\\' joined to the next with nothing
// between, and a list between backticks (SecDataset) kept whole.
func seclangDirectives(text string) []directive {
	var out []directive
	var b strings.Builder
	first, inBackticks := -1, false
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if first < 0 {
			first = i
		}
		if !inBackticks && line[len(line)-1] == '`' {
			inBackticks = true
		} else if inBackticks && line[0] == '`' {
			inBackticks = false
		}
		if inBackticks {
			b.WriteString(line)
			b.WriteString(" ")
			continue
		}
		if line[len(line)-1] == '\\' {
			b.WriteString(strings.TrimSuffix(line, "\\"))
			continue
		}
		b.WriteString(line)
		out = append(out, directive{b.String(), first, i})
		b.Reset()
		first = -1
	}
	if b.Len() > 0 {
		out = append(out, directive{b.String(), first, -1})
	}
	return out
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
