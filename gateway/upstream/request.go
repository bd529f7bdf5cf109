package upstream

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// BodyReporter is a request body that remembers whether reading it failed:
// the request's Body, or Attempt.Body. The pool asks it after a failed try:
// a body that broke is the client's failure, not the endpoint's, and is
// neither retried nor counted by outlier detection. The gateway's request
// bodies are BodyReporters.
type BodyReporter interface {
	ReadFailed() bool
}

// requestFault says why a try that failed without an answer failed because
// of the request itself rather than the endpoint: its body could not be
// read ("request_body"), or it breaks a rule the transport enforces before
// it writes a byte ("invalid_..."); h2 adds the rules of the HTTP/2
// transport. It returns "" when the request is not at fault. It runs only
// on failure, so that a good request pays nothing.
func requestFault(req *http.Request, a *Attempt, h2 bool) string {
	if b, ok := req.Body.(BodyReporter); ok && b.ReadFailed() || a.Body != nil && a.Body.ReadFailed() {
		return "request_body"
	}
	if m := req.Method; m != "" && !httpguts.ValidHeaderFieldName(m) {
		return "invalid_method"
	}
	if !validFields(req.Header) {
		return "invalid_header"
	}
	if !validFields(req.Trailer) {
		return "invalid_trailer"
	}
	if req.URL == nil || hasCTL(req.URL.RequestURI()) {
		return "invalid_target"
	}
	if h2 {
		return h2Fault(req)
	}
	return ""
}

// h2Fault applies the rules the HTTP/2 transport adds: a valid :authority
// (HTTP/1's writes a cleaned Host instead), a :path that starts with '/'
// (or is "*"), no connection-specific fields, and no trailer that frames
// the message.
func h2Fault(req *http.Request) string {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return "invalid_host"
	}
	if p := req.URL.RequestURI(); p != "*" && !strings.HasPrefix(p, "/") {
		return "invalid_target"
	}
	h := req.Header
	if vv := h["Upgrade"]; len(vv) > 0 && vv[0] != "" && vv[0] != "chunked" {
		return "invalid_upgrade"
	}
	if vv := h["Transfer-Encoding"]; len(vv) > 1 || len(vv) == 1 && vv[0] != "" && vv[0] != "chunked" {
		return "invalid_header"
	}
	if vv := h["Connection"]; len(vv) > 1 || len(vv) == 1 && vv[0] != "" &&
		!strings.EqualFold(vv[0], "close") && !strings.EqualFold(vv[0], "keep-alive") {
		return "invalid_header"
	}
	for k := range req.Trailer {
		switch http.CanonicalHeaderKey(k) {
		case "Transfer-Encoding", "Trailer", "Content-Length":
			return "invalid_trailer"
		}
	}
	return ""
}

// validFields reports whether every name and value in h is one the
// transports send.
func validFields(h http.Header) bool {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// hasCTL reports whether s holds a control byte, which the transports
// refuse to write in a request target.
func hasCTL(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0
}

// requestError makes the Error of a request that failed by its own fault,
// before any endpoint had a say: a body that broke is the client's (400),
// anything else is a request the caller built wrongly (500). It carries no
// upstream flag and no transport failure reason: no endpoint failed.
func requestError(a *Attempt, fault string, err error) *Error {
	e := &Error{Status: http.StatusInternalServerError, Err: err,
		Details: "upstream_request_invalid{" + fault + "}", Body: "invalid upstream request"}
	if fault == "request_body" {
		e.Status, e.Details, e.Body = http.StatusBadRequest, "request_body_invalid", "invalid request body"
	}
	return fill(a, e)
}
