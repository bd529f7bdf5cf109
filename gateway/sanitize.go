package gateway

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
)

// dropNominated removes every header the client named in Connection, as
// RFC 9110 section 7.6.1 asks of a proxy, and leaves in Connection only the
// "upgrade" token, which the reverse proxy reads to forward an upgrade (the
// server read "close" and "keep-alive" when it parsed the request). It runs
// on the request as the client sent it, before the gateway and the plugins
// add their headers: the reverse proxy removes the headers Connection names
// once more, after the plugins ran, and must then find none of theirs, or a
// client could name x-request-id, X-Forwarded-For or a plugin's header and
// have it removed on the way out. Upgrade and TE stay for the proxy, which
// reads them and drops them itself.
func dropNominated(h http.Header) {
	conn := h["Connection"]
	if conn == nil {
		return
	}
	upgrade := false
	for _, line := range conn {
		for tok := range strings.SplitSeq(line, ",") {
			tok = textproto.TrimString(tok)
			switch {
			case strings.EqualFold(tok, "upgrade"):
				upgrade = true
			case tok == "", strings.EqualFold(tok, "te"):
			default:
				delete(h, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
	if upgrade {
		h["Connection"] = connectionUpgrade
	} else {
		delete(h, "Connection")
	}
}

// connectionUpgrade is shared by every request; its capacity is its length,
// so an append copies it.
var connectionUpgrade = []string{"Upgrade"}[:1:1]

// dropUntrusted removes the headers that only a trusted proxy may set: the
// x-envoy-* family, which Envoy strips from external requests and of which
// %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% reads one into the access log; the
// whole X-Forwarded-* family, of which the gateway writes For (with the
// client's own chain, taken before, in front), Proto and Host afterwards
// (forwarded.go) and the rest (Port, Prefix, Ssl, Server,
// Client-Cert, which names a caller's certificate) steer a backend's
// redirects, links or trust; X-Real-IP and Forwarded, which name a client
// address or scheme that the gateway did not see; and X-Original-URL and
// X-Rewrite-URL, which some frameworks take as the path to serve in place
// of the one the gateway routed. A spelling with '_' for '-' goes too,
// since many servers read it as the same name (plugins.SameHeaderName).
func dropUntrusted(h http.Header) {
	for k := range h {
		if untrustedOnly(k) {
			delete(h, k)
		}
	}
}

func untrustedOnly(k string) bool {
	for _, p := range untrustedPrefixes {
		if len(k) > len(p) && plugins.SameHeaderName(k[:len(p)], p) {
			return true
		}
	}
	for _, n := range untrustedNames {
		if plugins.SameHeaderName(k, n) {
			return true
		}
	}
	return false
}

var (
	untrustedPrefixes = []string{"X-Envoy-", "X-Forwarded-"}
	untrustedNames    = []string{"X-Real-Ip", "Forwarded", "X-Original-Url", "X-Rewrite-Url"}
)

// dropOwnedSpellings removes the spellings with '_' of the headers the
// gateway writes itself, so that where a listener lets such names through,
// a backend that reads '_' as '-' never sees a second X-Forwarded-For,
// X-Request-Id or the like beside the gateway's own.
func dropOwnedSpellings(h http.Header) {
	for k := range h {
		if strings.IndexByte(k, '_') < 0 {
			continue
		}
		for _, n := range ownedNames {
			if plugins.SameHeaderName(k, n) {
				delete(h, k)
				break
			}
		}
	}
}

var ownedNames = []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id", "X-Envoy-Original-Path",
	"X-Envoy-External-Address"}
