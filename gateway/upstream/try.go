package upstream

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
)

// result is one try's outcome. Until done is called it holds the endpoint's
// count of requests in progress and the try's context.
type result struct {
	e       *endpoint
	resp    *http.Response
	failure failure
	fault   string // requestFault's, for a requestFailure
	err     error
	cancel  context.CancelCauseFunc // the per-try context's, or nil
}

func (r *result) code() int {
	if r.resp == nil {
		return 0
	}
	return r.resp.StatusCode
}

// done ends the try's hold on its endpoint and context.
func (r *result) done() {
	r.e.active.Add(-1)
	if r.cancel != nil {
		r.cancel(nil)
	}
}

// discard drops a response that will not be used (a retry follows, or the
// caller left), draining a little so that its connection can be reused.
func (r *result) discard() {
	if r.resp != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.resp.Body, 4<<10))
		r.resp.Body.Close()
		r.resp = nil
		r.done()
	}
}

// try sends req to e once. A try other than the first sends a copy of req,
// since the transport of an earlier try may still read the original.
func (p *Pool) try(ctx context.Context, req *http.Request, a *Attempt, e *endpoint, body *replay, n int, pol *routes.RetryPolicy) result {
	r := result{e: e}
	out := req
	var timer *time.Timer
	if pol != nil && pol.PerTryTimeout > 0 {
		tctx, cancel := context.WithCancelCause(ctx)
		r.cancel = cancel
		timer = time.AfterFunc(time.Duration(pol.PerTryTimeout), func() { cancel(ErrPerTryTimeout) })
		out = req.WithContext(tctx)
	} else if n > 0 {
		out = req.WithContext(ctx)
	}
	if out != req {
		u := *req.URL
		out.URL = &u
	}
	out.URL.Scheme, out.URL.Host = p.scheme, e.addr
	switch {
	case body != nil:
		out.Body, out.GetBody = body.open(), body.get
	case n > 0 && req.GetBody != nil:
		b, err := req.GetBody()
		if err != nil {
			r.err = err
			if r.cancel != nil {
				timer.Stop()
				r.cancel(nil)
			}
			return r
		}
		out.Body = b
	}
	e.active.Add(1)
	resp, err := e.rt.RoundTrip(out)
	if timer != nil && !timer.Stop() {
		// The per-try timeout fired, before or just after the headers:
		// the try is over either way.
		if resp != nil {
			resp.Body.Close()
			resp, err = nil, ErrPerTryTimeout
		}
		if ctx.Err() == nil {
			r.failure, r.err = perTryTimeout, ErrPerTryTimeout
			r.done()
			return r
		}
	}
	if err == nil {
		if err = checkResponse(resp); err != nil {
			// Closed unread: the connection is not reused.
			resp.Body.Close()
		}
	}
	if err != nil {
		r.err, r.failure = err, classify(err)
		if r.failure != connectFailure {
			if f := requestFault(out, a, p.spec.Protocol == "http2"); f != "" {
				r.failure, r.fault = requestFailure, f
			}
		}
		r.done()
		return r
	}
	r.resp = resp
	return r
}

// hold wraps a final response's body so that closing it ends the try and
// the request's hold on the pool: a request counts as in progress, for the
// circuit limits and least_request, until its response is read.
func (p *Pool) hold(r result) io.ReadCloser {
	if r.resp.Body == nil {
		r.done()
		p.release()
		return nil
	}
	b := &heldBody{ReadCloser: r.resp.Body, r: r, p: p}
	if rw, ok := r.resp.Body.(io.ReadWriteCloser); ok {
		// A 101 Switching Protocols body is the connection itself; the
		// proxy writes to it, so the wrapper must still be a writer.
		return &heldConn{heldBody: b, w: rw}
	}
	return b
}

type heldBody struct {
	io.ReadCloser
	r      result
	p      *Pool
	closed atomic.Bool
}

// Close closes the body and, the first time, releases its holds.
func (b *heldBody) Close() error {
	err := b.ReadCloser.Close()
	if b.closed.CompareAndSwap(false, true) {
		b.r.done()
		b.p.release()
	}
	return err
}

type heldConn struct {
	*heldBody
	w io.Writer
}

func (c *heldConn) Write(p []byte) (int, error) { return c.w.Write(p) }
