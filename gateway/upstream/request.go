package upstream

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// BodyReporter is a request body that remembers whether reading it failed:
// the request's Body, or Attempt.Body. The pool asks it after a failed try: a body that broke is the client's
// failure, not the endpoint's, and is neither retried nor counted by
// outlier detection. The gateway's request bodies are BodyReporters.
type BodyReporter interface {
	ReadFailed() bool
}

// requestFault says why a try that failed without an answer failed because
// of the request itself rather than the endpoint: its body could not be
// read ("request_body"), or it breaks a rule the transport enforces before
// it writes a byte ("invalid_..."). It returns "" when the request is not
// at fault. It runs only on failure, so that a good request pays nothing.
func requestFault(req *http.Request, a *Attempt) string {
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
	for k := range req.Trailer {
		if !httpguts.ValidTrailerHeader(k) {
			return "invalid_trailer"
		}
	}
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return "invalid_host"
	}
	if req.URL == nil || hasCTL(req.URL.RequestURI()) {
		return "invalid_target"
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
// upstream flag: no endpoint failed.
func requestError(a *Attempt, fault string, err error) *Error {
	e := &Error{Status: http.StatusInternalServerError, Err: err,
		Details: "upstream_request_invalid{" + fault + "}", Body: "invalid upstream request"}
	if fault == "request_body" {
		e.Status, e.Details, e.Body = http.StatusBadRequest, "request_body_invalid", "invalid request body"
	}
	a.TransportFailure = err.Error()
	return fill(a, e)
}
