package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// exchange is the state of one request as it crosses the gateway: the
// access-log record each stage fills in, the plugins' view of the request,
// and what routing chose. Exchanges are pooled; nothing keeps one after the
// request ends.
type exchange struct {
	rec accesslog.Record
	// in is the request as the server parsed it; req is the plugins' view
	// of it (view) with the facts the gateway established.
	in   *http.Request
	req  plugins.Request
	view plugins.StdRequest
	// resp is the plugins' view of the response, in the response phase.
	resp     plugins.Response
	respView plugins.StdResponse
	snap     *snapshot
	conn     *connInfo
	rule     *routes.Rule
	up       *backend
	// attempt is what the pool reports of the upstream exchange.
	attempt upstream.Attempt
	// clientCtx is the request's own context, before any route timeout,
	// so a cancellation can be told from a timeout.
	clientCtx context.Context
	// path is the normalised, escaped path that is forwarded; query the raw
	// query string.
	path, query string
	// rewritten is the path the route's prefix_rewrite makes of path.
	rewritten string
	w         responseWriter
	// body wraps the request body, or is nil for a request without one.
	// Plugins and the upstream read the client's body through it. It is
	// not pooled with the exchange: the upstream transport may read or
	// close it after the request has ended.
	body *countingBody
	// bodySent is set once the body is handed to the upstream.
	bodySent bool
	// sent is the body a plugin put in place of the client's, as the
	// upstream reads it, or nil. Like body, it is not pooled.
	sent *pluginBody
	// ident is the request's copy of the connection's verified caller, which
	// req.Identity points at, so that a plugin that changes it changes
	// nothing of the next request on the connection.
	ident plugins.Identity
	// peerTrusted is whether the direct peer is a trusted proxy, whose
	// X-Forwarded-* headers are believed.
	peerTrusted bool
	// timedOut is set when the route's timeout ended the exchange.
	timedOut bool
	// upgrade is the protocol forwarded in Upgrade, or "" for none;
	// deadline is the route timeout, nil without one.
	upgrade  string
	deadline *routeDeadline
	// tunnel is the upstream connection of an accepted upgrade, closed
	// when the proxy returns whichever way it does.
	tunnel io.Closer
	// egress is what the forward proxy made of the request, on a
	// forward_proxy listener; it points at egressResult.
	egress       *egress.Result
	egressResult egress.Result
	// tcpReported are the bytes of an open tunnel, from the client and
	// to it, that periodic reports counted already (tunnelProgress).
	tcpReported [2]int64
	// trace tells the exchange which upstream connection each try got.
	// Its hook is bound to this exchange once and kept when the exchange
	// goes back to the pool, so that a request does not build it anew.
	trace httptrace.ClientTrace
}

