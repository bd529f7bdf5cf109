package authz

import (
	"net/netip"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
)

// DetailsNone is the response code details of a request that an ALLOW
// policy applies to and none allowed, as Envoy writes it.
const DetailsNone = "rbac_access_denied_matched_policy[none]"

// Match names a policy's rule that matched a request.
type Match struct {
	// Policy is nil when no rule matched.
	Policy *Policy
	Rule   int
	// ID is Envoy's name of the rule, ns[<ns>]-policy[<name>]-rule[<i>].
	ID string
	// Details are the response code details of a denial by the rule.
	Details string
}

// Decision is what a guard decided of one request, and why.
type Decision struct {
	// Custom is the CUSTOM rule that matched, if any: the request goes to
	// the guard's provider, whose answer comes first. Allowed and By are
	// what the other policies decide when it allows.
	Custom Match
	// Allowed is the enforced decision.
	Allowed bool
	// By is the rule that decided: the DENY rule that denied, or the ALLOW
	// rule that allowed; no policy when no ALLOW policy applies (allowed)
	// or none of them matched (denied).
	By Match
	// Details are the access log's response code details of a denial.
	Details string
	// Audit is the first AUDIT rule that matched, if any: the request is
	// marked for audit.
	Audit Match
	// DryRunDeny is the dry-run DENY rule that matched, if any.
	DryRunDeny Match
	// DryRunAllow says whether dry-run ALLOW policies apply
	// (DryRunAllowApplies) and, if they do, whether one of them would have
	// allowed the request, and by which rule.
	DryRunAllowApplies, DryRunAllowed bool
	DryRunAllow                       Match
}

// Decide decides r in Istio's order: a matching CUSTOM policy sends it to
// the provider (Decision.Custom, which the handler asks); a matching DENY
// policy denies; then,
// if any ALLOW policy applies, one must match; AUDIT and dry-run policies
// are evaluated for the record and never change the outcome. It allocates
// nothing.
func (g *Guard) Decide(r *plugins.Request) Decision {
	d := g.decideAfterCustom(r)
	if len(g.custom) > 0 {
		d.Custom = first(g.custom, r)
	}
	return d
}

// decideAfterCustom is Decide but for Decision.Custom: the handler matches
// the CUSTOM policies itself, before the provider's answer has changed the
// request the others are decided on, and does not match them twice.
func (g *Guard) decideAfterCustom(r *plugins.Request) Decision {
	var d Decision
	d.Audit = first(g.audit, r)
	if len(g.dryDeny) > 0 {
		d.DryRunDeny = first(g.dryDeny, r)
	}
	if len(g.dryAllow) > 0 {
		d.DryRunAllowApplies = true
		d.DryRunAllow = first(g.dryAllow, r)
		d.DryRunAllowed = d.DryRunAllow.Policy != nil
	}
	if m := first(g.deny, r); m.Policy != nil {
		d.By, d.Details = m, m.Details
		return d
	}
	if len(g.allow) == 0 {
		d.Allowed = true
		return d
	}
	if m := first(g.allow, r); m.Policy != nil {
		d.Allowed, d.By = true, m
		return d
	}
	d.Details = DetailsNone
	return d
}

// first returns the first rule of the policies that matches r.
func first(ps []*compiled, r *plugins.Request) Match {
	for _, cp := range ps {
		for i := range cp.rules {
			if cp.rules[i].holds(r) {
				return Match{Policy: cp.pol, Rule: i, ID: cp.ids[i], Details: cp.details[i]}
			}
		}
	}
	return Match{}
}

func (ru *rule) holds(r *plugins.Request) bool {
	return anyClause(ru.to, r) && ru.when.holds(r) && anyClause(ru.from, r)
}

// anyClause reports whether one of cs holds; a nil list puts no constraint.
func anyClause(cs []clause, r *plugins.Request) bool {
	if cs == nil {
		return true
	}
	for i := range cs {
		if cs[i].holds(r) {
			return true
		}
	}
	return false
}

func (c clause) holds(r *plugins.Request) bool {
	for i := range c {
		if c[i].matches(r) == c[i].negate {
			return false
		}
	}
	return true
}

// matches reports whether any value of k matches r's attribute; a request
// without the attribute matches none.
func (k *cond) matches(r *plugins.Request) bool {
	switch k.attr {
	case attrPrincipal, attrNamespace, attrServiceAccount, attrTrustDomain:
		if r.Identity == nil || r.Identity.Principal == "" {
			return false
		}
		return k.matchesPeer(r.Identity)
	case attrRequestPrincipal, attrAudiences, attrPresenter, attrClaim:
		if r.Auth == nil {
			return false
		}
		return k.matchesAuth(r.Auth)
	case attrHeader:
		return k.matchesHeader(r)
	case attrSourceIP:
		return k.matchesAddr(r.Peer.Addr())
	case attrRemoteIP:
		return k.matchesAddr(r.Client)
	case attrDestIP:
		return k.matchesAddr(r.Local.Addr())
	case attrPort:
		p := r.Local.Port()
		for _, v := range k.ports {
			if v == p && r.Local.IsValid() {
				return true
			}
		}
		return false
	case attrHost:
		return k.anyStr(routedHost(r.Authority()))
	case attrMethod:
		return k.anyStr(r.Method())
	case attrPath:
		path := r.Path()
		for i := range k.paths {
			if k.paths[i].match(path) {
				return true
			}
		}
		return false
	case attrSNI:
		return r.SNI != "" && k.anyStr(r.SNI)
	}
	return false
}

