package authz

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// The fields of a source and of an operation, as the API names them.
var (
	sourceFields = []string{
		"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
		"namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts",
		"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
		"trustDomains", "notTrustDomains",
	}
	operationFields = []string{
		"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths",
	}
)

// decodeSpec reads spec strictly into pol: unknown fields and values of the
// wrong type are errors, as the CRD's structural schema makes them.
func decodeSpec(p *problems, pol *Policy, spec *yaml.Node) {
	if spec == nil || isNull(spec) {
		return // spec: {} and no spec are the same message: ALLOW nothing.
	}
	fs := p.fields(spec, "spec", "selector", "targetRef", "targetRefs", "rules", "action", "provider")
	if fs == nil {
		return
	}
	if n, ok := fs["selector"]; ok && !isNull(n) {
		pol.Selector = p.selector(n)
	}
	var forms int
	if pol.TargetRefs, forms = targetRefs(fs); forms > 1 {
		p.at(spec, "only one of targetRefs or workloadSelector can be set")
	}
	if v, ok := fs["targetRefs"]; ok && !isNull(v) && resolve(v).Kind != yaml.SequenceNode {
		p.at(v, "spec.targetRefs: must be of type array")
	}
	if v, ok := fs["targetRef"]; ok && !isNull(v) && resolve(v).Kind != yaml.MappingNode {
		p.at(v, "spec.targetRef: must be of type object")
	}
	if n, ok := fs["action"]; ok && !isNull(n) {
		if a, ok := p.str(n, "spec.action"); ok {
			switch a.S {
			case "ALLOW":
				pol.Action = Allow
			case "DENY":
				pol.Action = Deny
			case "AUDIT":
				pol.Action = Audit
			case "CUSTOM":
				pol.Action = Custom
			default:
				p.atStr(a, "spec.action: Unsupported value: %q: supported values: \"ALLOW\", \"DENY\", \"AUDIT\", \"CUSTOM\"", a.S)
			}
		}
	}
	if n, ok := fs["provider"]; ok && !isNull(n) {
		pf := p.fields(n, "spec.provider", "name")
		pol.Provider = "\x00" // set, even without a name
		if v, ok := pf["name"]; ok {
			if s, ok := p.str(v, "spec.provider.name"); ok {
				pol.Provider = s.S
			}
		}
	}
	n, ok := fs["rules"]
	if !ok || isNull(n) {
		return
	}
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.at(n, "spec.rules: must be of type array")
		return
	}
	// An empty list is no rules, as the proto reads it: a DENY with
	// `rules: []` is refused like one without rules, not loaded to deny
	// nothing.
	pol.RulesSet = len(n.Content) > 0
	if !p.spend(len(n.Content), n) {
		return
	}
	for i, rn := range n.Content {
		pol.Rules = append(pol.Rules, decodeRule(p, rn, fmt.Sprintf("spec.rules[%d]", i)))
	}
}

// targetRefs reports whether a spec attaches by target reference, as
// Istio's policy attachment reads it (a non-null targetRef, or a
// targetRefs that is not empty: otherwise the policy attaches by its
// selector), and how many of selector, targetRef and targetRefs are
// written, as the CRD's rule counts them (an empty list counts).
func targetRefs(fs map[string]*yaml.Node) (bool, int) {
	refs, forms := false, 0
	if v, ok := fs["selector"]; ok && !isNull(v) {
		forms++
	}
	if v, ok := fs["targetRef"]; ok && !isNull(v) {
		refs = true
		forms++
	}
	if v, ok := fs["targetRefs"]; ok && !isNull(v) {
		if v = resolve(v); v.Kind != yaml.SequenceNode || len(v.Content) > 0 {
			refs = true
		}
		forms++
	}
	return refs, forms
}

// selector reads a WorkloadSelector's matchLabels.
func (p *problems) selector(n *yaml.Node) map[string]string {
	fs := p.fields(n, "spec.selector", "matchLabels")
	labels := p.strMap(fs["matchLabels"], "spec.selector.matchLabels")
	if labels == nil {
		labels = map[string]string{}
	}
	return labels
}

func decodeRule(p *problems, n *yaml.Node, field string) Rule {
	r := Rule{Line: n.Line}
	if isNull(n) {
		r.Nil = true
		return r
	}
	fs := p.fields(n, field, "from", "to", "when")
	if v, ok := fs["from"]; ok && !isNull(v) {
		r.FromSet = true
		r.From = decodeEntries(p, v, field+".from", "source", sourceFields)
	}
	if v, ok := fs["to"]; ok && !isNull(v) {
		r.ToSet = true
		r.To = decodeEntries(p, v, field+".to", "operation", operationFields)
	}
	if v, ok := fs["when"]; ok && !isNull(v) {
		v = resolve(v)
		if v.Kind != yaml.SequenceNode {
			p.at(v, "%s.when: must be of type array", field)
			return r
		}
		if !p.spend(len(v.Content), v) {
			return r
		}
		for i, c := range v.Content {
			f := fmt.Sprintf("%s.when[%d]", field, i)
			cf := p.fields(c, f, "key", "values", "notValues")
			var cond Condition
			if k, ok := cf["key"]; ok {
				cond.Key, _ = p.str(k, f+".key")
			}
			if cond.Key.Line == 0 {
				cond.Key.Line, cond.Key.Col = c.Line, c.Column
			}
			cond.Values = p.list(cf["values"], f+".values")
			cond.NotValues = p.list(cf["notValues"], f+".notValues")
			r.When = append(r.When, cond)
		}
	}
	return r
}

// decodeEntries reads the from or to list: entries of one key (source or
// operation) holding the given fields.
func decodeEntries(p *problems, n *yaml.Node, field, key string, known []string) []Fields {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.at(n, "%s: must be of type array", field)
		return nil
	}
	if !p.spend(len(n.Content), n) {
		return nil
	}
	out := make([]Fields, 0, len(n.Content))
	for i, c := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		e := Fields{Line: c.Line, Col: c.Column, Nil: true}
		if !isNull(c) {
			ef := p.fields(c, f, key)
			if v, ok := ef[key]; ok && !isNull(v) {
				e.Nil = false
				e.Line, e.Col = v.Line, v.Column
				e.Values = make(map[string][]str)
				for name, vals := range p.fields(v, f+"."+key, known...) {
					e.Values[name] = p.list(vals, f+"."+key+"."+name)
				}
			}
		}
		out = append(out, e)
	}
	return out
}
