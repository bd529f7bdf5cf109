package gateway

import (
	"net"
	"net/http"
	"strconv"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// connect answers a CONNECT request, whatever its protocol: HTTP/1.1,
// HTTP/2 and HTTP/3 CONNECT, and the extended CONNECT of RFC 8441 and
// RFC 9220 (:protocol, WebSocket over HTTP/2 or HTTP/3, which the gateway
// does not carry). A tunnel to an authority of the client's choosing is
// the business of an egress listener, a forward proxy with its own rules,
// address guard and log; every listener today is an ingress listener, so
// CONNECT gets 405 (400 when malformed) and is never routed nor sent
// upstream. An egress listener will serve CONNECT here, before routing.
func (g *Gateway) connect(w *responseWriter, r *http.Request, ex *exchange) {
	if r.ProtoMajor == 1 {
		// Whatever the client sent after its CONNECT, hoping for a
		// tunnel, is not HTTP to be read as the next request.
		w.Header()["Connection"] = []string{"close"}
	}
	if !authorityForm(r) {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "invalid_connect_target")
		return
	}
	g.local(w, ex, http.StatusMethodNotAllowed, "", 0, "connect_not_allowed")
}

// authorityForm reports whether a CONNECT request names its target as
// RFC 9110 asks: host:port, nothing else. An extended CONNECT names a path
// instead, which its server has checked.
func authorityForm(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return true // the HTTP/2 and HTTP/3 servers check :authority
	}
	host, port, err := net.SplitHostPort(r.RequestURI)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}
