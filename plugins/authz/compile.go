package authz

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// attr is the request attribute a condition reads.
type attr uint8

const (
	attrPrincipal attr = iota
	attrNamespace
	attrServiceAccount
	attrTrustDomain
	attrRequestPrincipal
	attrAudiences
	attrPresenter
	attrClaim
	attrHeader
	attrSourceIP
	attrRemoteIP
	attrDestIP
	attrPort
	attrHost
	attrMethod
	attrPath
	attrSNI
)

// cond is one field of a source or operation, or one side of a `when`: it
// holds when any of its values matches the request (or, negated, when none
// does, which a request without the attribute satisfies).
type cond struct {
	attr   attr
	negate bool
	strs   []strMatch
	globs  []string // namespaces: patterns on the principal
	sas    []saMatch
	nets   []netip.Prefix
	ports  []uint16
	paths  []pathMatch
	reqs   []issSub // requestPrincipals: issuer and subject
	name   string   // header name
	claim  []string // claim path
}

// saMatch is a service account as Istio's regular expression
// spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)? reads it, split for a search
// without one.
type saMatch struct{ ns, sa string } // "/ns/<ns>/" and "sa/<sa>"

// issSub is a request principal as Istio's generator compiles it: a match
// on the token's iss claim and one on its sub claim.
type issSub struct{ iss, sub strMatch }

// clause is the conditions of one source or operation, all of which hold.
type clause []cond

// rule is a compiled rule: any of from, any of to, all of when. A nil from
// or to puts no constraint.
type rule struct {
	from, to []clause
	when     clause
}

// compiled is a policy ready to decide, with the strings a decision reports
// made once.
type compiled struct {
	pol   *Policy
	rules []rule
	// ids and details are, per rule, its Envoy policy id and the response
	// code details of a denial by it.
	ids, details []string
}

// compiler turns validated policies into conditions, with the mesh's trust
// domains at hand for principals written with cluster.local.
type compiler struct {
	mesh Mesh
	errs []string
}

func (c *compiler) policy(p *Policy) *compiled {
	cp := &compiled{pol: p}
	for i, r := range p.Rules {
		var out rule
		for _, f := range r.From {
			out.from = append(out.from, c.clause(p, f.Values, sourceFields))
		}
		for _, t := range r.To {
			out.to = append(out.to, c.clause(p, t.Values, operationFields))
		}
		for _, w := range r.When {
			out.when = append(out.when, c.condition(p, w)...)
		}
		cp.rules = append(cp.rules, out)
		cp.ids = append(cp.ids, p.ID(i))
		cp.details = append(cp.details, "rbac_access_denied_matched_policy["+p.ID(i)+"]")
	}
	return cp
}

// clause compiles a source's or operation's fields in the API's order.
func (c *compiler) clause(p *Policy, v map[string][]str, order []string) clause {
	var out clause
	for _, name := range order {
		vals := v[name]
		if len(vals) == 0 {
			continue
		}
		negate := strings.HasPrefix(name, "not")
		field := name
		if negate {
			field = strings.ToLower(name[3:4]) + name[4:]
		}
		out = append(out, c.field(p, field, negate, strs(vals)))
	}
	return out
}

func strs(vals []str) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.S
	}
	return out
}

// field compiles the values of one source or operation field.
func (c *compiler) field(p *Policy, field string, negate bool, vals []string) cond {
	k := cond{negate: negate}
	switch field {
	case "principals":
		k.attr, k.strs = attrPrincipal, c.principals(vals)
	case "requestPrincipals":
		k.attr, k.reqs = attrRequestPrincipal, requestPrincipals(vals)
	case "namespaces":
		k.attr, k.globs = attrNamespace, namespaceGlobs(vals)
	case "serviceAccounts":
		k.attr, k.sas = attrServiceAccount, serviceAccounts(p.Namespace, vals)
	case "trustDomains":
		k.attr, k.strs = attrTrustDomain, matches(c.mesh.trustDomains(vals), nonEmpty, false)
	case "ipBlocks":
		k.attr, k.nets = attrSourceIP, prefixes(vals)
	case "remoteIpBlocks":
		k.attr, k.nets = attrRemoteIP, prefixes(vals)
	case "hosts":
		k.attr, k.strs = attrHost, matches(vals, present, true)
	case "ports":
		k.attr, k.ports = attrPort, ports(vals)
	case "methods":
		k.attr, k.strs = attrMethod, matches(vals, present, false)
	case "paths":
		k.attr = attrPath
		for _, v := range vals {
			k.paths = append(k.paths, newPathMatch(v))
		}
	}
	return k
}

