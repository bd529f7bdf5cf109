package authz

import "strings"

// matchKind is how a value of a policy compares, as Istio's
// StringMatcherWithPrefix reads it: "*" alone, "*suffix", "prefix*", or
// exact. Only the first and last characters are special: Istio checks "*"
// first, then a leading '*', then a trailing one, so "*a*" is a suffix
// match on "a*", kept literally.
type matchKind uint8

const (
	exact matchKind = iota
	prefix
	suffix
	// nonEmpty is "*" where Istio makes it the regular expression .+ (any
	// value but the empty one): principals, namespaces, paths, SNI, claims.
	nonEmpty
	// present is "*" where Istio makes it Envoy's present_match (the field
	// is there, even empty): headers, hosts and methods.
	present
)

// strMatch is one compiled value of a string field.
type strMatch struct {
	kind matchKind
	s    string
	fold bool // compare without regard to ASCII case (hosts)
}

// newStrMatch compiles v. star is what "*" alone means for the field:
// nonEmpty or present.
func newStrMatch(v string, star matchKind, fold bool) strMatch {
	m := strMatch{fold: fold}
	switch {
	case v == "*":
		m.kind = star
	case strings.HasPrefix(v, "*"):
		m.kind, m.s = suffix, v[1:]
	case strings.HasSuffix(v, "*"):
		m.kind, m.s = prefix, v[:len(v)-1]
	default:
		m.kind, m.s = exact, v
	}
	if fold {
		m.s = strings.ToLower(m.s)
	}
	return m
}

// match reports whether s, a value that is present, matches.
func (m *strMatch) match(s string) bool {
	switch m.kind {
	case present:
		return true
	case nonEmpty:
		return s != ""
	case prefix:
		return len(s) >= len(m.s) && m.eq(s[:len(m.s)])
	case suffix:
		return len(s) >= len(m.s) && m.eq(s[len(s)-len(m.s):])
	}
	return len(s) == len(m.s) && m.eq(s)
}

func (m *strMatch) eq(s string) bool {
	if m.fold {
		return strings.EqualFold(s, m.s)
	}
	return s == m.s
}

// matchJoined matches the values of a field sent several times as Envoy's
// header matcher does, on the values joined by sep, without joining them.
func (m *strMatch) matchJoined(vals []string, sep byte) bool {
	if len(vals) == 1 {
		return m.match(vals[0])
	}
	n := len(vals) - 1
	for _, v := range vals {
		n += len(v)
	}
	switch m.kind {
	case present:
		return true
	case nonEmpty:
		return n > 0
	case exact:
		return n == len(m.s) && joinedHasPrefix(vals, sep, m.s, m.fold)
	case prefix:
		return n >= len(m.s) && joinedHasPrefix(vals, sep, m.s, m.fold)
	}
	return n >= len(m.s) && joinedHasSuffix(vals, sep, m.s, m.fold)
}

func byteEq(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

// joinedHasPrefix reports whether vals joined by sep start with p.
func joinedHasPrefix(vals []string, sep byte, p string, fold bool) bool {
	i := 0
	for k, v := range vals {
		if k > 0 {
			if i == len(p) {
				return true
			}
			if !byteEq(sep, p[i], fold) {
				return false
			}
			i++
		}
		for j := 0; j < len(v); j++ {
			if i == len(p) {
				return true
			}
			if !byteEq(v[j], p[i], fold) {
				return false
			}
			i++
		}
	}
	return i == len(p)
}

// joinedHasSuffix reports whether vals joined by sep end with p.
func joinedHasSuffix(vals []string, sep byte, p string, fold bool) bool {
	i := len(p)
	for k := len(vals) - 1; k >= 0; k-- {
		v := vals[k]
		for j := len(v) - 1; j >= 0; j-- {
			if i == 0 {
				return true
			}
			i--
			if !byteEq(v[j], p[i], fold) {
				return false
			}
		}
		if k > 0 {
			if i == 0 {
				return true
			}
			i--
			if !byteEq(sep, p[i], fold) {
				return false
			}
		}
	}
	return i == 0
}

// glob reports whether s matches pattern, in which '*' stands for any run
// of bytes, '/' included, as the regular expression .* that Istio makes of
// a namespace's '*'. It keeps one backtrack point, so it is linear in
// practice and never allocates.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
