package authz

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validate checks a decoded policy as istiod's ValidateAuthorizationPolicy
// does, in Istio's words, adding what the gateway cannot honour. Errors go
// to p, warnings to w.
func validate(p, w *problems, pol *Policy, spec *yaml.Node) {
	at := spec
	if at == nil {
		at = &yaml.Node{Line: pol.Line, Column: 1}
	}
	for k, v := range pol.Selector {
		switch {
		case k == "":
			p.at(at, "empty key is not supported in selector: %q", v)
		case strings.Contains(k, "*") || strings.Contains(v, "*"):
			p.at(at, "wildcard is not supported in selector")
		}
	}
	if pol.TargetRefs {
		w.at(at, "the policy attaches by targetRefs, which Istio honours on Gateway API gateways and waypoints only: "+
			"it guards no upstream here, unless a route names it")
	}
	provider := pol.Provider != ""
	switch {
	case pol.Action == Custom:
		if !pol.RulesSet {
			p.at(at, "CUSTOM action without `rules` is meaningless as it will never be triggered, "+
				"add an empty rule `{}` if you want it be triggered for every request")
		} else if !provider || pol.Provider == "\x00" {
			p.at(at, "`provider.name` must not be empty")
		}
	case provider:
		p.at(at, "`provider` must not be with non CUSTOM action, found %s", pol.Action)
	}
	if pol.Action == Deny && !pol.RulesSet {
		p.at(at, "DENY action without `rules` is meaningless as it will never be triggered, "+
			"add an empty rule `{}` if you want it be triggered for every request")
	}
	for i := range pol.Rules {
		validateRule(p, w, pol, i)
	}
}

func validateRule(p, w *problems, pol *Policy, i int) {
	r := &pol.Rules[i]
	rn := &yaml.Node{Line: r.Line, Column: 1}
	if r.Nil {
		p.at(rn, "`rule` must not be nil, found at rule %d", i)
		return
	}
	if r.FromSet && len(r.From) == 0 {
		p.at(rn, "`from` must not be empty, found at rule %d", i)
	}
	for _, f := range r.From {
		n := &yaml.Node{Line: f.Line, Column: f.Col}
		if f.Nil {
			p.at(n, "`from.source` must not be nil, found at rule %d", i)
			continue
		}
		v := f.Values
		if len(v["principals"])+len(v["notPrincipals"])+len(v["namespaces"])+len(v["notNamespaces"]) > 0 &&
			len(v["serviceAccounts"])+len(v["notServiceAccounts"]) > 0 {
			p.at(n, "Cannot set serviceAccounts with namespaces or principals, found at rule %d", i)
		}
		if empty(v) {
			p.at(n, "`from.source` must not be empty, found at rule %d", i)
		}
		for _, name := range sourceFields {
			vals := v[name]
			switch name {
			case "serviceAccounts", "notServiceAccounts":
				checkServiceAccounts(p, n, name, vals)
			case "trustDomains", "notTrustDomains":
				checkEmpty(p, name, vals)
				checkTrustDomains(p, upperFirst(name), vals)
			case "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks":
				checkIPs(p, vals)
				checkEmpty(p, name, vals)
			default:
				checkEmpty(p, name, vals)
			}
			if name == "principals" || name == "notPrincipals" {
				for _, s := range vals {
					if strings.HasPrefix(s.S, "spiffe://") {
						w.atStr(s, "%s value %q never matches: Istio writes principals without spiffe://", name, s.S)
					}
				}
			}
		}
	}
	if r.ToSet && len(r.To) == 0 {
		p.at(rn, "`to` must not be empty, found at rule %d", i)
	}
	for _, t := range r.To {
		n := &yaml.Node{Line: t.Line, Column: t.Col}
		if t.Nil {
			p.at(n, "`to.operation` must not be nil, found at rule %d", i)
			continue
		}
		v := t.Values
		if empty(v) {
			p.at(n, "`to.operation` must not be empty, found at rule %d", i)
		}
		checkPorts(p, v["ports"])
		checkPorts(p, v["notPorts"])
		for _, name := range operationFields {
			checkEmpty(p, name, v[name])
		}
		checkPathTemplates(p, "Paths", v["paths"])
		checkPathTemplates(p, "NotPaths", v["notPaths"])
		warnUnnormalPaths(w, "paths", v["paths"])
		warnUnnormalPaths(w, "notPaths", v["notPaths"])
		if pol.Action == Deny {
			warnExactPaths(w, v["paths"])
			warnPortlessHosts(w, "DENY on the host", "deny", v["hosts"])
		}
		if pol.Action == Allow {
			warnPortlessHosts(w, "ALLOW with notHosts", "exclude", v["notHosts"])
		}
	}
	for _, c := range r.When {
		validateCondition(p, c)
	}
}