// condition compiles a `when` entry: its values, and its notValues as a
// negated condition beside them.
func (c *compiler) condition(p *Policy, w Condition) []cond {
	var out []cond
	for _, side := range []struct {
		vals   []str
		negate bool
	}{{w.Values, false}, {w.NotValues, true}} {
		if len(side.vals) == 0 {
			continue
		}
		if k, ok := c.whenKey(p, w.Key.S, side.negate, strs(side.vals)); ok {
			out = append(out, k)
		}
	}
	return out
}

func (c *compiler) whenKey(p *Policy, key string, negate bool, vals []string) (cond, bool) {
	k := cond{negate: negate}
	switch {
	case strings.HasPrefix(key, keyHeader+"["):
		k.attr, k.name = attrHeader, strings.ToLower(key[len(keyHeader)+1:len(key)-1])
		k.strs = matches(vals, present, false)
	case key == keySourceIP:
		k.attr, k.nets = attrSourceIP, prefixes(vals)
	case key == keyRemoteIP:
		k.attr, k.nets = attrRemoteIP, prefixes(vals)
	case key == keyDestIP:
		k.attr, k.nets = attrDestIP, prefixes(vals)
	case key == keyDestPort:
		k.attr, k.ports = attrPort, ports(vals)
	case key == keySourceNamespace:
		k.attr, k.globs = attrNamespace, namespaceGlobs(vals)
	case key == keySourcePrincipal:
		k.attr, k.strs = attrPrincipal, c.principals(vals)
	case key == keySourceSA:
		k.attr, k.sas = attrServiceAccount, serviceAccounts(p.Namespace, vals)
	case key == keySourceTD:
		k.attr, k.strs = attrTrustDomain, matches(c.mesh.trustDomains(vals), nonEmpty, false)
	case key == keyAuthPrincipal:
		k.attr, k.reqs = attrRequestPrincipal, requestPrincipals(vals)
	case key == keyAuthAudiences:
		k.attr, k.strs = attrAudiences, matches(vals, nonEmpty, false)
	case key == keyAuthPresenter:
		k.attr, k.strs = attrPresenter, matches(vals, nonEmpty, false)
	case key == keySNI:
		k.attr, k.strs = attrSNI, matches(vals, nonEmpty, false)
	case strings.HasPrefix(key, keyAuthClaims):
		k.attr, k.claim = attrClaim, claimPath(key)
		k.strs = matches(vals, nonEmpty, false)
		if k.claim == nil {
			c.errs = append(c.errs, fmt.Sprintf("key %s: want request.auth.claims[name] or request.auth.claims[a][b]…", key))
			return k, false
		}
	default:
		c.errs = append(c.errs, "key "+key+" is not supported")
		return k, false
	}
	return k, true
}

func matches(vals []string, star matchKind, fold bool) []strMatch {
	out := make([]strMatch, len(vals))
	for i, v := range vals {
		out[i] = newStrMatch(v, star, fold)
	}
	return out
}

// requestPrincipals compiles iss/sub values as Istio's
// requestPrincipalGenerator does: the value is split at its last '/' (an
// issuer may be a URL), and each side is matched on its own claim, so that
// no '/' in an issuer or a subject can move the boundary between them.
// "*" alone, and a side that is "*" alone, needs a non-empty claim.
func requestPrincipals(vals []string) []issSub {
	out := make([]issSub, len(vals))
	some := strMatch{kind: nonEmpty}
	for i, v := range vals {
		cut := strings.LastIndexByte(v, '/')
		iss, sub := v, ""
		if cut >= 0 {
			iss, sub = v[:cut], v[cut+1:]
		}
		var m issSub
		switch {
		case v == "*":
			m = issSub{some, some}
		case strings.HasPrefix(v, "*") && cut >= 0:
			m.iss, m.sub = some, strMatch{kind: exact, s: sub}
			if iss != "*" {
				m.iss = strMatch{kind: suffix, s: iss[1:]}
			}
		case strings.HasPrefix(v, "*"):
			m = issSub{some, strMatch{kind: suffix, s: v[1:]}}
		case strings.HasSuffix(v, "*") && cut >= 0:
			m.iss, m.sub = strMatch{kind: exact, s: iss}, some
			if sub != "*" {
				m.sub = strMatch{kind: prefix, s: sub[:len(sub)-1]}
			}
		case strings.HasSuffix(v, "*"):
			m = issSub{strMatch{kind: prefix, s: v[:len(v)-1]}, some}
		default:
			m = issSub{strMatch{kind: exact, s: iss}, strMatch{kind: exact, s: sub}}
		}
		out[i] = m
	}
	return out
}

