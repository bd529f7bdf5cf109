package routes

import (
	"errors"
	"net/http"
	"regexp"
	"regexp/syntax"
	"strings"
)

// headerKind is how a headerMatcher compares a header's value.
type headerKind uint8

const (
	headerExact headerKind = iota
	headerPrefix
	headerRegex
	headerPresent
)

// headerMatcher is a compiled HeaderMatch.
type headerMatcher struct {
	// name is canonical, so that matching indexes http.Header directly.
	name   string
	kind   headerKind
	value  string
	re     *regexp.Regexp
	invert bool
}

// matches reports whether h matches. The values of a header sent more than
// once are joined with "," before comparing, as Envoy does. A header that is
// absent matches only an inverted matcher (present with invert means absent),
// unlike Envoy, whose invert_match does not apply to present_match.
func (m *headerMatcher) matches(h http.Header) bool {
	vs := h[m.name]
	var ok bool
	switch {
	case m.kind == headerPresent:
		ok = len(vs) > 0
	case len(vs) == 0:
		ok = false
	default:
		v := vs[0]
		if len(vs) > 1 {
			v = strings.Join(vs, ",")
		}
		switch m.kind {
		case headerExact:
			ok = v == m.value
		case headerPrefix:
			ok = strings.HasPrefix(v, m.value)
		case headerRegex:
			ok = m.re.MatchString(v)
		}
	}
	return ok != m.invert
}

// compileHeader checks and compiles one HeaderMatch. The error's field is
// relative to the HeaderMatch: "" for the object, ".name", ".regex".
func compileHeader(hm HeaderMatch) (headerMatcher, *fieldError) {
	m := headerMatcher{name: http.CanonicalHeaderKey(hm.Name), invert: hm.Invert}
	switch {
	case !validToken(hm.Name):
		return m, &fieldError{".name", "must be a header name"}
	case m.name == "Host":
		// Go keeps the authority out of the header map; hosts match it.
		return m, &fieldError{".name", "match the host with the virtual host's hosts, not a header"}
	}
	n := 0
	for _, kind := range []struct {
		set  bool
		kind headerKind
		val  string
	}{
		{hm.Exact != "", headerExact, hm.Exact},
		{hm.Prefix != "", headerPrefix, hm.Prefix},
		{hm.Regex != "", headerRegex, hm.Regex},
		{hm.Present, headerPresent, ""},
	} {
		if kind.set {
			n++
			m.kind, m.value = kind.kind, kind.val
		}
	}
	if n != 1 {
		return m, &fieldError{"", "exactly one of exact, prefix, regex and present must be set"}
	}
	if m.kind == headerRegex {
		// RE2 syntax, matched against the whole value, as Envoy's safe_regex.
		// Compiled alone first: a valid expression has balanced parentheses,
		// so wrapping it cannot change what it means.
		if _, err := regexp.Compile(hm.Regex); err != nil {
			return m, &fieldError{".regex", regexError(err)}
		}
		m.re = regexp.MustCompile(`^(?:` + hm.Regex + `)$`)
	}
	return m, nil
}

// regexError says what is wrong with a regular expression without quoting
// it: a header match may hold a secret (an API key to match), and errors
// reach the log and the admin page's reload status.
func regexError(err error) string {
	var rerr *syntax.Error
	if errors.As(err, &rerr) {
		return "does not compile: " + rerr.Code.String()
	}
	return "does not compile"
}

// validToken reports whether s is an RFC 9110 token, as method and header
// names are.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return s != ""
}
