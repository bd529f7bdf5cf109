package authz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
)

// The response code details and flag of a request that an external
// authorizer denied or could not decide, as Envoy's ext_authz filter
// writes them.
const (
	DetailsExtAuthzDenied = "ext_authz_denied"
	DetailsExtAuthzError  = "ext_authz_error"
	FlagExtAuthz          = "UAEX"
)

// NoteExtAuthz is the dynamic metadata namespace of the external
// authorizer's checks: failure_mode_allowed is "true" when a check failed
// and the provider's fail_open let the request through, and error says
// how the check failed.
const NoteExtAuthz = "envoy.filters.http.ext_authz"

// maxDeniedBody bounds the authorizer's body a denied client gets.
const maxDeniedBody = 64 << 10

// extAuthz is one provider: the checks CUSTOM policies that name it send,
// over HTTP as Envoy's ext_authz filter sends them.
type extAuthz struct {
	cfg                               plugins.ExtAuthz
	include, toUpstream, toDownstream []headerPattern
	// timeoutMS is x-envoy-expected-rq-timeout-ms of every check.
	timeoutMS []string
	counts    extCounters
	// errorReject answers a failed check when the provider fails closed.
	errorReject *plugins.Reject
	tooLarge    *plugins.Reject
}

// extCounters count a provider's checks by outcome, as Envoy's
// ext_authz stats do: ok, denied, error, failure_mode_allowed.
type extCounters struct {
	ok, denied, error, failureModeAllowed prometheus.Counter
}

func newExtAuthz(cfg plugins.ExtAuthz, m *metrics) *extAuthz {
	x := &extAuthz{
		cfg:          cfg,
		include:      patterns(cfg.IncludeRequestHeaders),
		toUpstream:   patterns(cfg.HeadersToUpstreamOnAllow),
		toDownstream: patterns(cfg.HeadersToDownstreamOnDeny),
		timeoutMS:    []string{strconv.FormatInt(cfg.Timeout.Milliseconds(), 10)},
		errorReject:  &plugins.Reject{Status: cfg.StatusOnError, Flag: FlagExtAuthz, Details: DetailsExtAuthzError},
		tooLarge:     &plugins.Reject{Status: http.StatusRequestEntityTooLarge, Details: "request_payload_too_large"},
	}
	if x.errorReject.Status == 0 {
		x.errorReject.Status = http.StatusForbidden
	}
	if len(x.toDownstream) > 0 {
		// Envoy adds these to a list that is written.
		x.toDownstream = append(x.toDownstream, patterns([]string{"WWW-Authenticate", "Location"})...)
	}
	x.counts = m.forProvider(cfg.Name)
	return x
}

// check asks the authorizer about req: nil lets it go on (with the
// authorizer's headers added upstream), a *plugins.Reject stops it.
func (x *extAuthz) check(ctx context.Context, req *plugins.Request) error {
	if x.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, x.cfg.Timeout)
		defer cancel()
	}
	creq, rej := x.request(ctx, req)
	if rej != nil {
		return rej
	}
	if req.Upstreams == nil {
		return x.failed(req, "no upstreams to reach the authorizer")
	}
	resp, err := req.Upstreams.RoundTrip(x.cfg.Upstream, creq)
	if err != nil {
		reason := "connection failed"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = "timeout"
		}
		return x.failed(req, reason)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		x.counts.ok.Inc()
		x.allow(req, resp.Header)
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDeniedBody))
		return nil
	case resp.StatusCode >= 500:
		// Envoy reads a 5xx from the authorizer as a failed check, not
		// as its decision.
		return x.failed(req, "status "+strconv.Itoa(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDeniedBody))
	if err != nil {
		return x.failed(req, "reading the response failed")
	}
	x.counts.denied.Inc()
	return &plugins.Reject{Status: resp.StatusCode, Body: string(body), Flag: FlagExtAuthz,
		Details: DetailsExtAuthzDenied, Header: x.denyHeader(resp.Header)}
}

// failed answers a check that got no decision: the request goes on when
// the provider fails open, else it gets status_on_error.
func (x *extAuthz) failed(req *plugins.Request, reason string) error {
	req.Metadata.Set(NoteExtAuthz, "error", reason)
	if x.cfg.FailOpen {
		x.counts.failureModeAllowed.Inc()
		req.Metadata.Set(NoteExtAuthz, "failure_mode_allowed", "true")
		return nil
	}
	x.counts.error.Inc()
	return x.errorReject
}

