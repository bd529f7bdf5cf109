package gateway

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

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
	*ex = exchange{}
	exchangePool.Put(ex)
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

// responseWriter records the status and counts the body bytes sent; it
// streams and bounds the response as sending describes.
type responseWriter struct {
	http.ResponseWriter
	status   int
	n        int64
	writeErr error
	sending
	relay1xx
}

func (w *responseWriter) WriteHeader(code int) {
	if code < 200 && code != http.StatusSwitchingProtocols && !w.relayInformational() {
		return
	}
	if w.status == 0 && code >= 200 {
		w.status = code
		w.begin()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.begin()
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
