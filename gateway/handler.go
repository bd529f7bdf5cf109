package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// ServeHTTP serves one request: it fills the request context, routes the
// request, runs the route's plugins, acts, and writes the access-log line.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A stream the client reset before the gateway started on it did no
	// work: it is neither forwarded nor logged. Such resets are counted,
	// and a flood of them closes the connection.
	if r.ProtoMajor >= 2 && !connFrom(r.Context()).admitStream(r.Context()) {
		return
	}
	g.inflight.Add(1)
	defer g.inflight.Add(-1)
	ex := getExchange()
	ex.snap = g.acquire()
	ex.conn = connFrom(r.Context())
	ex.clientCtx = r.Context()
	ex.w.ResponseWriter = w
	ex.begin(r)
	ex.boundWrites(r)
	g.metrics.InFlight(1)
	defer g.finish(ex, r)

	if ex.conn.listener.draining.Load() && r.ProtoMajor == 1 {
		w.Header()["Connection"] = []string{"close"}
	}
	if ex.conn.listener.altSvc != "" {
		w.Header()["Alt-Svc"] = []string{ex.conn.listener.altSvc}
	}
	g.serve(&ex.w, r, ex)
	if ex.conn.h3 != nil {
		ex.conn.h3.ended(r.Context(), ex.rec.Start, ex.w.status != 0)
	}
}

// begin fills the access-log record and the plugins' view of the request
// with what the request and its connection say.
func (ex *exchange) begin(r *http.Request) {
	rec := &ex.rec
	rec.Start = time.Now()
	rec.UpstreamServiceTime = -1
	rec.Method = r.Method
	rec.Path = r.RequestURI
	rec.Protocol = protocolName(r)
	rec.Authority = r.Host
	rec.Scheme = schemeOf(r)
	rec.RequestHeader = r.Header
	rec.ResponseHeader = ex.w.Header()
	rec.DownstreamLocalAddress = ex.conn.local
	rec.DownstreamDirectRemoteAddress = r.RemoteAddr
	rec.RequestHeaderBytes = requestHeaderBytes(r, rec.Scheme)
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	ex.req.Peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	ex.req.Local = ex.conn.localAddr
	ex.req.Upstreams = ex.snap
	if r.TLS != nil {
		rec.RequestedServerName = r.TLS.ServerName
		rec.DownstreamTLSVersion = upstream.VersionName(r.TLS.Version)
		rec.DownstreamTLSCipher = tlsCipherName(r.TLS.CipherSuite)
		ex.req.SNI = r.TLS.ServerName
	}
	if p := ex.conn.peer; p != nil {
		ex.ident = p.Identity
		ex.req.Identity = &ex.ident
		rec.DownstreamPeerURISAN = p.SPIFFEID
		rec.DownstreamPeerSubject = p.subject
	}
	dropNominated(r.Header)
	trusted := ex.snap.cfg.TrustedProxies
	ex.peerTrusted = isTrusted(ex.req.Peer.Addr(), trusted)
	prior := r.Header["X-Forwarded-For"]
	clientCert := takeClientCert(r.Header)
	if !ex.peerTrusted {
		dropUntrusted(r.Header)
	}
	ex.forwardClientCert(r.Header, clientCert)
	ex.req.Client = clientAddr(ex.req.Peer.Addr(), prior, trusted)
	if n := ex.snap.cfg.NumTrustedProxies; n > 0 {
		ex.req.Client = hopAddr(ex.req.Peer.Addr(), prior, n)
	}
	// From here on X-Forwarded-For is what the gateway forwards: the
	// access log, the plugins and the upstream all see the same value.
	setForwardedFor(r, prior, ex.peerTrusted)
	if ex.req.Client == ex.req.Peer.Addr() {
		rec.DownstreamRemoteAddress = r.RemoteAddr
	} else {
		rec.DownstreamRemoteAddress = netip.AddrPortFrom(ex.req.Client, 0).String()
	}
	if ex.snap.cfg.File.RequestID.RegenerateExternal && !ex.peerTrusted {
		delete(r.Header, "X-Request-Id")
	}
	ex.req.ID = requestID(r.Header)
	rec.RequestID = ex.req.ID
	if r.Body != nil && r.Body != http.NoBody {
		ex.body = &countingBody{rc: r.Body}
		r.Body = ex.body
	}
	ex.in = r
	ex.view.Reset(r)
	ex.req.RequestView = &ex.view
}

