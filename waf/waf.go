// Package waf is the gateway's web application firewall: Coraza with the
// OWASP Core Rule Set v4 embedded in the binary, as the waf plugin.
//
// Profiles are written once, in the routes file's top-level `waf:` section
// (paranoia level, anomaly thresholds, mode, limits, exclusions, extra
// SecLang), and named by virtual hosts and routes with `{ waf: <profile> }`.
// Each load of the routes file builds one Coraza engine per distinct profile,
// off the request path, and every route naming the profile shares it; the
// engines of a configuration that a reload retired are released after its
// last request.
//
// A request is inspected as the route matched it (the normalised path), in
// Coraza's phases: the request line and query, the header, and the body
// (forms, multipart, JSON, XML), which the plugin reads up to the profile's
// limit and hands on to the upstream unchanged. Before any rule runs, the
// plugin counts what the rules would read and refuses a request past the
// profile's limits with 413: the cost of inspecting grows with those bytes,
// and the limits bound it. Responses are inspected when the profile says so,
// reading only the bodies of the media types it names.
//
// A block is answered with the rule's status (403 by default) and a small
// JSON or HTML body carrying the request id; the access log's response code
// details name the rules and the anomaly score. The audit log, Coraza's JSON,
// records blocked transactions, and metrics count outcomes per profile and
// rule.
package waf

import (
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Handler is one route's WAF: the engine of the profile it names, shared
// with every other route naming it. It is safe for concurrent use.
type Handler struct {
	profile string
	p       *Profile
	engine  *engine
	metrics *metrics
	// pending holds the transactions of requests whose responses are yet
	// to be inspected, when the profile inspects responses.
	pending sync.Map // *plugins.Request → *pendingTx
	closed  sync.Once
	now     func() time.Time
}

var (
	_ plugins.Handler         = (*Handler)(nil)
	_ plugins.ResponseHandler = (*WithResponse)(nil)
)

// WithResponse is a Handler whose profile inspects responses too. Only it
// has HandleResponse, so the gateway runs a response phase for the routes
// that need one and no other.
type WithResponse struct{ *Handler }

func newHandler(name string, p *Profile, e *engine, m *metrics) plugins.Handler {
	h := &Handler{profile: name, p: p, engine: e, metrics: m, now: time.Now}
	if p.Response.Inspect {
		return &WithResponse{h}
	}
	return h
}

// Close releases the handler's hold on its engine, which goes once no
// handler holds it.
func (h *Handler) Close() error {
	h.closed.Do(h.engine.release)
	return nil
}
