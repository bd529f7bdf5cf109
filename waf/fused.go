package waf

import (
	"fmt"
	"io/fs"
	"strconv"
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

// newTransformed reads "[#ID] t1,t2,… operator arguments", where "-"
// stands for no transformation and #ID is the id of a rule the gate reads
// (gate.go).
func newTransformed(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	args := o.Arguments
	id := 0
	if rest, ok := strings.CutPrefix(args, "#"); ok {
		idText, after, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(idText)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("@transformed: bad rule id %q", idText)
		}
		id, args = n, after
	}
	names, rest, _ := strings.Cut(args, " ")
	opName, args, _ := strings.Cut(rest, " ")
	t := &transformed{}
	closed := true
	var list []string
	if names != "-" {
		list = strings.Split(names, ",")
	}
	for _, n := range list {
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
	if r, ok := o.Root.(rootFS); ok && r.gates != nil && id > 0 {
		r.gates.claim(id, t)
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
// as fuseFile does, once per process.
func fusedCRS(name string) ([]byte, error) {
	f, err := crsFile(name)
	if err != nil {
		return nil, err
	}
	return f.text, nil
}

// fusedFile is a file of the embedded CRS as fuse writes it, with the
// rules the gate may read (gate.go).
type fusedFile struct {
	text  []byte
	gated []gateSpec
	// skipsPastEnd says that a skip:N action may reach past the file's
	// end.
	skipsPastEnd bool
}

func crsFile(name string) (*fusedFile, error) {
	v, _ := fusedFiles.LoadOrStore(name, sync.OnceValues(func() (*fusedFile, error) {
		b, err := fs.ReadFile(coreruleset.FS, name)
		if err != nil {
			return nil, err
		}
		f := fuseFile(string(b))
		return &f, nil
	}))
	return v.(func() (*fusedFile, error))()
}

var fusedFiles sync.Map // name → func() (*fusedFile, error)

// fuseFile writes anew each SecRule of a rule file that runs one of
// innerOperators after transformations, alone (neither starting a chain nor in one), with no
// multiMatch, and with transformations that start from t:none and that
// internal/transform holds; and each rule the gate reads (gate.go), with
// its id. Each directive keeps its lines, so Coraza
// reports the same file:line for every rule: a directive written anew
// takes its last line, the one Coraza gives the rule, and the lines
// before it are left empty.
func fuseFile(src string) fusedFile {
	var out fusedFile
	lines := strings.Split(src, "\n")
	inChain := false
	// skipWindow counts the SecMarkers still to pass before a skip:N
	// action can no longer reach a rule. It counts the rules after it
	// that were not removed, and the markers (which no exclusion
	// removes); were the gate to remove one of them, the skip would reach
	// one rule further. So no rule before the Nth marker after a skip:N
	// is gated.
	skipWindow := 0
	for _, dir := range seclangDirectives(src) {
		d, first, i := dir.text, dir.first, dir.last
		if i < 0 {
			break // a continuation left open at the end
		}
		name, rest, _ := strings.Cut(d, " ")
		if strings.EqualFold(name, "SecMarker") && skipWindow > 0 {
			skipWindow--
		}
		if !strings.EqualFold(name, "SecRule") && !strings.EqualFold(name, "SecAction") {
			continue
		}
		child := inChain
		r, ok := parseRule(rest)
		inChain = ok && r.chains
		if !ok {
			continue
		}
		mayGate := skipWindow == 0
		if !child {
			skipWindow = max(skipWindow, r.skip)
		}
		if child || !strings.EqualFold(name, "SecRule") {
			continue
		}
		spec, gated := r.gateSpec()
		gated = gated && mayGate
		written := r.write(gated)
		if written == "" {
			continue
		}
		if gated {
			out.gated = append(out.gated, spec)
		}
		// Coraza gives a rule the line its directive ends on.
		for j := first; j < i; j++ {
			lines[j] = ""
		}
		lines[i] = name + " " + written
	}
	out.text = []byte(strings.Join(lines, "\n"))
	out.skipsPastEnd = skipWindow > 0
	return out
}

// secRule is what fuseFile reads of a SecRule's or a SecAction's arguments.
type secRule struct {
	vars     string
	operator string // quoted, still escaped as in the file; empty for a SecAction
	actions  []string
	// ts are the transformations after the last t:none; firstT is the
	// index in actions of the first t: action, or -1.
	ts     []string
	firstT int
	// asShipped: multiMatch, transformations that do not start from
	// t:none, or one internal/transform does not hold.
	asShipped bool
	chains    bool
	// id, phase (1 to 5, or 0 when not given), paranoia level (its tag's,
	// or 0) and skip:N.
	id, phase, level, skip int
	// tags and msg, lower-cased and unquoted.
	tags []string
	msg  string
}

// parseRule reads a SecRule's (or SecAction's) arguments: variables, a
// quoted operator and quoted actions.
func parseRule(args string) (r secRule, ok bool) {
	args = strings.Trim(args, " ")
	acts := args // a SecAction's only argument
	vars, rest, ok := strings.Cut(args, " ")
	if ok {
		rest = strings.TrimLeft(rest, " ")
		if q, after, ok := cutQuoted(rest); ok {
			r.vars, r.operator, acts = vars, q, strings.TrimLeft(after, " ")
		}
	}
	if len(acts) < 2 || acts[0] != '"' || acts[len(acts)-1] != '"' {
		return r, false
	}
	r.actions = splitActions(acts[1 : len(acts)-1])
	r.firstT = -1
	for i, a := range r.actions {
		key, val, _ := strings.Cut(a, ":")
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "chain":
			r.chains = true
		case "multimatch":
			r.asShipped = true
		case "id":
			r.id, _ = strconv.Atoi(val)
		case "phase":
			r.phase = phaseNumber(val)
		case "skip":
			// A skip that does not read as a number reaches far.
			if r.skip, _ = strconv.Atoi(val); r.skip <= 0 {
				r.skip = 1 << 20
			}
		case "tag":
			if l, ok := strings.CutPrefix(strings.Trim(val, "'"), "paranoia-level/"); ok {
				r.level, _ = strconv.Atoi(l)
			}
			r.tags = append(r.tags, strings.ToLower(unquote(val)))
		case "msg":
			r.msg = strings.ToLower(unquote(val))
		case "t":
			// Coraza clears the list for "none" spelled so only; any
			// other spelling is a transformation that does nothing,
			// which internal/transform does not hold.
			if r.firstT < 0 {
				r.firstT = i
				if val != "none" {
					r.asShipped = true // depends on the default transformations
				}
			}
			if val == "none" {
				r.ts = r.ts[:0]
				continue
			}
			if _, known := transform.Get(val); !known {
				r.asShipped = true
			}
			r.ts = append(r.ts, val)
		}
	}
	return r, true
}

// phaseNumber reads a phase action's value as Coraza does; 0 for one it
// would not take.
func phaseNumber(v string) int {
	switch strings.ToLower(strings.Trim(v, "'")) {
	case "1":
		return 1
	case "2", "request":
		return 2
	case "3":
		return 3
	case "4", "response":
		return 4
	case "5", "logging":
		return 5
	}
	return 0
}

// operatorOf splits the rule's operator into negation, name and
// arguments (still escaped); ok when it is one of innerOperators.
func (r *secRule) operatorOf() (negated bool, name, args string, ok bool) {
	if len(r.operator) < 2 {
		return false, "", "", false
	}
	operator := r.operator[1 : len(r.operator)-1]
	if operator != "" && operator[0] == '!' {
		negated, operator = true, operator[1:]
	}
	name, args, _ = strings.Cut(strings.TrimPrefix(operator, "@"), " ")
	if operator == "" || operator[0] != '@' || innerOperators[name] == nil {
		return false, "", "", false
	}
	return negated, name, strings.TrimSpace(args), true
}

// gateSpec reports whether the gate may read the rule (gate.go), and
// what it reads.
func (r *secRule) gateSpec() (gateSpec, bool) {
	negated, _, _, ok := r.operatorOf()
	if !ok || negated || r.asShipped || r.firstT < 0 || r.id <= 0 || r.phase < 1 || r.phase > 4 || (r.chains && len(r.ts) > 0) {
		return gateSpec{}, false
	}
	vars, ok := readGateVars(r.vars)
	if !ok {
		return gateSpec{}, false
	}
	return gateSpec{id: r.id, phase: r.phase, level: r.level, vars: vars, tags: r.tags, msg: r.msg}, true
}

// write returns the rule's arguments written anew with @transformed, or
// "" for a rule that stays as it is: one with no transformations, or the
// start of a chain, unless the gate reads it.
func (r *secRule) write(gated bool) string {
	negated, name, opArgs, ok := r.operatorOf()
	if !ok || r.asShipped || r.firstT < 0 || (!gated && (r.chains || len(r.ts) == 0)) {
		return ""
	}
	var kept []string
	for i, a := range r.actions {
		key, _, _ := strings.Cut(a, ":")
		if i == r.firstT {
			kept = append(kept, "t:none")
		}
		if !strings.EqualFold(strings.TrimSpace(key), "t") {
			kept = append(kept, a)
		}
	}
	if opArgs != "" {
		name += " " + opArgs
	}
	not, id, ts := "", "", "-"
	if negated {
		not = "!"
	}
	if gated {
		id = "#" + strconv.Itoa(r.id) + " "
	}
	if len(r.ts) > 0 {
		ts = strings.Join(r.ts, ",")
	}
	return fmt.Sprintf(`%s "%s@transformed %s%s %s" "%s"`, r.vars, not, id, ts, name, strings.Join(kept, ","))
}

// fuseRule reads a SecRule's (or SecAction's) arguments. It reports
// whether the rule starts or goes on with a chain, and, when may and the
// rule qualifies, returns its arguments written anew.
func fuseRule(args string, may bool) (written string, chains bool) {
	r, ok := parseRule(args)
	if !ok {
		return "", false
	}
	if !may {
		return "", r.chains
	}
	return r.write(false), r.chains
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