// routedHost is the authority with one trailing dot of its name dropped,
// as the routes read it: "internal.example.com." reaches the virtual host
// of internal.example.com, so hosts must name it too, or a DENY on the
// host would let that spelling through to it. The port stays as sent, as
// Istio compares it. Only an authority with such a dot and a port costs
// an allocation.
func routedHost(a string) string {
	name, port := a, ""
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.HasSuffix(a, "]") {
		name, port = a[:i], a[i:]
	}
	if !strings.HasSuffix(name, ".") || strings.HasPrefix(name, "[") {
		return a
	}
	if port == "" {
		return name[:len(name)-1]
	}
	return name[:len(name)-1] + port
}

func (k *cond) anyStr(s string) bool {
	for i := range k.strs {
		if k.strs[i].match(s) {
			return true
		}
	}
	return false
}

func (k *cond) matchesPeer(id *plugins.Identity) bool {
	p := id.Principal
	switch k.attr {
	case attrPrincipal:
		return k.anyStr(p)
	case attrNamespace:
		// Istio's .*/ns/<ns>/.* reads spiffe://<principal>: the '/' before
		// ns may be the scheme's own, when the trust domain is "ns".
		tdNS := strings.HasPrefix(p, "ns/")
		for _, g := range k.globs {
			if glob(g, p) || tdNS && glob(g[2:], p) {
				return true
			}
		}
		return false
	case attrServiceAccount:
		for i := range k.sas {
			if k.sas[i].matches(p) {
				return true
			}
		}
		return false
	}
	td := id.TrustDomain
	if td == "" {
		td, _, _ = strings.Cut(p, "/")
	}
	return k.anyStr(td)
}

// matches reads p as spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)? does.
func (s *saMatch) matches(p string) bool {
	for from := 1; from < len(p); {
		i := strings.Index(p[from:], s.ns)
		if i < 0 {
			return false
		}
		rest := p[from+i+len(s.ns):]
		for j := 0; j < len(rest); {
			k := strings.Index(rest[j:], s.sa)
			if k < 0 {
				break
			}
			at := j + k
			if at == 0 || at >= 2 && rest[at-1] == '/' {
				tail := rest[at+len(s.sa):]
				if tail == "" || len(tail) > 1 && tail[0] == '/' {
					return true
				}
			}
			j = at + 1
		}
		from += i + 1
	}
	return false
}

func (k *cond) matchesAuth(a *plugins.RequestAuth) bool {
	switch k.attr {
	case attrRequestPrincipal:
		return k.matchesRequestPrincipal(a)
	case attrAudiences:
		for _, aud := range a.Audiences {
			if k.anyStr(aud) {
				return true
			}
		}
		return false
	case attrPresenter:
		return a.Presenter != "" && k.anyStr(a.Presenter)
	}
	return k.matchesClaim(a.Claims)
}

// matchesRequestPrincipal matches the token's iss and sub claims, each
// a string, as Envoy's metadata matchers on payload.iss and payload.sub
// do. A request without claims is read from its principal, iss/sub, cut
// at the last '/'.
func (k *cond) matchesRequestPrincipal(a *plugins.RequestAuth) bool {
	iss, okIss := a.Claims["iss"].(string)
	sub, okSub := a.Claims["sub"].(string)
	if a.Claims == nil && a.Principal != "" {
		cut := strings.LastIndexByte(a.Principal, '/')
		if cut < 0 {
			return false
		}
		iss, sub, okIss, okSub = a.Principal[:cut], a.Principal[cut+1:], true, true
	}
	if !okIss || !okSub {
		return false
	}
	for i := range k.reqs {
		if k.reqs[i].iss.match(iss) && k.reqs[i].sub.match(sub) {
			return true
		}
	}
	return false
}

// matchesClaim walks the claim path; a list claim matches when one of its
// string elements does, and the space-delimited scope and permission
// claims are matched word by word, as Envoy's jwt_authn normalises them.
func (k *cond) matchesClaim(claims map[string]any) bool {
	var v any = claims
	for _, name := range k.claim {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[name]; !ok {
			return false
		}
	}
	switch v := v.(type) {
	case string:
		if len(k.claim) == 1 && (k.claim[0] == "scope" || k.claim[0] == "permission") {
			for w := range strings.FieldsSeq(v) {
				if k.anyStr(w) {
					return true
				}
			}
			return false
		}
		return k.anyStr(v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && k.anyStr(s) {
				return true
			}
		}
	case []string:
		for _, s := range v {
			if k.anyStr(s) {
				return true
			}
		}
	}
	return false
}

// matchesHeader matches a request header by name, its values joined by
// commas as Envoy's header matcher sees a field sent several times; the
// pseudo-headers :authority, :method, :path (with its query) and :scheme
// are read from the request.
func (k *cond) matchesHeader(r *plugins.Request) bool {
	var vals []string
	var one [2]string
	sep := byte(',')
	switch k.name {
	case ":authority", "host":
		one[0] = r.Authority()
		vals = one[:1]
	case ":method":
		one[0] = r.Method()
		vals = one[:1]
	case ":scheme":
		one[0] = r.Scheme()
		vals = one[:1]
	case ":path":
		one[0], one[1], sep = r.Path(), r.Query(), '?'
		vals = one[:1]
		if one[1] != "" {
			vals = one[:2]
		}
	default:
		vals = r.Header().Values(k.name)
	}
	if len(vals) == 0 {
		return false
	}
	for i := range k.strs {
		if k.strs[i].matchJoined(vals, sep) {
			return true
		}
	}
	return false
}

// matchesAddr reports whether a is in one of the condition's prefixes; an
// invalid (absent) address is in none.
func (k *cond) matchesAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range k.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