// serve routes the request and acts on it. Every way out writes one
// response, or none when the client has gone.
func (g *Gateway) serve(w *responseWriter, r *http.Request, ex *exchange) {
	l := ex.conn.listener
	if n := headerCount(r.Header); n > l.maxHeaders {
		g.local(w, ex, http.StatusRequestHeaderFieldsTooLarge, "", 0, "too_many_headers")
		return
	}
	if !g.checkUnderscores(w, r, ex) {
		return
	}
	if !upperToken(r.Method) {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "invalid_method")
		return
	}
	if d := declaredTrailers(r); d != "" {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, d)
		return
	}
	if l.forwardProxy {
		g.forwardProxy(w, r, ex)
		return
	}
	if r.Method == http.MethodConnect {
		g.connect(w, r, ex)
		return
	}
	if !ex.toOriginForm(r) {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "invalid_request_target")
		return
	}
	if r.Host == "" || strings.ContainsAny(r.Host, " \t/\\@") {
		g.local(w, ex, http.StatusBadRequest, "", 0, "invalid_authority")
		return
	}
	if l.limiter != nil {
		if err := l.limiter.HandleRequest(r.Context(), &ex.req); err != nil {
			g.fail(w, ex, err)
			return
		}
	}
	rawPath, query, ok := splitTarget(r)
	if !ok {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "invalid_request_target")
		return
	}
	table := ex.snap.cfg.Table
	path, err := routes.NormalizePath(rawPath, table.Paths())
	if err != nil {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "path_normalization_failed")
		return
	}
	rawQuery := query
	if query, err = routes.NormalizeQuery(query); err != nil {
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "invalid_request_target")
		return
	}
	ex.path, ex.query = path, query
	if path != rawPath || query != rawQuery || query == "" && ex.rec.Path != path { // "/p?" is logged as forwarded, "/p"
		ex.rec.Path = withQuery(path, query)
	}
	// Plugins read the path the route matches, and the query, in the form
	// forwarded; so does an *http.Request built from the view.
	ex.view.SetTarget(path, query)
	setPath(r.URL, path)
	r.URL.RawQuery = query
	if l.redirectHTTPS {
		http.Redirect(w, r, httpsURL(r, l.httpsPort, path, query), http.StatusMovedPermanently)
		ex.rec.ResponseCodeDetails = "https_redirect"
		return
	}
	rule, host := table.Match(r.Host, path, r.Method, r.Header)
	if host != nil {
		ex.rec.VirtualHost = host.Name
		ex.req.VirtualHost = host.Name
	}
	if rule == nil {
		if host != nil {
			if allowed := host.Allowed(path, r.Header); allowed != nil {
				w.Header()["Allow"] = []string{strings.Join(allowed, ", ")}
				g.local(w, ex, http.StatusMethodNotAllowed, "", 0, "method_not_allowed")
				return
			}
		}
		g.local(w, ex, http.StatusNotFound, emptyReply, accesslog.NoRouteFound, "route_not_found")
		return
	}
	ex.rule = rule
	ex.rec.RouteName = rule.Name
	ex.req.Route = rule.Name
	if rule.Upstream != nil {
		ex.up = ex.snap.upstreams[rule.Upstream]
		ex.req.Upstream = rule.Upstream.Name
		ex.rec.UpstreamCluster = ex.up.pool.Cluster()
		ex.attempt.Retry = rule.Retries
		if h := rule.Upstream.Hash; h != nil && h.ClientIP {
			// The client behind trusted proxies, not the proxy itself.
			client := ex.req.Client
			ex.attempt.HashKey = client.String
		}
	}
	if err := rule.Chain.HandleRequest(r.Context(), &ex.req); err != nil {
		g.fail(w, ex, err)
		return
	}
	if q := ex.view.Query(); q != query {
		if !g.pluginQuery(w, r, ex, q) {
			return
		}
		query = q
	}
	switch {
	case rule.Direct != nil:
		g.direct(w, r, ex, rule.Direct)
	case rule.Redirect != nil:
		g.redirect(w, r, ex, rule.RedirectLocation(schemeOf(r), r.Host, path, query), rule.Redirect.Code)
	default:
		g.proxy(w, r, ex)
	}
}

