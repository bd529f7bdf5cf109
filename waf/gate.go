package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"

	"github.com/portcullis-gw/portcullis/waf/internal/transform"
)

// Most of what Coraza spends on a request that matches nothing is not in
// the rules' operators but around them: for each rule, it fetches every
// value the rule reads into a new slice of new match objects, sets the
// RULE collection and expands the rule's message and logdata. With the
// CRS that is about a hundred rules in the request body's phase, each
// over every argument.
//
// So, at the start of each phase, a rule of the gateway's (@gate) runs
// the operator of each CRS rule it can read (below) over the values that
// rule could read, fetched once for all of them, and removes from the
// transaction, as ctl:ruleRemoveById does, every rule none of whose values
// matches. A rule that matches nothing does nothing, so removing it
// changes nothing; a rule with one value that matches is left to Coraza,
// which evaluates it as it always does, with its exclusions and actions.
//
// The gate reads a rule when:
//   - it is written anew (fused.go), so that its operator is the very
//     object the rule runs, with its transformations, and the gate finds it
//     by the rule's id (#ID in the operator's text); a rule of a chain only
//     as its start and without transformations, whose MATCHED_VAR is then
//     the same;
//   - it is not negated, and reads only collections that no rule can
//     change during a phase (gateVariables), none of them counted (&ARGS);
//     it reads a superset of them: all of a collection for a key given as a
//     regular expression, keys of any case for one given as a string, and
//     no exclusion (!ARGS:foo) taken off;
//   - its phase is 1 to 4, its paranoia level at most the profile's, and
//     the profile neither removes it nor names its id (newGates);
//   - it is not within the reach of a skip:N action, which counts the
//     rules after it that were not removed (skipWindow).
//
// A profile whose own directives may change what a rule reads, its phase
// or what skip:N reaches (gateUnsettled, which reads them as Coraza's
// parser does) runs without the gate.

// gateRuleID is the id of the first of the gate's rules, one per phase.
const gateRuleID = 99992

// gateRules are the rules that run the gate at the start of phases 1 to
// 4, for the CRS rules of paranoia levels up to level.
func gateRules(level int) string {
	var b strings.Builder
	for phase := 1; phase <= 4; phase++ {
		fmt.Fprintf(&b, "SecRule UNIQUE_ID \"@gate %d %d\" \"id:%d,phase:%d,pass,nolog,noauditlog,t:none\"\n",
			phase, level, gateRuleID+phase-1, phase)
	}
	return b.String()
}

// gates is what one engine's gate knows: the operators of the rules
// written anew, by rule id, as Coraza builds them. rootFS carries it from
// the engine's build to its operators.
type gates struct {
	mu  sync.Mutex
	ops map[int]*transformed // nil for an id claimed twice
	// removed are the ranges of ids the profile removes as it loads
	// (SecRuleRemoveById), and removedTags and removedMsgs the tags and
	// messages (SecRuleRemoveByTag, SecRuleRemoveByMsg), lower-cased.
	removed                  [][2]int
	removedTags, removedMsgs map[string]bool
	// own are the ids the profile's own directives name.
	own map[int]bool
}

// newGates reads what the gate must know of a profile's directives. A
// rule the profile removes does not run: the gate need not read it. But
// it must not read it either: a profile may remove a CRS rule and write
// one of its own under the same id, which the gate would take for the
// CRS's. So the gate leaves to Coraza every rule the profile removes,
// and every id its directives name.
func newGates(chunks []chunk) *gates {
	g := &gates{ops: map[int]*transformed{}, removedTags: map[string]bool{}, removedMsgs: map[string]bool{}, own: map[int]bool{}}
	dirs, _ := ownDirectives(chunks) // a file it cannot read turns the gate off (gateUnsettled)
	for _, d := range dirs {
		for _, m := range idAction.FindAllStringSubmatch(d, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				g.own[n] = true
			}
		}
		name, arg, _ := strings.Cut(d, " ")
		arg = unquote(arg)
		switch name {
		case "secruleremovebytag":
			g.removedTags[arg] = true
		case "secruleremovebymsg":
			g.removedMsgs[arg] = true
		case "secruleremovebyid":
			for _, a := range strings.Fields(arg) {
				lo, hi, isRange := strings.Cut(unquote(a), "-")
				if !isRange {
					hi = lo
				}
				l, err1 := strconv.Atoi(lo)
				h, err2 := strconv.Atoi(hi)
				if err1 == nil && err2 == nil {
					g.removed = append(g.removed, [2]int{l, h})
				}
			}
		}
	}
	return g
}

