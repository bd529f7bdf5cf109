package routes

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Match finds the rule for a request: the virtual host for its authority (see
// host for the order and what an invalid authority gets), then that host's
// rules in order, the first that matches winning. path is the normalised path
// without its query. It returns (nil, nil) when no virtual host takes the
// authority and (nil, host) when one does but none of its rules match; the
// gateway answers both 404 with flag NR. It does not allocate unless a header
// matcher reads a header sent more than once.
func (t *Table) Match(authority, path, method string, h http.Header) (*Rule, *Host) {
	host := t.host(authority)
	if host == nil {
		return nil, nil
	}
	for _, r := range host.Rules {
		if r.match.matches(path, method, h) {
			return r, host
		}
	}
	return nil, host
}

// Allowed returns the methods the rules of host would take for a request
// that Match found no rule for: the methods of every rule whose path and
// headers match it, each once, in the order the rules give them. A request
// that a rule turns away only by its method is answered 405 with these in
// Allow, rather than 404. It runs on the miss path only.
func (host *Host) Allowed(path string, h http.Header) []string {
	var allowed []string
	for _, r := range host.Rules {
		m := r.match
		if len(m.methods) == 0 {
			continue // it would have matched; Match found none
		}
		rest := m
		rest.methods = nil
		if !rest.matches(path, "", h) {
			continue
		}
		for _, method := range m.methods {
			if !slices.Contains(allowed, method) {
				allowed = append(allowed, method)
			}
		}
	}
	return allowed
}

// Paths returns the path normalisation options the table's rules were
// written for; the gateway normalises each request's path with them before
// Match.
func (t *Table) Paths() PathOptions { return t.paths }

// pathKind is which path matcher a rule has.
type pathKind uint8

const (
	pathAny pathKind = iota
	pathExact
	pathPrefix
	pathTemplate
)

// ruleMatch is a compiled Match: all of its set parts must match.
type ruleMatch struct {
	kind pathKind
	// path is the exact path or the prefix.
	path     string
	template template
	methods  []string
	headers  []headerMatcher
}

func (m *ruleMatch) matches(path, method string, h http.Header) bool {
	switch m.kind {
	case pathExact:
		if path != m.path {
			return false
		}
	case pathPrefix:
		if !strings.HasPrefix(path, m.path) {
			return false
		}
	case pathTemplate:
		if !m.template.match(path) {
			return false
		}
	}
	if len(m.methods) > 0 && !slices.Contains(m.methods, method) {
		return false
	}
	for i := range m.headers {
		if !m.headers[i].matches(h) {
			return false
		}
	}
	return true
}

// compileMatch checks a route's match block and compiles it. Errors are
// *fieldError naming the field inside the block.
func compileMatch(m Match) (ruleMatch, error) {
	var rm ruleMatch
	set := 0
	for _, p := range []struct {
		field, value string
		kind         pathKind
	}{
		{"path", m.Path, pathExact},
		{"path_prefix", m.PathPrefix, pathPrefix},
		{"path_template", m.PathTemplate, pathTemplate},
	} {
		if p.value == "" {
			continue
		}
		if set++; set > 1 {
			return ruleMatch{}, &fieldError{p.field, "only one of path, path_prefix and path_template may be set"}
		}
		if err := rm.setPath(p.kind, p.value); err != nil {
			return ruleMatch{}, &fieldError{p.field, err.Error()}
		}
	}
	for i, method := range m.Methods {
		if !validToken(method) {
			return ruleMatch{}, &fieldError{fmt.Sprintf("methods[%d]", i), fmt.Sprintf("%q is not a method name", method)}
		}
	}
	rm.methods = slices.Clone(m.Methods)
	for i, hm := range m.Headers {
		c, err := compileHeader(hm)
		if err != nil {
			err.field = fmt.Sprintf("headers[%d]", i) + err.field
			return ruleMatch{}, err
		}
		rm.headers = append(rm.headers, c)
	}
	return rm, nil
}

// setPath checks and sets the path matcher. An exact path must be in the
// form NormalizePath gives, and a prefix must not hold anything
// NormalizePath would change, or no request could ever match. Bytes that a
// path may hold only escaped are escaped first (see escapeRaw), since
// requests are matched in that form; a template escapes its literal
// segments alone.
func (m *ruleMatch) setPath(kind pathKind, value string) error {
	if kind != pathTemplate {
		value = escapeRaw(value)
	}
	m.kind, m.path = kind, value
	switch kind {
	case pathExact:
		n, err := NormalizePath(value, PathOptions{})
		if err != nil {
			return err
		}
		if n != value {
			return fmt.Errorf("%q is not in normal form, so no request could match it; normalised it is %q", value, n)
		}
	case pathPrefix:
		return checkPrefix(value)
	case pathTemplate:
		t, err := compileTemplate(value)
		m.template = t
		return err
	}
	return nil
}

// checkPrefix reports why no normalised path could start with prefix, if
// none could. It allows what only looks wrong because the prefix stops
// early: a last segment of "." or "..", which /.well-known starts with, and
// an escape cut short.
func checkPrefix(prefix string) error {
	if !strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%q does not start with /", prefix)
	}
	never := func(why string) error {
		return fmt.Errorf("%q can never start a normalised path: %s", prefix, why)
	}
	segStart := 1
	for i := 1; i < len(prefix); i++ {
		switch c := prefix[i]; {
		case c == '/':
			if seg := prefix[segStart:i]; seg == "." || seg == ".." {
				return never("dot segments are removed")
			}
			segStart = i + 1
		case c == '\\':
			return never("a backslash becomes /")
		case c == '%':
			esc := prefix[i+1 : min(i+3, len(prefix))]
			if strings.Trim(esc, "0123456789ABCDEF") != "" {
				return never("escapes have two upper-case hex digits")
			}
			if len(esc) == 2 {
				if v := unhex(esc[0])<<4 | unhex(esc[1]); v == 0 || isUnreserved(v) {
					return never("%" + esc + " is decoded or refused")
				}
			}
			i += len(esc)
		default:
			if err := checkRaw(c); err != nil {
				return err
			}
		}
	}
	return nil
}