func empty(v map[string][]str) bool {
	for _, vals := range v {
		if len(vals) > 0 {
			return false
		}
	}
	return true
}

// checkEmpty is Istio's CheckEmptyValues.
func checkEmpty(p *problems, key string, vals []str) {
	for _, s := range vals {
		if s.S == "" {
			p.atStr(s, "empty value not allowed, found in %s", upperFirst(key))
			return
		}
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkIPs is Istio's ValidateIPs.
func checkIPs(p *problems, vals []str) {
	for _, s := range vals {
		if s.S == "" {
			continue
		}
		if strings.Contains(s.S, "/") {
			if _, err := netip.ParsePrefix(s.S); err != nil {
				p.atStr(s, "bad CIDR range (%s): %v", s.S, err)
			}
		} else if a, err := netip.ParseAddr(s.S); err != nil || a.Zone() != "" {
			p.atStr(s, "bad IP address (%s)", s.S)
		}
	}
}

// checkPorts is Istio's ValidatePorts.
func checkPorts(p *problems, vals []str) {
	for _, s := range vals {
		if s.S == "" {
			continue
		}
		n, err := strconv.ParseUint(s.S, 10, 32)
		if err != nil {
			p.atStr(s, "bad port (%s): %v", s.S, err)
		} else if n > 65535 {
			p.atStr(s, "bad port (%s): above 65535", s.S)
		}
	}
}

// checkServiceAccounts is Istio's CheckServiceAccount.
func checkServiceAccounts(p *problems, n *yaml.Node, key string, vals []str) {
	if len(vals) > 16 {
		p.at(n, "may not have more than 16 values")
		return
	}
	form := "expected format 'serviceAccount' or 'namespace/serviceAccount'"
	for _, s := range vals {
		v := s.S
		ns, sa, cut := strings.Cut(v, "/")
		switch {
		case v == "":
			p.atStr(s, "empty value not allowed, found in %s", upperFirst(key))
		case strings.Contains(v, "*"):
			p.atStr(s, "wildcard not allowed, found in %s", upperFirst(key))
		case strings.Count(v, "/") > 1:
			p.atStr(s, "%s, found %q in %s", form, v, upperFirst(key))
		case len(v) > 320:
			p.atStr(s, "value cannot exceed 320 characters, found %q in %s", v, upperFirst(key))
		case cut && ns == "":
			p.atStr(s, "%s, found empty namespace %q in %s", form, v, upperFirst(key))
		case cut && sa == "":
			p.atStr(s, "%s, found empty serviceAccount %q in %s", form, v, upperFirst(key))
		default:
			continue
		}
		return
	}
}

// checkWildcards is Istio's CheckWildcardValues for trust domains: at most
// one '*', at the start or the end.
func checkWildcards(p *problems, key string, vals []str) {
	for _, s := range vals {
		n := strings.Count(s.S, "*")
		switch {
		case n > 1:
			p.atStr(s, "at most one wildcard is allowed, found in %s: %q", key, s.S)
		case n == 1 && s.S != "*" && !strings.HasPrefix(s.S, "*") && !strings.HasSuffix(s.S, "*"):
			p.atStr(s, "wildcard is only allowed at the start or end, found in %s: %q", key, s.S)
		default:
			continue
		}
		return
	}
}

// checkTrustDomains is Istio's CheckTrustDomainValues: the wildcards of
// checkWildcards, and no '/', which would make the value a path.
func checkTrustDomains(p *problems, key string, vals []str) {
	before := len(p.errs)
	if checkWildcards(p, key, vals); len(p.errs) > before {
		return
	}
	for _, s := range vals {
		if strings.Contains(s.S, "/") {
			p.atStr(s, "trust domain must not contain '/', found in %s: %q", key, s.S)
			return
		}
	}
}

// checkPathTemplates is Istio's CheckValidPathTemplate.
func checkPathTemplates(p *problems, key string, vals []str) {
	for _, s := range vals {
		if msg := pathTemplateError(s.S); msg != "" {
			p.atStr(s, "invalid or unsupported path %s, found in %s. %s", strings.Trim(s.S, "/"), key, msg)
		}
	}
}

// pathTemplateError returns why a path value is not a template Istio
// accepts, or "".
func pathTemplateError(path string) string {
	template := isTemplate(path)
	anySeen := false
	for _, glob := range strings.Split(strings.Trim(path, "/"), "/") {
		switch {
		case glob == "{*}" && !anySeen:
			continue
		case glob == "{**}" && !anySeen:
			anySeen = true
			continue
		case glob == "{*}" || glob == "{**}":
			return "{**} is not the last operator"
		case strings.ContainsAny(glob, "{}"):
			return "Contains '{' or '}' beyond a supported path template"
		case template && !validLiteral(glob):
			return fmt.Sprintf("Contains segment %s with invalid string literal", glob)
		}
	}
	return ""
}

// validLiteral reports whether s is made of RFC 3986 pchars, as Istio's
// validLiteral expression ^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$ says.
func validLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isPchar(s[i]) {
			return false
		}
	}
	return true
}

func isPchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~%!$&'()+,;:@=", c) >= 0
}

func isTemplate(v string) bool { return strings.Contains(v, "{*}") || strings.Contains(v, "{**}") }

// warnPortlessHosts warns of hosts that a request passes by naming its
// port: hosts compare the authority as sent, port included, as Istio's do,
// so "internal.example.com" does not match "internal.example.com:443",
// which reaches the same virtual host. what says what the policy does
// with the host, verb what it fails to do with the other spelling.
func warnPortlessHosts(w *problems, what, verb string, hosts []str) {
	for _, s := range hosts {
		v := s.S
		if v == "" || strings.ContainsAny(v, "*:[") {
			continue
		}
		covered := false
		for _, o := range hosts {
			if o.S == v+":*" || o.S == v+"*" {
				covered = true
			}
		}
		if !covered {
			w.atStr(s, "%s %q does not %s %q with a port, such as %q (hosts compare the port as sent); add %q",
				what, v, verb, v, v+":443", v+":*")
		}
	}
}

// warnUnnormalPaths warns of path values that no request path can equal:
// paths are compared with the normalised path, in which an escaped
// unreserved character (%41) is decoded, other escapes have upper-case hex,
// and a byte a URL holds only escaped (a space, '"', non-ASCII …) is
// escaped. "/café" is "/caf%C3%A9" once normalised, so a DENY on "/café"
// would deny nothing.
func warnUnnormalPaths(w *problems, field string, paths []str) {
	for _, s := range paths {
		if n := normalSpelling(s.S); n != s.S {
			w.atStr(s, "%s value %q is not in the normalised form requests are compared in, %q: "+
				"it matches no request unless path_normalization is none", field, s.S, n)
		}
	}
}

// normalSpelling is v as the gateway's path normalisation writes it,
// '*' and template braces kept.
func normalSpelling(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+2 < len(v) && hexByte(v[i+1:i+3]) >= 0:
			d := byte(hexByte(v[i+1 : i+3]))
			if isUnreservedByte(d) {
				b.WriteByte(d)
			} else {
				b.WriteByte('%')
				b.WriteByte(hex[d>>4])
				b.WriteByte(hex[d&15])
			}
			i += 2
		case c >= 0x80 || c <= ' ' || strings.IndexByte("\"<>[]^`|", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// hexByte is the value of two hex digits, or -1.
func hexByte(s string) int {
	if s[0] == '+' || s[0] == '-' {
		return -1
	}
	n, err := strconv.ParseUint(s, 16, 8)
	if err != nil {
		return -1
	}
	return int(n)
}

func isUnreservedByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// warnExactPaths warns of a DENY on an exact path that leaves its spellings
// with a trailing slash through: /admin denies neither /admin/ nor /ADMIN.
func warnExactPaths(w *problems, paths []str) {
	for _, s := range paths {
		v := s.S
		if v == "" || strings.ContainsAny(v, "*{") || strings.HasSuffix(v, "/") {
			continue
		}
		covered := false
		for _, o := range paths {
			if o.S == v+"/" || o.S == v+"/*" || o.S == v+"*" {
				covered = true
			}
		}
		if !covered {
			w.atStr(s, "DENY on the exact path %q does not deny %q, %q nor other case spellings (paths compare case-sensitively); "+
				"add %q or write %q", v, v+"/", strings.ToUpper(v), v+"/", v+"*")
		}
	}
}
