package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// setPath makes the escaped path, which NormalizePath gave, u's request
// target byte for byte, over HTTP/1 and HTTP/2 alike: the path the route
// matched is the path the upstream reads.
//
// Both transports write url.URL.Opaque as it is (HTTP/1 in the request line,
// HTTP/2 as :path), where Path and RawPath would go through
// url.URL.EscapedPath, which re-escapes the decoded path whenever it judges
// RawPath not a valid encoding (turning %2F into a slash) and escapes some
// sub-delimiters that came raw. An Opaque that starts with "//" is written
// as a scheme-relative URL ("http://..."), so such a path goes in RawPath
// alone: a normalised path is always a valid encoding, which EscapedPath
// returns unchanged. Path holds the decoded path for readers of the URL. An
// empty query is no query, as splitTarget and the access log read it, so a
// bare "?" is not forwarded.
func setPath(u *url.URL, escaped string) {
	p, err := url.PathUnescape(escaped)
	if err != nil { // NormalizePath accepted only valid escapes
		p = escaped
	}
	u.Path, u.RawPath, u.Opaque, u.ForceQuery = p, escaped, "", false
	if !strings.HasPrefix(escaped, "//") {
		u.Opaque = escaped
	}
}

// toOriginForm turns an HTTP/1 request in absolute form (GET http://host/p?q)
// into the origin form it stands for (GET /p?q with Host: host), as RFC 9112
// section 3.2.2 has a server read it, so that everything after reads both
// forms one way: the same path checks (a '#' is refused, not escaped), an
// empty path is "/", and the target's authority replaces the Host header and
// is checked as a Host header is. It reports false for an absolute form the
// gateway refuses: a scheme other than http or https, userinfo (RFC 9110
// section 4.2.4), or an authority that is empty or no valid Host value.
// Other targets, and HTTP/2 and HTTP/3 requests, whose :path is never in
// absolute form, are left for splitTarget to judge.
func (ex *exchange) toOriginForm(r *http.Request) bool {
	target := r.RequestURI
	if r.ProtoMajor != 1 || strings.HasPrefix(target, "/") {
		return true
	}
	rest, ok := cutHTTPScheme(target)
	if !ok {
		return true
	}
	authority, path := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
		if path[0] != '/' {
			path = "/" + path
		}
	}
	if authority == "" || strings.IndexByte(authority, '@') >= 0 || !httpguts.ValidHostHeader(authority) {
		return false
	}
	r.Host, r.RequestURI = authority, path
	r.URL.Scheme, r.URL.Host, r.URL.User = "", "", nil
	ex.rec.Authority, ex.rec.Path = authority, path
	return true
}

// cutHTTPScheme returns what follows "http://" or "https://" at the start of
// target, in any case.
func cutHTTPScheme(target string) (string, bool) {
	for _, s := range []string{"http://", "https://"} {
		if len(target) >= len(s) && strings.EqualFold(target[:len(s)], s) {
			return target[len(s):], true
		}
	}
	return "", false
}
