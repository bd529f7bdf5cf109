package jwt

import (
	"net/url"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
)

// maxTokens bounds the tokens one request may carry; past it the request
// is refused rather than each token checked.
const maxTokens = 8

// issuers are the issuers whose rules name one token location, as Envoy's
// JwtIssuerChecker keeps them: a token found there must come from one of
// them. A rule without an issuer (jwksUri alone) allows any.
type issuers struct {
	any   bool
	names []string
}

func (is *issuers) add(iss string) {
	if iss == "" {
		is.any = true
		return
	}
	for _, n := range is.names {
		if n == iss {
			return
		}
	}
	is.names = append(is.names, iss)
}

func (is *issuers) allow(iss string) bool {
	if is.any {
		return true
	}
	for _, n := range is.names {
		if n == iss {
			return true
		}
	}
	return false
}

// Where a token was found.
const (
	inHeader = iota
	inParam
	inCookie
)

// location is one place tokens are looked for.
type location struct {
	kind   int
	name   string // header (lower case), query parameter or cookie
	prefix string // for a header: what comes before the token
	iss    issuers
	// rules are the rules that look here, in the order they apply.
	rules []*provider
}

// rule returns the rule that checks a token of iss found here: the first
// of that issuer, else the first without an issuer, as Envoy picks the
// provider by the token's iss among those that name the location.
func (l *location) rule(iss string) *provider {
	for _, p := range l.rules {
		if p.issuer == iss {
			return p
		}
	}
	for _, p := range l.rules {
		if p.issuer == "" {
			return p
		}
	}
	return nil
}

// found is a token taken from a request.
type found struct {
	raw string
	loc *location
}

// locations are a workload's token locations, each once, in Envoy's order:
// headers, then query parameters, then cookies.
type locations []*location

// add records that rule p looks for tokens at loc.
func (ls *locations) add(p *provider, loc location) {
	for _, l := range *ls {
		if l.kind == loc.kind && l.name == loc.name && l.prefix == loc.prefix {
			l.iss.add(p.issuer)
			l.rules = append(l.rules, p)
			return
		}
	}
	loc.iss.add(p.issuer)
	loc.rules = []*provider{p}
	*ls = append(*ls, &loc)
}

// extract appends the tokens req carries at ls to out, and reports false
// when there are more than maxTokens.
func (ls locations) extract(req *plugins.Request, out []found) ([]found, bool) {
	h := req.Header()
	query := req.Query()
	for _, l := range ls {
		switch l.kind {
		case inHeader:
			for _, v := range h.Values(l.name) {
				if t, ok := fromHeader(v, l.prefix); ok {
					out = append(out, found{t, l})
				}
			}
		case inParam:
			if t, ok := queryParam(query, l.name); ok {
				out = append(out, found{t, l})
			}
		case inCookie:
			if t, ok := cookie(h.Values("Cookie"), l.name); ok {
				out = append(out, found{t, l})
			}
		}
		if len(out) > maxTokens {
			return out, false
		}
	}
	return out, true
}

// fromHeader takes the token from a header value as Envoy does: after the
// prefix, from the first base64url character (or dot) on. Envoy finds the
// prefix anywhere in the value, with its case; here its case does not
// matter either, so that `bearer <token>` is checked rather than passed to
// the upstream unchecked.
func fromHeader(v, prefix string) (string, bool) {
	if prefix == "" {
		return v, v != ""
	}
	i := indexFold(v, prefix)
	if i < 0 {
		return "", false
	}
	rest := v[i+len(prefix):]
	for j := 0; j < len(rest); j++ {
		if base64URLOrDot(rest[j]) {
			return rest[j:], true
		}
	}
	return v, true // Envoy's fallback: the value as it is, which fails to parse
}

func base64URLOrDot(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

// indexFold is strings.Index without regard to ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// queryParam returns the first value of the named parameter in a raw
// query, decoded.
func queryParam(query, name string) (string, bool) {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		_, v, _ := strings.Cut(kv, "=")
		if paramKey(kv) != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			dv, err := url.QueryUnescape(v)
			if err != nil {
				return v, true // checked as sent, and so refused
			}
			v = dv
		}
		return v, true
	}
	return "", false
}

// cookie returns the value of the first cookie of the given name in the
// Cookie header values, without the quotes that may wrap it.
func cookie(values []string, name string) (string, bool) {
	for _, line := range values {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// remove takes the token found at f out of the request forwarded upstream:
// the whole header, the cookie from the Cookie header, or every pair of the
// query parameter from the query, the rest of which is kept byte for byte.
func (f *found) remove(req *plugins.Request) error {
	switch f.loc.kind {
	case inHeader:
		req.Header().Del(f.loc.name)
	case inCookie:
		removeCookie(req.Header(), f.loc.name)
	case inParam:
		if q := req.Query(); q != "" {
			if kept := removeParam(q, f.loc.name); kept != q {
				return req.SetQuery(kept)
			}
		}
	}
	return nil
}

// removeParam returns query without the pairs whose key is name, as sent
// or decoded (the keys queryParam reads a token from), keeping every other
// byte as it is.
func removeParam(query, name string) string {
	var b strings.Builder
	first := true
	for rest, more := query, true; more; {
		var kv string
		kv, rest, more = strings.Cut(rest, "&")
		if paramKey(kv) == name {
			continue
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(kv)
	}
	return b.String()
}

// paramKey is a pair's key, decoded when it holds an escape.
func paramKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	if strings.Contains(k, "%") {
		if dk, err := url.QueryUnescape(k); err == nil {
			return dk
		}
	}
	return k
}

// removeCookie rewrites the Cookie header without the named cookie.
func removeCookie(h plugins.Header, name string) {
	values := h.Values("Cookie")
	if values == nil {
		return
	}
	var kept []string
	for _, line := range values {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if k, _, pair := strings.Cut(part, "="); part != "" && !(pair && k == name) {
				kept = append(kept, part)
			}
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h.Set("Cookie", strings.Join(kept, "; "))
}
