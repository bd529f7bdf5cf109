package authz

import "strings"

// pathMatch is one compiled value of paths or notPaths: a string match, or
// an Envoy uri_template when the value holds {*} or {**}.
type pathMatch struct {
	str      strMatch
	template []tmplPart // nil for a string match
}

// tmplPart is a literal run of a template or one of its operators.
type tmplPart struct {
	lit string
	op  byte // 0 for a literal, '1' for {*}, 'n' for {**}
}

func newPathMatch(v string) pathMatch {
	if !isTemplate(v) {
		return pathMatch{str: newStrMatch(v, nonEmpty, false)}
	}
	var parts []tmplPart
	for v != "" {
		i := strings.IndexByte(v, '{')
		switch {
		case i < 0:
			parts, v = append(parts, tmplPart{lit: v}), ""
		case i > 0:
			parts, v = append(parts, tmplPart{lit: v[:i]}), v[i:]
		case strings.HasPrefix(v, "{**}"):
			parts, v = append(parts, tmplPart{op: 'n'}), v[4:]
		default: // {*}, as validation allows no other brace
			parts, v = append(parts, tmplPart{op: '1'}), v[3:]
		}
	}
	return pathMatch{template: parts}
}

func (m *pathMatch) match(path string) bool {
	if m.template == nil {
		return m.str.match(path)
	}
	return matchTemplate(m.template, path)
}

// matchTemplate matches path against a uri_template as Envoy does: {*} is
// one or more path characters of one segment ([a-zA-Z0-9-._~%!$&'()+,;:@=]+),
// {**} zero or more of them and '/', and literals match themselves. {**}
// comes last of the operators (validation sees to it), so one recursion per
// {**} end bounds the work by the path's length times the template's.
func matchTemplate(parts []tmplPart, path string) bool {
	for k, p := range parts {
		switch p.op {
		case 0:
			if !strings.HasPrefix(path, p.lit) {
				return false
			}
			path = path[len(p.lit):]
		case '1':
			n := 0
			for n < len(path) && isPchar(path[n]) {
				n++
			}
			if n == 0 {
				return false
			}
			path = path[n:]
		default:
			n := 0
			for n < len(path) && (isPchar(path[n]) || path[n] == '/') {
				n++
			}
			for end := n; end >= 0; end-- {
				if matchTemplate(parts[k+1:], path[end:]) {
					return true
				}
			}
			return false
		}
	}
	return path == ""
}
