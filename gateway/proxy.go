package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/plugins"
)

// newReverseProxy returns the one reverse proxy the gateway forwards with.
// Per-request choices (endpoint, path, timeout) come from the exchange in the
// request's context, so the proxy itself holds no per-route state.
func (g *Gateway) newReverseProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:   rewrite,
		Transport: roundTripper{},
		// The proxy flushes at once for responses of unknown length
		// (streams, SSE, gRPC). A fixed-length one the response writer
		// flushes after each write that leaves part of it to come; this
		// interval sends its header when no body byte follows soon. A
		// response that arrives whole within it goes out in one write,
		// which saves a syscall per response over flushing the header.
		FlushInterval:  headerFlushDelay,
		ModifyResponse: modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       newStdLog(g.log),
		BufferPool:     bufferPool{},
	}
}

// rewrite builds the outgoing request: endpoint, the normalised (and
// rewritten) path, the Host, and the X-Forwarded-* headers.
func rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	out := pr.Out
	// The pool sets the scheme and the endpoint's address when it picks
	// one; until then the URL names the upstream.
	out.URL.Scheme, out.URL.Host = "http", ex.up.spec.Name
	path := ex.path
	if ex.rule.PrefixRewrite != "" {
		path = ex.rewritten
		ex.rec.OriginalPath = ex.rec.Path
		ex.rec.Path = withQuery(path, ex.query)
		// As Envoy's router does, tell the upstream the path the client
		// asked for; the access log's %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
		// reads the same value from the request.
		orig := []string{ex.rec.OriginalPath}
		out.Header["X-Envoy-Original-Path"] = orig
		pr.In.Header["X-Envoy-Original-Path"] = orig
	}
	setPath(out.URL, path)
	out.URL.RawQuery = ex.query
	out.Host = pr.In.Host
	if ex.rule.HostRewrite != "" {
		out.Host = ex.rule.HostRewrite
	}
	setForwarded(out.Header, pr.In, ex)
}

// roundTripper sends the request through the upstream's pool, which picks
// the endpoint, enforces the circuit limits and retries, and times the
// upstream's answer.
type roundTripper struct{}

func (roundTripper) RoundTrip(out *http.Request) (*http.Response, error) {
	ex := exchangeFrom(out.Context())
	if ex == nil {
		return nil, errNoExchange
	}
	start := time.Now()
	resp, err := ex.up.pool.RoundTrip(out, &ex.attempt)
	a := &ex.attempt
	ex.rec.UpstreamHost = a.Endpoint
	ex.rec.Flags |= a.Flags
	if a.TransportFailure != "" {
		// Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON% writes spaces as '_'.
		ex.rec.UpstreamTransportFailureReason = strings.ReplaceAll(a.TransportFailure, " ", "_")
	}
	if err == nil {
		ex.rec.UpstreamServiceTime = time.Since(start)
	}
	return resp, err
}

// modifyResponse runs the plugins' response phase before any byte of the
// response reaches the client.
func modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.rec.ResponseCodeDetails = "via_upstream"
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if err := checkSwitch(ex, resp); err != nil {
			return err // the proxy closes the body, and so the connection
		}
	}
	// As Envoy's router does, the response says how long the upstream took
	// to answer, in place of any such header the upstream sent; the
	// plugins see it, and the access log's
	// %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% reads it.
	st := serviceTime(ex.rec.UpstreamServiceTime)
	resp.Header[serviceTimeKey] = st
	ex.w.routeDeadline, _ = resp.Request.Context().Deadline()
	if ex.rule.Chain.HasResponders() {
		if err := ex.rule.Chain.HandleResponse(resp.Request.Context(), &ex.req, ex.responseView(resp)); err != nil {
			return &responsePhaseError{err}
		}
	}
	if v := resp.Header[serviceTimeKey]; len(v) == 1 && &v[0] == &st[0] {
		// The proxy copies each header value into the client's header,
		// an allocation each: the service time, which no plugin
		// changed, goes there as it is.
		delete(resp.Header, serviceTimeKey)
		ex.w.Header()[serviceTimeKey] = st
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The proxy writes the 101 on the hijacked connection, past the
		// response writer; record it here, and give it the listener's
		// Server header.
		ex.w.status = http.StatusSwitchingProtocols
		ex.w.server.apply(resp.Header)
		ex.w.headerBytes = responseHeaderBytes(1, resp.StatusCode, resp.Header) + int64(fieldBytes(ex.w.Header(), 4))
		ex.tunnel = resp.Body
	}
	return nil
}

