package routes

import (
	"net/url"
	"strconv"
	"strings"
)

// Rewrite returns the path to forward upstream for a request whose
// normalised path is path. With PrefixRewrite set and a path_prefix
// matcher, the matched prefix is replaced, as Envoy's prefix_rewrite does,
// with one difference: when the rewrite ends in "/" and the rest of the path
// starts with one, a slash is dropped, so prefix /api rewritten to / turns
// /api/x into /x, not //x. With a path matcher the whole path is replaced.
// Otherwise the path is returned as it is. The result is normalised again,
// so a rewrite cannot hand the upstream a dot segment it would resolve
// differently from the path that matched. ok is false when the result
// would not start with the rewrite: a prefix that ends inside a segment
// (/api matching /api..) lets the rest of that segment become a dot
// segment after the rewrite (/public/..), which would climb out of where
// the route sends requests; such a request is not forwarded.
func (r *Rule) Rewrite(path string) (rewritten string, ok bool) {
	if r.PrefixRewrite == "" {
		return path, true
	}
	return r.match.rewrite(path, r.PrefixRewrite)
}

func (m *ruleMatch) rewrite(path, to string) (string, bool) {
	switch {
	case m.kind == pathExact:
		path = to
	case m.kind == pathPrefix && strings.HasPrefix(path, m.path):
		rest := path[len(m.path):]
		if strings.HasSuffix(to, "/") && strings.HasPrefix(rest, "/") {
			rest = rest[1:]
		}
		path = to + rest
	default:
		return path, true
	}
	if n, err := NormalizePath(path, PathOptions{}); err == nil {
		path = n
	}
	// to is compared in normal form too (it may hold bytes such as '{'
	// that normalising escapes); it is normal already, and so costs no
	// allocation, in the common case.
	if n, err := NormalizePath(to, PathOptions{}); err == nil {
		to = n
	}
	return path, strings.HasPrefix(path, to)
}

// RedirectLocation returns the Location of the redirect the rule answers
// with, from the request's scheme, host (its authority, port included),
// normalised escaped path and raw query. Each part Redirect sets replaces
// the request's: Path the whole path, PrefixRewrite the matched prefix as
// Rewrite does, StripQuery drops the query. The request's port is kept only
// while it can still mean the same listener: a Redirect.Host replaces the
// whole authority, as Envoy's host_redirect, and a change of scheme (http to
// https) drops the port, so redirect_https leads to the default https port
// unless Port is set. Port, when set, is always written.
func (r *Rule) RedirectLocation(scheme, host, path, rawQuery string) string {
	rd := r.Redirect
	if rd == nil {
		rd = &Redirect{}
	}
	name, port := splitRequestHost(host)
	to := scheme
	if rd.Scheme != "" {
		to = strings.ToLower(rd.Scheme)
	}
	switch {
	case rd.Host != "":
		name, port = rd.Host, ""
	case !strings.EqualFold(to, scheme):
		port = ""
	}
	if rd.Port != 0 {
		port = strconv.Itoa(rd.Port)
	}
	if strings.Contains(name, ":") && !strings.HasPrefix(name, "[") {
		name = "[" + name + "]" // an IPv6 Redirect.Host
	}
	if port != "" {
		name += ":" + port
	}
	switch {
	case rd.Path != "":
		path = rd.Path
	case rd.PrefixRewrite != "":
		// A redirect that climbs out of the rewrite only sends the
		// client to a path that is routed afresh.
		path, _ = r.match.rewrite(path, rd.PrefixRewrite)
	}
	if rd.StripQuery {
		rawQuery = ""
	}
	u := url.URL{Scheme: to, Host: name, RawQuery: rawQuery}
	setEscapedPath(&u, path)
	return u.String()
}

// splitRequestHost splits an authority into its host, IPv6 brackets kept,
// and its port, "" when it has none.
func splitRequestHost(a string) (name, port string) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 || strings.LastIndexByte(a, ']') > i {
		return a, ""
	}
	return a[:i], a[i+1:]
}

// setEscapedPath sets u's path from an escaped one so that u.String writes
// it with its escapes as they are (a %2F stays %2F) and with every byte a
// Location may not hold raw escaped.
func setEscapedPath(u *url.URL, p string) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) || isPathChar(c) {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.Write([]byte{'%', hex[c>>4], hex[c&15]})
	}
	raw := b.String()
	if dec, err := url.PathUnescape(raw); err == nil {
		u.Path, u.RawPath = dec, raw
	}
}

// isPathChar reports whether c may appear raw in a URL path (RFC 3986
// pchar or '/').
func isPathChar(c byte) bool {
	return isUnreserved(c) || c == '/' || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}
