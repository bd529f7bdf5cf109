package authz

import "github.com/portcullis-gw/portcullis/plugins"

// Verdict is what one policy says of a request.
type Verdict struct {
	Policy *Policy
	// Rule is the index of the first rule that matched, or -1.
	Rule int
	// ID is Envoy's name of that rule, empty when none matched.
	ID string
}

// Explain evaluates every policy of the guard on r, enforced ones first
// in the order Decide reads them, for a report of why a request is
// decided as it is.
func (g *Guard) Explain(r *plugins.Request) []Verdict {
	var out []Verdict
	for _, cp := range g.all() {
		v := Verdict{Policy: cp.pol, Rule: -1}
		if m := first([]*compiled{cp}, r); m.Policy != nil {
			v.Rule, v.ID = m.Rule, m.ID
		}
		out = append(out, v)
	}
	return out
}

// Guard returns the policies that guard the handler's route.
func (h *Authz) Guard() *Guard { return h.guard }