// request builds the check: the request's method, the path prefix and its
// path and query, its Host, the headers the provider includes, and its
// body when the provider asks for it (an empty body otherwise).
func (x *extAuthz) request(ctx context.Context, req *plugins.Request) (*http.Request, *plugins.Reject) {
	target := x.cfg.PathPrefix + req.Path()
	if q := req.Query(); q != "" {
		target += "?" + q
	}
	creq := &http.Request{
		Method: req.Method(), URL: &url.URL{Scheme: "http", Host: x.cfg.Upstream, Opaque: target},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header), Host: req.Authority(), Body: http.NoBody,
	}
	creq = creq.WithContext(ctx)
	if len(x.include) > 0 {
		req.Header().Each(func(name, value string) bool {
			if matchAny(x.include, name) && !framing(name) {
				creq.Header.Add(name, value)
			}
			return true
		})
	}
	for k, v := range x.cfg.IncludeAdditional {
		creq.Header.Set(k, v)
	}
	creq.Header["X-Forwarded-Proto"] = []string{req.Scheme()}
	creq.Header["X-Envoy-Expected-Rq-Timeout-Ms"] = x.timeoutMS
	if req.ID != "" {
		creq.Header.Set("X-Request-Id", req.ID)
	}
	if b := x.cfg.Body; b != nil {
		if rej := x.body(req, creq, b); rej != nil {
			return nil, rej
		}
	}
	return creq, nil
}

// body reads up to max bytes of the request's body into the check and
// hands the whole body on upstream, as Envoy buffers it.
func (x *extAuthz) body(req *plugins.Request, creq *http.Request, b *plugins.ExtAuthzBody) *plugins.Reject {
	n := req.ContentLength()
	if n == 0 {
		return nil
	}
	if n > b.MaxRequestBytes && !b.AllowPartial {
		return x.tooLarge
	}
	rc := req.Body()
	head, err := io.ReadAll(io.LimitReader(rc, b.MaxRequestBytes+1))
	if err != nil {
		return x.tooLarge
	}
	sent := head
	if int64(len(head)) > b.MaxRequestBytes {
		if !b.AllowPartial {
			return x.tooLarge
		}
		sent = head[:b.MaxRequestBytes]
		creq.Header.Set("X-Envoy-Auth-Partial-Body", "true")
	}
	req.SetBody(&prefixedBody{Reader: io.MultiReader(bytes.NewReader(head), rc), c: rc}, n)
	creq.Body = io.NopCloser(bytes.NewReader(sent))
	creq.ContentLength = int64(len(sent))
	return nil
}

// prefixedBody is the request body with the part the check read put back.
type prefixedBody struct {
	io.Reader
	c io.Closer
}

func (b *prefixedBody) Close() error { return b.c.Close() }

// allow adds the authorizer's headers that headers_to_upstream_on_allow
// names to the request, in place of the request's own.
func (x *extAuthz) allow(req *plugins.Request, h http.Header) {
	for name, vals := range h {
		if matchAny(x.toUpstream, name) && !framing(name) {
			req.Header().Set(name, vals[0])
			for _, v := range vals[1:] {
				req.Header().Add(name, v)
			}
		}
	}
}

// denyHeader returns the authorizer's headers the client gets with a
// denial: those headers_to_downstream_on_deny names, or all but Host
// without a list, never the framing ones.
func (x *extAuthz) denyHeader(h http.Header) http.Header {
	out := make(http.Header)
	for name, vals := range h {
		if framing(name) || len(x.toDownstream) > 0 && !matchAny(x.toDownstream, name) {
			continue
		}
		out[name] = vals
	}
	return out
}

// framing reports whether a header belongs to the message's framing or
// hop, which the gateway sets itself.
func framing(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
		"upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization":
		return true
	}
	return false
}

// headerPattern is Istio's header match of a provider's lists: exact,
// prefix* or *suffix, without regard to case.
type headerPattern struct {
	s              string
	prefix, suffix bool
}

func patterns(vals []string) []headerPattern {
	out := make([]headerPattern, 0, len(vals))
	for _, v := range vals {
		v = strings.ToLower(v)
		switch {
		case strings.HasSuffix(v, "*"):
			out = append(out, headerPattern{s: v[:len(v)-1], prefix: true})
		case strings.HasPrefix(v, "*"):
			out = append(out, headerPattern{s: v[1:], suffix: true})
		default:
			out = append(out, headerPattern{s: v})
		}
	}
	return out
}

func matchAny(ps []headerPattern, name string) bool {
	name = strings.ToLower(name)
	for _, p := range ps {
		switch {
		case p.prefix && strings.HasPrefix(name, p.s),
			p.suffix && strings.HasSuffix(name, p.s),
			!p.prefix && !p.suffix && name == p.s:
			return true
		}
	}
	return false
}