// claim records the operator of rule id; an id claimed twice (a profile's
// own rule that spells #ID) is left out.
func (g *gates) claim(id int, op *transformed) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.ops[id]; dup {
		op = nil
	}
	g.ops[id] = op
}

// idAction is an id action as Coraza reads it (strconv.Atoi takes a
// sign, and leading zeros).
var idAction = regexp.MustCompile(`\bid\s*:\s*'?\s*[+-]?(\d+)`)

// unquote trims spaces and quotes, as a superset of what Coraza trims.
func unquote(s string) string { return strings.Trim(s, " \t\"'") }

// leaves reports whether the gate leaves a rule to Coraza: the profile
// removes it, or names its id in its own directives.
func (g *gates) leaves(s gateSpec) bool {
	if g.own[s.id] || g.removedMsgs[s.msg] {
		return true
	}
	for _, t := range s.tags {
		if g.removedTags[t] {
			return true
		}
	}
	for _, r := range g.removed {
		if s.id >= r[0] && s.id <= r[1] {
			return true
		}
	}
	return false
}

// gateSpec is what fuseFile reads of a rule the gate may read.
type gateSpec struct {
	id, phase, level int
	vars             []gateVar
	// tags and msg are the rule's, lower-cased and unquoted.
	tags []string
	msg  string
}

// gateVar is a collection and, when a rule reads one key of it, the key.
type gateVar struct {
	v   variables.RuleVariable
	key string
}

// gateVariables are the collections the gate reads: what the request and
// the response hold, filled before the phase that reads them, and which
// no action changes.
var gateVariables = map[variables.RuleVariable]bool{
	variables.Args: true, variables.ArgsGet: true, variables.ArgsPost: true,
	variables.ArgsNames: true, variables.ArgsGetNames: true, variables.ArgsPostNames: true,
	variables.QueryString: true, variables.RequestBasename: true, variables.RequestBody: true,
	variables.RequestFilename: true, variables.RequestLine: true, variables.RequestMethod: true,
	variables.RequestProtocol: true, variables.RequestURI: true, variables.RequestURIRaw: true,
	variables.RequestHeaders: true, variables.RequestHeadersNames: true,
	variables.RequestCookies: true, variables.RequestCookiesNames: true,
	variables.Files: true, variables.FilesNames: true, variables.MultipartFilename: true,
	variables.MultipartName: true, variables.MultipartPartHeaders: true, variables.XML: true,
	variables.ResponseBody: true, variables.ResponseHeaders: true, variables.ResponseHeadersNames: true,
}

// readGateVars reads a rule's variables, as the gate reads them, or
// reports that the gate cannot read the rule. A regular expression that
// holds '|' splits into parts that are not variables, and the rule is
// left to Coraza.
func readGateVars(vars string) ([]gateVar, bool) {
	var out []gateVar
	for _, part := range strings.Split(vars, "|") {
		part = strings.TrimSpace(part)
		if part == "" || part[0] == '&' {
			return nil, false
		}
		if part[0] == '!' {
			continue // an exclusion: the gate reads the superset
		}
		name, key, _ := strings.Cut(part, ":")
		v, err := variables.Parse(name)
		if err != nil || !gateVariables[v] {
			return nil, false
		}
		if !plainKey(key) {
			key = "" // a regular expression, or a quoted key: all of it
		}
		out = append(out, gateVar{v, key})
	}
	return out, len(out) > 0
}

// plainKey reports whether a key is a name, which the gate compares
// without regard to case.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return k != ""
}