// finish ends the request: it settles the response code and flags, writes
// the access-log line and records the metrics. It also runs when the proxy
// aborts a response part-way, which it does by panicking with
// http.ErrAbortHandler; the panic goes on after the line is written.
func (g *Gateway) finish(ex *exchange, r *http.Request) {
	p := recover()
	ex.settle(p, r)
	rec := &ex.rec
	rec.Duration = time.Since(rec.Start)
	rec.ResponseCode = ex.w.status
	rec.BytesSent = ex.w.n
	rec.BytesReceived = ex.body.bytesRead()
	rec.ResponseHeaderBytes = ex.w.headerBytes
	if p == http.ErrAbortHandler && ex.w.writeErr == nil && ex.clientCtx.Err() == nil {
		if ex.timedOut {
			rec.Flags |= accesslog.UpstreamRequestTimeout
			rec.ConnectionTerminationDetails = "upstream_response_timeout"
		} else {
			rec.Flags |= accesslog.UpstreamRemoteReset
			rec.ConnectionTerminationDetails = "upstream_reset_after_response_started"
		}
	}
	if ex.clientCtx.Err() != nil && !ex.w.writeTimedOut && (ex.w.status == 0 || ex.w.writeErr != nil || p != nil) {
		rec.Flags |= accesslog.DownstreamConnectionTermination
	}
	// The proxy writes trailers into the response header map after the
	// body, so %TRAILER()% reads the same map.
	rec.ResponseTrailer = rec.ResponseHeader
	labels := metricLabels(ex, r)
	if ex.egress != nil {
		g.logEgress(ex, &labels)
	}
	rec.Metadata = ex.req.Metadata.Entries()
	ex.snap.access.Log(rec)
	g.metrics.Observe(rec, labels)
	g.metrics.InFlight(-1)
	g.release(ex.snap)
	putExchange(ex)
	if p != nil {
		panic(p)
	}
}

// proxy sends the request to its upstream, bounded by the route's timeout.
func (g *Gateway) proxy(w *responseWriter, r *http.Request, ex *exchange) {
	timeout := ex.rule.Timeout
	if timeout == 0 {
		timeout = time.Duration(ex.up.spec.Timeout)
	}
	upgrade, ok := upgradeFor(r, ex.rule.AllowsUpgrade)
	if !ok {
		g.local(w, ex, http.StatusForbidden, emptyReply, 0, "upgrade_failed")
		return
	}
	ex.upgrade = upgrade
	if ex.rewritten, ok = ex.rule.Rewrite(ex.path); !ok {
		g.local(w, ex, http.StatusBadRequest, "", 0, "path_rewrite_out_of_prefix")
		return
	}
	ctx := httptrace.WithClientTrace(context.WithValue(r.Context(), exchangeKey{}, ex), ex.clientTrace())
	// The route timeout bounds an upgrade too, up to the upstream's 101;
	// checkSwitch stops it there, and the tunnel lives as long as its
	// connections.
	if timeout > 0 {
		d := newRouteDeadline(ctx, timeout)
		ex.deadline, ctx = d, d
		ex.w.cancel = d.cancel
		defer func() {
			ex.timedOut = d.Err() == context.DeadlineExceeded
			d.stop()
		}()
	}
	if ex.body != nil {
		// The body forwarded may be a plugin's; the client's is still
		// read through ex.body beneath it, which tells a client's
		// failure from the upstream's.
		ex.bodySent = true
		ex.attempt.Body = ex.body
	}
	if r.Body != nil && r.Body != http.NoBody && (r.Body != io.ReadCloser(ex.body) || ex.body.bytesRead() > 0) {
		// A plugin's body, or the client's that a plugin read from,
		// held to the length declared; it tells its own failure and
		// the client's.
		ex.sent = &pluginBody{rc: r.Body, client: ex.body, declared: r.ContentLength}
		r.Body = ex.sent
		ex.attempt.Body = ex.sent
	}
	// The transport reads the body on its own goroutine from here on.
	var ended *atomic.Bool
	if ex.body != nil {
		ended = &ex.body.eof
	}
	ex.view.Sent(ended)
	defer func() {
		// The proxy leaves the upstream connection of a 101 open when
		// it fails to take over the client's; it holds a request slot.
		if ex.tunnel != nil {
			ex.tunnel.Close()
		}
	}()
	g.rp.ServeHTTP(w, r.WithContext(ctx))
}

// upperToken reports whether a method is written as methods are: upper-case
// letters, digits and the other token characters, no lower case. A method
// such as "get" is refused, as Envoy does, rather than passed to an upstream
// that may read it as GET; one that is not a token at all (HTTP/2 lets
// `G"T` through) is refused since no transport sends it.
func upperToken(m string) bool {
	if !httpguts.ValidHeaderFieldName(m) {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c >= 'a' && c <= 'z' {
			return false
		}
	}
	return m != ""
}

func headerCount(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

var errNoExchange = errors.New("request carries no exchange")

// pluginQuery takes the query a plugin set (RequestView.SetQuery) as the
// one forwarded, and logged, after checking it as a client's is checked: a
// query that routes.NormalizeQuery refuses or would change fails the
// request as the plugin's error, whatever view let it through.
func (g *Gateway) pluginQuery(w *responseWriter, r *http.Request, ex *exchange, q string) bool {
	if nq, err := routes.NormalizeQuery(q); err != nil || nq != q {
		g.fail(w, ex, errors.New("a plugin set a query that is not in the form forwarded"))
		return false
	}
	ex.query = q
	r.URL.RawQuery = q
	ex.rec.Path = withQuery(ex.path, q)
	return true
}
