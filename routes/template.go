package routes

import (
	"errors"
	"fmt"
	"strings"
)

// template is a compiled path_template, matched without regexp. It follows
// Envoy's uri_template matcher, which Istio's AuthorizationPolicy paths use:
// the template's segments joined by slashes must match the whole path, where
// {*} or {name} is one non-empty segment and {**} is any text, slashes
// included, possibly empty. So "/store/{**}/cart" matches /store//cart and
// /store/a/b/cart but not /store/cart, and "/foo/{**}/" matches /foo/bar/
// and /foo// but neither /foo/bar nor /foo/bar/baz.txt (Istio's API text
// lists the last as a match; Envoy's matcher, which enforces the policy,
// does not match it, and neither does this).
//
// Unlike Envoy, {*} and {**} accept any byte but the slash (Envoy leaves out
// '*', '=' and characters outside RFC 3986's pchar), so a deny rule cannot be
// stepped around by putting one of those in a segment.
type template struct {
	// before are the segments before {**}, or all of them without one.
	before []templateSegment
	// glob is set when the template has {**}.
	glob bool
	// tail is what follows {**}: "/" and the literal segments after it,
	// joined; empty when {**} is last.
	tail string
}

// templateSegment is a literal segment or, with one set, a {*} or {name}.
type templateSegment struct {
	literal string
	one     bool
}

// match reports whether the normalised path p matches the template.
func (t *template) match(p string) bool {
	for _, s := range t.before {
		if p == "" || p[0] != '/' {
			return false
		}
		p = p[1:]
		if s.one {
			n := strings.IndexByte(p, '/')
			if n < 0 {
				n = len(p)
			}
			if n == 0 {
				return false
			}
			p = p[n:]
			continue
		}
		if !strings.HasPrefix(p, s.literal) {
			return false
		}
		p = p[len(s.literal):]
	}
	if !t.glob {
		return p == ""
	}
	return p != "" && p[0] == '/' && strings.HasSuffix(p[1:], t.tail)
}

// compileTemplate parses and checks a path_template. An operator must be a
// whole segment, {**} the last operator, and the literal segments in the
// normal form NormalizePath gives, or no request could ever match them.
func compileTemplate(s string) (template, error) {
	var t template
	if !strings.HasPrefix(s, "/") {
		return t, errors.New("must start with /")
	}
	var after []string
	names := make(map[string]bool)
	for seg := range strings.SplitSeq(s[1:], "/") {
		if !strings.ContainsAny(seg, "{}*") {
			seg = escapeRaw(seg)
			if t.glob {
				after = append(after, seg)
			} else {
				t.before = append(t.before, templateSegment{literal: seg})
			}
			continue
		}
		name, open := strings.CutPrefix(seg, "{")
		name, closed := strings.CutSuffix(name, "}")
		switch {
		case !open || !closed || !(name == "*" || name == "**" || validVariable(name)):
			return template{}, fmt.Errorf("segment %q: an operator must be a whole segment, one of {*}, {**} or {name}", seg)
		case t.glob:
			return template{}, fmt.Errorf("segment %q: {**} must be the last operator", seg)
		case name == "**":
			t.glob = true
		case names[name]:
			return template{}, fmt.Errorf("segment %q: variable %s is repeated", seg, name)
		default:
			names[name] = true
			t.before = append(t.before, templateSegment{one: true})
		}
	}
	if t.glob && len(after) > 0 {
		t.tail = "/" + strings.Join(after, "/")
	}
	// Escaped, operators pass NormalizePath unchanged, so checking the
	// whole template checks its literal segments.
	e := escapeRaw(s)
	n, err := NormalizePath(e, PathOptions{})
	if err != nil {
		return template{}, err
	}
	if n != e {
		// Shown with its operators as they were written.
		n = strings.NewReplacer("%7B", "{", "%7D", "}").Replace(n)
		return template{}, fmt.Errorf("not in normal form, so no request could match it; normalised it is %q", n)
	}
	return t, nil
}

// validVariable reports whether name is a template variable name, as Envoy
// spells them: a letter, then letters, digits and underscores.
func validVariable(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return false
		}
	}
	return name != ""
}