// gate is the @gate operator of one phase of one engine.
type gate struct {
	plan func() *gatePlan
}

// gatePlan is what a gate runs: its rules, and the variables they read.
type gatePlan struct {
	vars  []gateVar
	rules []gatedRule
}

type gatedRule struct {
	id   int
	op   *transformed
	vars []int // into gatePlan.vars
}

// ruleRemover is what Coraza's transaction offers ctl:ruleRemoveById.
type ruleRemover interface{ RemoveRuleByID(int) }

func newGate(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	f := strings.Fields(o.Arguments)
	if len(f) != 2 {
		return nil, fmt.Errorf("@gate: want a phase and a paranoia level, got %q", o.Arguments)
	}
	phase, err1 := strconv.Atoi(f[0])
	level, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || phase < 1 || phase > 4 {
		return nil, fmt.Errorf("@gate: bad arguments %q", o.Arguments)
	}
	root, _ := o.Root.(rootFS)
	// The gate's rules come before the CRS's: the plan is made once the
	// engine is built, on its first request.
	return &gate{plan: sync.OnceValue(func() *gatePlan { return makePlan(root.gates, phase, level) })}, nil
}

// makePlan lists the rules of the embedded CRS the gate reads in a phase.
// With no gates (a profile that reads the CRS as shipped, or whose own
// directives unsettle it) the plan is empty.
func makePlan(g *gates, phase, level int) *gatePlan {
	p := &gatePlan{}
	if g == nil {
		return p
	}
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		return p
	}
	var specs []gateSpec
	for _, name := range files {
		f, err := crsFile(name)
		if err != nil || f.skipsPastEnd {
			return p
		}
		specs = append(specs, f.gated...)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	index := map[gateVar]int{}
	for _, s := range specs {
		op := g.ops[s.id]
		if s.phase != phase || s.level > level || op == nil || g.leaves(s) {
			continue
		}
		r := gatedRule{id: s.id, op: op}
		for _, v := range s.vars {
			i, ok := index[v]
			if !ok {
				i = len(p.vars)
				index[v] = i
				p.vars = append(p.vars, v)
			}
			r.vars = append(r.vars, i)
		}
		p.rules = append(p.rules, r)
	}
	return p
}

// Evaluate removes from the transaction the rules of the plan that match
// none of the values they could read. It never matches.
func (g *gate) Evaluate(tx plugintypes.TransactionState, _ string) bool {
	p := g.plan()
	rm, ok := tx.(ruleRemover)
	if !ok || len(p.rules) == 0 {
		return false
	}
	values := make([][]types.MatchData, len(p.vars))
	fetched := make([]bool, len(p.vars))
	all := map[variables.RuleVariable][]types.MatchData{}
	read := func(i int) []types.MatchData {
		if fetched[i] {
			return values[i]
		}
		fetched[i] = true
		v := p.vars[i]
		whole, ok := all[v.v]
		if !ok {
			if c := tx.Collection(v.v); c != nil {
				whole = c.FindAll()
			}
			all[v.v] = whole
		}
		if v.key == "" {
			values[i] = whole
			return whole
		}
		for _, m := range whole {
			// Coraza compares keys lower-cased; for a key of ASCII
			// (plainKey), EqualFold holds wherever that does, and
			// more, but not for every byte of what is not ASCII.
			if k := m.Key(); strings.EqualFold(k, v.key) || !transform.IsASCII(k) && strings.ToLower(k) == strings.ToLower(v.key) {
				values[i] = append(values[i], m)
			}
		}
		return values[i]
	}
rules:
	for _, r := range p.rules {
		for _, i := range r.vars {
			for _, m := range read(i) {
				if r.op.Evaluate(tx, m.Value()) {
					continue rules
				}
			}
		}
		rm.RemoveRuleByID(r.id)
		if f := gateRemoved.Load(); f != nil {
			(*f)(r.id)
		}
	}
	return false
}

// gateRemoved, when set, is told of each rule a gate removes, for tests.
var gateRemoved atomic.Pointer[func(id int)]
