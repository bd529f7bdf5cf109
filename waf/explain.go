package waf

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/corazawaf/coraza/v3/types"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Verdict is what a profile decides of one request, with its reasons: the
// rules that matched, what each matched, and the anomaly score. It is what
// `portcullis waf test` prints, so that a user sees why a request is
// blocked and which exclusion would let it through.
type Verdict struct {
	// Profile and Mode are the profile's name and mode (block or detect).
	Profile, Mode string
	// Status is the status the gateway answers with (403 for most
	// blocks, 413 past a limit), or 0 when the request passes.
	Status int
	// Details are the access log's response code details for a refused
	// or detected request: waf_blocked{…}, waf_limit{…}.
	Details string
	// Detected says that detect mode passed a request the rules would
	// have blocked.
	Detected bool
	// Paranoia is the blocking paranoia level; InboundScore the inbound
	// anomaly score the request reached, against InboundThreshold.
	Paranoia, InboundScore, InboundThreshold int
	// Promoted is the number of rules of higher levels the profile
	// promotes (crs.promote).
	Promoted int
	// Rules are the rules that matched, in the order they matched.
	Rules []RuleMatch
}

// RuleMatch is one rule's match.
type RuleMatch struct {
	ID int
	// Severity is the rule's severity in lower case (critical, error,
	// warning, notice …), or empty for a rule that gives none.
	Severity string
	// Message is the rule's msg with its macros expanded.
	Message string
	// Matches are the variables the rule matched, with their values.
	Matches []VarMatch
}

// VarMatch is one variable a rule matched: ARGS:q = "<script>…".
type VarMatch struct {
	// Variable is the collection and key as SecLang writes them,
	// ARGS:q or REQUEST_URI.
	Variable string
	// Value is the value the operator matched: after the rule's
	// transformations, but for the CRS's rules that run them in their
	// operator (fused.go), where it is the value as the request holds it.
	Value string
}

// Explainer builds the handler of one of section's profiles outside any
// load of a routes file, for `portcullis waf test`: a nil section is the
// one a routes file without a waf block has (the default profile alone).
// The caller closes the handler.
func (p *Plugin) Explainer(section *Section, profile string) (*Handler, error) {
	if section == nil {
		section = newSection()
	}
	sc, err := p.open(section)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	u := Use(profile)
	built, err := sc.Build(&u)
	if err != nil {
		return nil, err
	}
	switch h := built.(type) {
	case *Handler:
		return h, nil
	case *WithResponse:
		return h.Handler, nil
	}
	return nil, fmt.Errorf("profile %q built a %T", profile, built)
}

// Explain runs the profile's request phases on req, as HandleRequest does,
// and returns the verdict with every rule that matched. It writes no audit
// log and counts nothing in the metrics: it is for a user asking why, not a
// request being served. Like HandleRequest, it may read req's body and
// replace it with what it read.
func (h *Handler) Explain(req *plugins.Request) (*Verdict, error) {
	tx := h.engine.waf.NewTransaction()
	defer tx.Close()
	rej, err := h.request(tx, req, false)
	if err != nil {
		return nil, err
	}
	v := &Verdict{
		Profile:          h.profile,
		Mode:             h.p.Mode,
		Paranoia:         h.p.CRS.Paranoia,
		Promoted:         len(h.p.CRS.Promote),
		InboundScore:     anomalyScore(tx, "blocking_inbound_anomaly_score"),
		InboundThreshold: anomalyScore(tx, "inbound_anomaly_score_threshold"),
		Detected:         rej == nil && detectedOnly(tx),
	}
	if rej != nil {
		v.Status, v.Details = rej.Status, rej.Details
	} else if v.Detected {
		v.Details = blockDetails(matchedIDs(tx), v.InboundScore)
	}
	logged := matchedIDs(tx)
	for _, m := range tx.MatchedRules() {
		id := m.Rule().ID()
		if !slices.Contains(logged, id) {
			continue
		}
		v.Rules = append(v.Rules, ruleMatch(m))
	}
	return v, nil
}

// ruleMatch copies what m says, so that nothing of the transaction or the
// request is kept.
func ruleMatch(m types.MatchedRule) RuleMatch {
	r := RuleMatch{ID: m.Rule().ID(), Message: strings.Clone(m.Message())}
	if sev := m.Rule().Severity(); sev >= 0 {
		r.Severity = sev.String()
	}
	for _, d := range m.MatchedDatas() {
		name := d.Variable().Name()
		if k := d.Key(); k != "" {
			name += ":" + k
		}
		r.Matches = append(r.Matches, VarMatch{Variable: strings.Clone(name), Value: strings.Clone(d.Value())})
	}
	return r
}

// Passed reports whether the gateway would forward the request.
func (v *Verdict) Passed() bool { return v.Status == 0 }

// Outcome is the verdict in a word: passed, detected, blocked or limited.
func (v *Verdict) Outcome() string {
	switch {
	case v.Status == http.StatusRequestEntityTooLarge && strings.HasPrefix(v.Details, "waf_limit"):
		return limited
	case v.Status != 0:
		return blocked
	case v.Detected:
		return detected
	}
	return passed
}