// namespaceGlobs makes Istio's regular expression .*/ns/<ns>/.* of each
// namespace, whose '*' becomes .* too, as patterns on the principal.
func namespaceGlobs(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "*/ns/" + v + "/*"
	}
	return out
}

// serviceAccounts reads ns/sa or sa, the latter in the policy's namespace.
func serviceAccounts(policyNS string, vals []string) []saMatch {
	out := make([]saMatch, len(vals))
	for i, v := range vals {
		ns, sa, ok := strings.Cut(v, "/")
		if !ok {
			ns, sa = policyNS, v
		}
		out[i] = saMatch{ns: "/ns/" + ns + "/", sa: "sa/" + sa}
	}
	return out
}

// prefixes parses IPs and CIDRs; a single address is its /32 or /128.
func prefixes(vals []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(vals))
	for _, v := range vals {
		if strings.Contains(v, "/") {
			if p, err := netip.ParsePrefix(v); err == nil {
				out = append(out, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
			}
		} else if a, err := netip.ParseAddr(v); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// unmappedBits is a prefix length for the address unmapped: ::ffff:10.0.0.0/104
// is 10.0.0.0/8.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

func ports(vals []string) []uint16 {
	out := make([]uint16, 0, len(vals))
	for _, v := range vals {
		if n, err := strconv.ParseUint(v, 10, 16); err == nil {
			out = append(out, uint16(n))
		}
	}
	return out
}

// principals compiles principal values, expanding those of the local trust
// domain as Istio's trustdomain.Bundle does: a principal of Istio's shape
// (<td>/ns/<ns>/sa/<sa>) whose trust domain is cluster.local, the mesh's
// trust domain or one of its aliases stands for the mesh's trust domain and
// every alias. Others, and those with a wildcard trust domain, stay as
// written.
func (c *compiler) principals(vals []string) []strMatch {
	var out []strMatch
	for _, v := range vals {
		for _, e := range c.mesh.expand(v) {
			out = append(out, newStrMatch(e, nonEmpty, false))
		}
	}
	return out
}

// trustDomains expands trust domain values as Istio's
// trustdomain.Bundle.ExpandTrustDomainAliases does: a value that is the
// mesh's trust domain or one of its aliases, written exactly, stands for
// all of them. Unlike a principal's, cluster.local is not special here.
func (m *Mesh) trustDomains(vals []string) []string {
	tds := append([]string{m.TrustDomain}, m.TrustDomainAliases...)
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if contains(tds, v) {
			for _, td := range tds {
				if !contains(out, td) {
					out = append(out, td)
				}
			}
		} else if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// expand returns v for every trust domain it stands for, as Istio's
// trustdomain.Bundle.ReplaceTrustDomainAliases does: a principal of five
// segments whose trust domain is not "*" and matches one of the mesh's
// (exactly, or by a leading or trailing '*' on either side) or is
// cluster.local is written once per trust domain of the mesh, except that
// for a domain its own wildcard already matches it stays as written.
func (m *Mesh) expand(v string) []string {
	parts := strings.Split(v, "/")
	if len(parts) != 5 || parts[0] == "*" {
		return []string{v}
	}
	tds := append([]string{m.TrustDomain}, m.TrustDomainAliases...)
	if parts[0] != "cluster.local" && !slices.ContainsFunc(tds, func(td string) bool { return tdMatch(parts[0], td) }) {
		return []string{v}
	}
	out := make([]string, 0, len(tds))
	rest := v[len(parts[0]):]
	for _, td := range tds {
		e := td + rest
		if wildSuffix(td, parts[0]) {
			e = v
		}
		if !contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// tdMatch is Istio's stringMatch of a principal's trust domain a against
// one of the mesh's, s.
func tdMatch(a, s string) bool {
	return a == s || s == "*" || wildPrefix(a, s) || wildPrefix(s, a) || wildSuffix(a, s) || wildSuffix(s, a)
}

// wildPrefix reports whether a starts with pattern, which ends in '*'.
func wildPrefix(a, pattern string) bool {
	p, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasPrefix(a, p)
}

// wildSuffix reports whether a ends with pattern, which starts with '*'.
func wildSuffix(a, pattern string) bool {
	p, ok := strings.CutPrefix(pattern, "*")
	return ok && strings.HasSuffix(a, p)
}
