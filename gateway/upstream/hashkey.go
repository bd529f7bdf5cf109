package upstream

import (
	"net"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/portcullis-gw/portcullis/routes"
)

// hashPolicy is ring_hash's key, read from the request.
type hashPolicy struct {
	header string // canonical header name
	cookie string
	// Neither set: the client's address.
}

func newHashPolicy(h *routes.HashPolicy) hashPolicy {
	if h == nil || h.Header == "" {
		return hashPolicy{cookie: cookieName(h)}
	}
	return hashPolicy{header: textproto.CanonicalMIMEHeaderKey(h.Header)}
}

func cookieName(h *routes.HashPolicy) string {
	if h == nil {
		return ""
	}
	return h.Cookie
}

// key returns the request's hash key, or false when the request has none:
// it is then balanced round robin, as Envoy picks at random.
func (h *hashPolicy) key(req *http.Request, a *Attempt) (string, bool) {
	switch {
	case h.header != "":
		if vs := req.Header[h.header]; len(vs) > 0 && vs[0] != "" {
			return vs[0], true
		}
	case h.cookie != "":
		return cookieValue(req.Header["Cookie"], h.cookie)
	case a.HashKey != nil:
		k := a.HashKey()
		return k, k != ""
	default:
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		return host, err == nil && host != ""
	}
	return "", false
}

// cookieValue finds a cookie in Cookie header lines without allocating, as
// req.Cookie would for every cookie in them.
func cookieValue(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if v = strings.Trim(v, `"`); ok && k == name && v != "" {
				return v, true
			}
		}
	}
	return "", false
}
