package waf

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/portcullis-gw/portcullis/waf/internal/transform"
)

// Coraza runs a rule's transformations (t:urlDecodeUni,t:lowercase, …)
// before its operator, and keeps every intermediate result in a map per
// transaction, keyed by variable, value and transformation prefix, so
// that rules with the same transformations share them. For the CRS's
// rules that map is where most of a request's time goes: about 100 rules
// read each of a JSON body's values, each with up to seven
// transformations, and each step is a lookup and an insert in a map of
// tens of thousands of entries, most of them never read again (coraza
// issue 1681). Transforming again costs less than that bookkeeping, since
// most values hold nothing a transformation changes.
//
// So the gateway hands the transformations of the CRS's rules to the
// operator (rules of @rx, @pm, @pmFromFile, @detectSQLi, @detectXSS and
// @validateByteRange: innerOperators): as it reads the embedded CRS, it
// writes each such rule
//
//	SecRule ARGS "@rx PATTERN" "id:1,t:none,t:urlDecodeUni,t:lowercase,…"
//
// as
//
//	SecRule ARGS "@transformed urlDecodeUni,lowercase rx PATTERN" "id:1,t:none,…"
//
// The operator runs the same transformations (Coraza's own, copied into
// internal/transform) in the same order on the same value, then the same
// operator, with the same captures, so the rule matches exactly when it did.
// One thing reads differently: MATCHED_VAR, which Coraza sets to the
// value its operator read, is the value as the request sent it, not as
// transformed. So no rule of a chain is written anew (a chained rule may
// read its parent's MATCHED_VAR); the other readers are the rules'
// logdata, `portcullis waf test` and a profile's own rules that read
// MATCHED_VAR after them, which all see the request's own bytes.
// TestFusedMatchesStock holds the written CRS to the CRS as shipped.

// transformed is the @transformed operator: transformations, then an
// operator.
type transformed struct {
	fns []transform.Func
	op  plugintypes.Operator
	// skipPlain says that the rule cannot match a plain value
	// (plain.go).
	skipPlain bool
}

// newTransformed reads "t1,t2,… operator arguments".
func newTransformed(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	names, rest, _ := strings.Cut(o.Arguments, " ")
	opName, args, _ := strings.Cut(rest, " ")
	t := &transformed{}
	closed := true
	for _, n := range strings.Split(names, ",") {
		f, ok := transform.Get(n)
		if !ok {
			return nil, fmt.Errorf("@transformed: no transformation %q", n)
		}
		t.fns = append(t.fns, f)
		closed = closed && plainClosed[strings.ToLower(n)]
	}
	inner, ok := innerOperators[opName]
	if !ok {
		return nil, fmt.Errorf("@transformed: no operator %q", opName)
	}
	o.Arguments = args
	op, err := inner(o)
	if err != nil {
		return nil, err
	}
	t.op = op
	m, ok := op.(plainMisser)
	t.skipPlain = closed && ok && m.missesPlain()
	if f := transformedBuilt.Load(); f != nil {
		(*f)(t)
	}
	return t, nil
}

// transformedBuilt, when set, is told of each operator newTransformed
// builds: TestPlainSkipSound reads the CRS's that way.
var transformedBuilt atomic.Pointer[func(*transformed)]

// Evaluate transforms value as Coraza does (a transformation that fails
// leaves the value as it was) and evaluates the operator on the result.
func (o *transformed) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if o.skipPlain && plain(value) {
		return false
	}
	return o.evaluate(tx, value)
}

// evaluate is Evaluate without its shortcut for plain values.
func (o *transformed) evaluate(tx plugintypes.TransactionState, value string) bool {
	for _, f := range o.fns {
		if v, _, err := f(value); err == nil {
			value = v
		}
	}
	return o.op.Evaluate(tx, value)
}

// fusedCRS returns a file of the embedded CRS with its rules written anew
// as fuse does, once per process.
func fusedCRS(name string) ([]byte, error) {
	v, _ := fusedFiles.LoadOrStore(name, sync.OnceValues(func() ([]byte, error) {
		b, err := fs.ReadFile(coreruleset.FS, name)
		if err != nil {
			return nil, err
		}
		return []byte(fuse(string(b))), nil
	}))
	return v.(func() ([]byte, error))()
}

var fusedFiles sync.Map // name → func() ([]byte, error)

