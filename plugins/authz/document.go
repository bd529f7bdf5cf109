package authz

// Action is what a policy does with the requests its rules match.
type Action int

// The actions of Istio's AuthorizationPolicy.
const (
	Allow Action = iota
	Deny
	Audit
	Custom
)

var actionNames = [...]string{"ALLOW", "DENY", "AUDIT", "CUSTOM"}

// String returns the action as the document writes it.
func (a Action) String() string { return actionNames[a] }

// Policy is one AuthorizationPolicy document as written, validated.
type Policy struct {
	// File and Line are where the document starts.
	File string
	Line int
	// Name and Namespace are the document's metadata; a document without a
	// namespace is in "default", as kubectl puts it.
	Name, Namespace string
	// DryRun is the annotation istio.io/dry-run: "true": the policy is
	// evaluated and logged, never enforced.
	DryRun bool
	Action Action
	// Selector is spec.selector.matchLabels; nil selects every workload of
	// the namespace.
	Selector map[string]string
	// TargetRefs is set when the policy attaches by targetRef(s), which only
	// Gateway API gateways and waypoints honour; the gateway applies such a
	// policy to no upstream.
	TargetRefs bool
	// Provider is spec.provider.name, for CUSTOM.
	Provider string
	// Rules are spec.rules; RulesSet tells a list of rules from an absent
	// or empty one (which an ALLOW policy reads as "match nothing", and
	// which DENY and CUSTOM refuse).
	Rules    []Rule
	RulesSet bool
}

// ID returns the policy's name as Envoy's RBAC filter writes it for rule i:
// ns[<namespace>]-policy[<name>]-rule[<i>].
func (p *Policy) ID(rule int) string {
	return "ns[" + p.Namespace + "]-policy[" + p.Name + "]-rule[" + itoa(rule) + "]"
}

// Rule is one rule of a policy: any From, and any To, and every When.
type Rule struct {
	Line int
	// From and To are nil when absent; present but empty is an error.
	From []Fields
	To   []Fields
	When []Condition
	// FromSet and ToSet tell a written empty list from an absent one.
	FromSet, ToSet bool
	// Nil is a rule written as null, which istiod refuses: it is not the
	// empty rule {} that matches every request.
	Nil bool
}

// Fields is a source or an operation: its fields by name (principals,
// notPaths …), each with its values.
type Fields struct {
	Line, Col int
	// Nil tells `source:` left empty (null) from an empty mapping.
	Nil    bool
	Values map[string][]str
}

// Condition is one `when` entry.
type Condition struct {
	Key               str
	Values, NotValues []str
}

// RequestAuthentication is a RequestAuthentication document, kept for the
// jwt plugin: where it is, what it selects, and its spec undecoded.
type RequestAuthentication struct {
	File            string
	Line            int
	Name, Namespace string
	// Selector is spec.selector.matchLabels, nil for none; TargetRefs is
	// set when the document attaches by targetRef(s).
	Selector   map[string]string
	TargetRefs bool
	// Spec is the document's spec as YAML, for the jwt plugin to decode.
	Spec []byte
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
