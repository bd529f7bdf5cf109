package authz

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// str is a string value of a document and where it was written.
type str struct {
	S         string
	Line, Col int
}

// problems collects the errors of one document, each at a position.
type problems struct {
	file string
	errs []*Error
	// spent counts the rules, entries and values read from the file, which
	// aliases can make far more than its bytes; over says the budget is
	// spent and reported.
	spent, budget int
	over          bool
}

// expansionBudget bounds the rules, from and to entries, conditions and
// values a file of size bytes may expand to through YAML aliases. Each of
// them takes at least a byte in a file without aliases, so such a file
// never reaches it, and a file that reuses a list through a few aliases
// stays well within it; a few kilobytes of aliases of aliases, which
// could name a billion values, do not.
func expansionBudget(size int) int { return 4*size + 1<<16 }

// spend counts n more things read at node, and reports whether the file
// is still within its budget; the first time it is not, that is an error.
func (p *problems) spend(n int, node *yaml.Node) bool {
	p.spent += n
	if p.spent <= p.budget {
		return true
	}
	if !p.over {
		p.over = true
		p.at(node, "the file expands through its aliases to more than %d rules, entries and values; write it with fewer aliases", p.budget)
	}
	return false
}

func (p *problems) at(n *yaml.Node, format string, args ...any) {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *problems) atStr(s str, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: s.Line, Col: s.Col, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// fields returns the keys of mapping n, reporting keys not in known (when
// known is not nil), duplicated keys, and a node that is not a mapping.
// field names the mapping in messages.
func (p *problems) fields(n *yaml.Node, field string, known ...string) map[string]*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.at(n, "%s: must be of type object", field)
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			p.at(k, "%s: merge keys (<<) are not accepted", field)
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.at(k, "%s: duplicate field %q", field, k.Value)
			continue
		}
		if known != nil && !contains(known, k.Value) {
			p.at(k, "%s: unknown field %q", field, k.Value)
			continue
		}
		out[k.Value] = v
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// str reads a string scalar.
func (p *problems) str(n *yaml.Node, field string) (str, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.at(n, "%s: must be of type string", field)
		return str{}, false
	}
	return str{S: n.Value, Line: n.Line, Col: n.Column}, true
}

// list reads a list of string scalars. A null reads as absent (nil), a
// present but empty list as an empty, non-nil slice.
func (p *problems) list(n *yaml.Node, field string) []str {
	if isNull(n) {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.at(n, "%s: must be of type array", field)
		return nil
	}
	if !p.spend(len(n.Content), n) {
		return nil
	}
	out := make([]str, 0, len(n.Content))
	for i, c := range n.Content {
		if s, ok := p.str(c, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// strMap reads a map of string to string, such as matchLabels.
func (p *problems) strMap(n *yaml.Node, field string) map[string]string {
	if isNull(n) {
		return nil
	}
	fs := p.fields(n, field)
	out := make(map[string]string, len(fs))
	for k, v := range fs {
		if s, ok := p.str(v, field+"."+k); ok {
			out[k] = s.S
		}
	}
	return out
}

// Error is one problem in a policy file, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Error formats the problem as file:line:col: msg.
func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem of a load, in file order.
type Errors []*Error

// Error lists the problems, one a line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Position returns where the problem is, for the routes file's report.
func (e *Error) Position() (file string, line, col int) { return e.File, e.Line, e.Col }

// Message returns the problem without its position.
func (e *Error) Message() string { return e.Msg }