// fuse writes anew each SecRule of a rule file that runs one of
// innerOperators after transformations, alone (neither starting a chain nor in one), with no
// multiMatch, and with transformations that start from t:none and that
// internal/transform holds. Each directive keeps its lines, so Coraza
// reports the same file:line for every rule: a directive written anew
// takes its last line, the one Coraza gives the rule, and the lines
// before it are left empty.
func fuse(src string) string {
	lines := strings.Split(src, "\n")
	var joined strings.Builder
	start, inChain, inBackticks := -1, false, false
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		// A list between backticks (SecDataset) is left as it is.
		if !inBackticks && line[len(line)-1] == '`' {
			inBackticks = true
		} else if inBackticks && line[0] == '`' {
			inBackticks = false
			continue
		}
		if inBackticks {
			continue
		}
		if start < 0 {
			start = i
			joined.Reset()
		}
		if line[len(line)-1] == '\\' {
			joined.WriteString(line[:len(line)-1])
			continue
		}
		joined.WriteString(line)
		d := joined.String()
		first := start
		start = -1
		name, rest, _ := strings.Cut(d, " ")
		if !strings.EqualFold(name, "SecRule") && !strings.EqualFold(name, "SecAction") {
			continue
		}
		child := inChain
		written, chains := fuseRule(rest, strings.EqualFold(name, "SecRule") && !child)
		inChain = chains
		if written == "" {
			continue
		}
		// Coraza gives a rule the line its directive ends on.
		for j := first; j < i; j++ {
			lines[j] = ""
		}
		lines[i] = name + " " + written
	}
	return strings.Join(lines, "\n")
}

// fuseRule reads a SecRule's (or SecAction's) arguments: variables, a
// quoted operator and quoted actions. It reports whether the rule starts
// or goes on with a chain, and, when may and the rule qualifies, returns
// its arguments written anew.
func fuseRule(args string, may bool) (written string, chains bool) {
	args = strings.Trim(args, " ")
	acts := args // a SecAction's only argument
	vars, rest, ok := strings.Cut(args, " ")
	var op string
	if ok {
		rest = strings.TrimLeft(rest, " ")
		if q, after, ok := cutQuoted(rest); ok {
			op, acts = q, strings.TrimLeft(after, " ")
		}
	}
	if len(acts) < 2 || acts[0] != '"' || acts[len(acts)-1] != '"' {
		return "", false
	}
	list := splitActions(acts[1 : len(acts)-1])
	var ts []string
	// asShipped: multiMatch, transformations that do not start from
	// t:none, or one internal/transform does not hold.
	firstT, asShipped := -1, false
	for i, a := range list {
		key, val, _ := strings.Cut(a, ":")
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "chain":
			chains = true
		case "multimatch":
			asShipped = true
		case "t":
			val = strings.TrimSpace(val)
			// Coraza clears the list for "none" spelled so only; any
			// other spelling is a transformation that does nothing,
			// which internal/transform does not hold.
			if firstT < 0 {
				firstT = i
				if val != "none" {
					asShipped = true // depends on the default transformations
				}
			}
			if val == "none" {
				ts = ts[:0]
				continue
			}
			if _, known := transform.Get(val); !known {
				asShipped = true
			}
			ts = append(ts, val)
		}
	}
	if !may || chains || asShipped || len(ts) == 0 || op == "" {
		return "", chains
	}
	operator := op[1 : len(op)-1] // still escaped as in the file
	negated := ""
	if operator != "" && operator[0] == '!' {
		negated, operator = "!", operator[1:]
	}
	name, opArgs, _ := strings.Cut(strings.TrimPrefix(operator, "@"), " ")
	if operator == "" || operator[0] != '@' || innerOperators[name] == nil {
		return "", false
	}
	opArgs = strings.TrimSpace(opArgs)
	var kept []string
	for i, a := range list {
		key, _, _ := strings.Cut(a, ":")
		if i == firstT {
			kept = append(kept, "t:none")
		}
		if !strings.EqualFold(strings.TrimSpace(key), "t") {
			kept = append(kept, a)
		}
	}
	if opArgs != "" {
		name += " " + opArgs
	}
	return fmt.Sprintf(`%s "%s@transformed %s %s" "%s"`, vars, negated, strings.Join(ts, ","), name, strings.Join(kept, ",")), false
}

// cutQuoted cuts a double-quoted string from the start of s as Coraza's
// parser does: a quote after an odd number of backslashes is escaped.
func cutQuoted(s string) (quoted, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	backslashes := 0
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			backslashes++
		case s[i] == '"' && backslashes%2 == 0:
			return s[:i+1], s[i+1:], true
		default:
			backslashes = 0
		}
	}
	return "", "", false
}

// splitActions splits an action list at its commas outside single quotes,
// as Coraza's parser does: a character after a backslash is taken as it
// is.
func splitActions(s string) []string {
	var out []string
	from, quoted := 0, false
	for i := 1; i < len(s); i++ {
		if s[i-1] == '\\' {
			continue
		}
		switch s[i] {
		case '\'':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}