// serviceTimeKey is x-envoy-upstream-service-time, the milliseconds from
// sending a request upstream to its response's header.
const serviceTimeKey = "X-Envoy-Upstream-Service-Time"

// serviceTimes are the header's values under a second, shared by every
// response; each has its length as its capacity, so an append copies it.
var serviceTimes = func() [][]string {
	vals := make([]string, 1000)
	out := make([][]string, len(vals))
	for i := range vals {
		vals[i] = strconv.Itoa(i)
		out[i] = vals[i : i+1 : i+1]
	}
	return out
}()

// serviceTime returns the header's value for d, truncated to milliseconds
// as Envoy's router writes it.
func serviceTime(d time.Duration) []string {
	ms := max(d.Milliseconds(), 0)
	if ms < int64(len(serviceTimes)) {
		return serviceTimes[ms]
	}
	return []string{strconv.FormatInt(ms, 10)}
}

// responsePhaseError carries a plugin's response-phase error through the
// proxy, so it is answered as the plugin's and not as an upstream failure.
type responsePhaseError struct{ err error }

func (e *responsePhaseError) Error() string { return e.err.Error() }
func (e *responsePhaseError) Unwrap() error { return e.err }

// proxyError answers a failed exchange with the status and flag Envoy would
// give it.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	rw := &ex.w
	var rej *plugins.Reject
	var uerr *upstream.Error
	var rerr *responsePhaseError
	switch {
	case ex.w.badInformational:
		g.local(rw, ex, http.StatusBadGateway, upstreamProtocolErrorText, accesslog.UpstreamProtocolError, upstreamProtocolErrorDetails)
	case errors.As(err, &rej):
		g.fail(rw, ex, rej)
	case errors.As(err, &rerr):
		g.fail(rw, ex, rerr.err)
	case err == errBadSwitch:
		g.local(rw, ex, http.StatusBadGateway, upstreamProtocolErrorText, accesslog.UpstreamProtocolError, upstreamProtocolErrorDetails)
	case ex.sent.error() != nil && ex.clientCtx.Err() == nil && !ex.body.failed():
		// A plugin's body failed, or did not match its length.
		g.fail(rw, ex, ex.sent.error())
	case errors.As(err, &uerr) && ex.clientCtx.Err() == nil && !ex.body.failed():
		g.local(rw, ex, uerr.Status, uerr.Body, uerr.Flags, uerr.Details)
	case ex.body.failed():
		// The client's body broke part-way: its fault, not the upstream's.
		if ex.clientCtx.Err() != nil {
			ex.rec.Flags |= accesslog.DownstreamConnectionTermination
			return
		}
		g.local(rw, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "request_body_invalid")
	case ex.clientCtx.Err() != nil:
		// The client went away; nobody is left to answer.
		ex.rec.Flags |= accesslog.DownstreamConnectionTermination
		ex.rec.ResponseCodeDetails = "downstream_remote_disconnect"
	case errors.Is(err, context.DeadlineExceeded) || r.Context().Err() == context.DeadlineExceeded:
		g.local(rw, ex, http.StatusGatewayTimeout, "upstream request timeout", accesslog.UpstreamRequestTimeout, "upstream_response_timeout")
	default:
		// The pool classifies transport failures; what reaches here failed
		// outside it, such as the response body's first read.
		body, details := upstream.ResetReply("connection termination")
		g.local(rw, ex, http.StatusServiceUnavailable, body, accesslog.UpstreamConnectionTermination, details)
	}
	if e := g.log.Debug(); e.Enabled() {
		e.Err(err).Str("request_id", ex.req.ID).Str("upstream", ex.attempt.Endpoint).Msg("upstream exchange failed")
	}
}

// bufferPool lends the proxy its 32 KiB copy buffers. It pools array
// pointers, so putting a buffer back allocates nothing.
type bufferPool struct{}

const copyBufferSize = 32 << 10

var copyBuffers = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

func (bufferPool) Get() []byte { return copyBuffers.Get().(*[copyBufferSize]byte)[:] }

func (bufferPool) Put(b []byte) {
	if cap(b) == copyBufferSize {
		copyBuffers.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
	}
}