// responseView returns the plugins' view of resp.
func (ex *exchange) responseView(resp *http.Response) *plugins.Response {
	ex.respView.Reset(resp)
	ex.resp.ResponseView = &ex.respView
	return &ex.resp
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

func getExchange() *exchange { return exchangePool.Get().(*exchange) }

func putExchange(ex *exchange) {
	trace, md := ex.trace, ex.req.Metadata
	md.Reset() // keeps its storage, so that recording allocates only while it grows
	*ex = exchange{trace: trace}
	ex.req.Metadata = md
	exchangePool.Put(ex)
}

// clientTrace returns the trace that records, in the access-log record, the
// local address, TLS version and peer URI SANs of the upstream connection
// each try is sent on: the last try's are %UPSTREAM_LOCAL_ADDRESS%,
// %UPSTREAM_TLS_VERSION% and %UPSTREAM_PEER_URI_SAN%.
func (ex *exchange) clientTrace() *httptrace.ClientTrace {
	if ex.trace.GotConn == nil {
		ex.trace.GotConn = func(info httptrace.GotConnInfo) {
			ex.rec.UpstreamLocalAddress = upstream.LocalAddress(info.Conn)
			ex.rec.UpstreamTLSVersion, ex.rec.UpstreamPeerURISAN = "", ""
			if p := upstream.PeerOf(info.Conn); p != nil {
				ex.rec.UpstreamTLSVersion, ex.rec.UpstreamPeerURISAN = p.Version, p.URISAN
			}
		}
	}
	return &ex.trace
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// countingBody counts the request body bytes read from the client and keeps
// the first read error, so a body whose framing breaks is answered 400 and
// not taken for an upstream failure. The transport reads it on its own
// goroutine, so its state is read atomically.
type countingBody struct {
	rc  io.ReadCloser
	n   atomic.Int64
	err atomic.Pointer[error]
	eof atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	if err == io.EOF {
		b.eof.Store(true)
	} else if err != nil {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// bytesRead returns the body bytes read so far; zero without a body.
func (b *countingBody) bytesRead() int64 {
	if b == nil {
		return 0
	}
	return b.n.Load()
}

// failed reports whether reading the client's body failed.
func (b *countingBody) failed() bool { return b != nil && b.err.Load() != nil }

// ReadFailed tells the upstream pool that reading the body failed, so that
// the try is the client's failure and not the endpoint's.
func (b *countingBody) ReadFailed() bool { return b.failed() }

// pluginBody is a request body a plugin put in place of the client's, or
// the client's after a plugin read from it, held to the length declared
// (SetBody's, or the client's): one that ends short of it fails at its
// end, and one that goes past it fails before its last declared byte is
// read, so that no upstream receives a request that looks whole and is not
// the one the plugin meant. (Go's HTTP/2 transport would end the stream
// short of its content-length, which desynchronises an upstream that turns
// it into HTTP/1; a retry's buffer would keep the declared bytes and drop
// the rest.) A failure is the plugin's, not the client's nor the
// endpoint's: ReadFailed tells the pool not to retry it nor count it
// against the endpoint, and the gateway answers it as the plugin's error.
// The transport reads it on its own goroutine: its error is read
// atomically, its count only by the reader.
type pluginBody struct {
	rc io.ReadCloser
	// client is the client's body, which rc may read, or nil.
	client   *countingBody
	declared int64 // the length the plugin gave, or -1
	read     int64
	err      atomic.Pointer[error]
}

func (b *pluginBody) Read(p []byte) (int, error) {
	if b.declared < 0 {
		n, err := b.rc.Read(p)
		return n, b.check(err)
	}
	left := b.declared - b.read
	if int64(len(p)) > left {
		p = p[:left]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = b.rc.Read(p)
		b.read += int64(n)
	}
	switch {
	case b.read < b.declared && err == io.EOF:
		err = fmt.Errorf("the request body the plugins left ended after %d of its %d bytes", b.read, b.declared)
	case b.read == b.declared && err == nil:
		// Only the body's end may follow: withhold the last bytes
		// until it is seen.
		err = b.end()
	}
	if err != nil && err != io.EOF {
		return 0, b.check(err)
	}
	return n, err
}

// end reads on past the declared length and returns io.EOF when the body
// ends there, or why it does not.
func (b *pluginBody) end() error {
	var one [1]byte
	for range 100 {
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return fmt.Errorf("the request body the plugins left is longer than its %d bytes", b.declared)
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// check keeps the first error other than io.EOF, and returns err.
func (b *pluginBody) check(err error) error {
	if err != nil && err != io.EOF {
		b.err.CompareAndSwap(nil, &err)
	}
	return err
}

func (b *pluginBody) Close() error { return b.rc.Close() }

// ReadFailed tells the upstream pool that the body failed, or the client's
// beneath it.
func (b *pluginBody) ReadFailed() bool { return b.error() != nil || b.client.failed() }

// error returns why the body failed, or nil.
func (b *pluginBody) error() error {
	if b == nil {
		return nil
	}
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

// responseWriter records the status and counts the body bytes sent; it
// streams and bounds the response as sending describes.
type responseWriter struct {
	http.ResponseWriter
	status   int
	n        int64
	writeErr error
	// server is the listener's Server header, set on the final response.
	server *serverHeader
	// headerBytes is the size of the final response's header; protoMajor
	// the HTTP version it goes out in.
	headerBytes int64
	protoMajor  int
	sending
	relay1xx
}

func (w *responseWriter) WriteHeader(code int) {
	if code < 200 && code != http.StatusSwitchingProtocols && !w.relayInformational() {
		return
	}
	if w.status == 0 && code >= 200 {
		w.status = code
		w.final()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.final()
	}
	w.arm()
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	if err != nil {
		w.failed(err)
	} else {
		w.wrote(n)
	}
	return n, err
}

// final readies the header of the final response as it goes out.
func (w *responseWriter) final() {
	w.begin()
	h := w.Header()
	if w.server != nil {
		w.server.apply(h)
	}
	w.headerBytes = responseHeaderBytes(w.protoMajor, w.status, h)
}

// Flush sends buffered data at once, so streamed responses stream.
func (w *responseWriter) Flush() {
	w.arm()
	switch f := w.ResponseWriter.(type) {
	case interface{ FlushError() error }:
		if err := f.FlushError(); err != nil {
			w.failed(err)
			return
		}
	case http.Flusher:
		f.Flush()
	default:
		return
	}
	w.flushed = true
	w.rest()
}

// Unwrap lets http.ResponseController reach the connection, which WebSocket
// upgrades need to hijack it.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
