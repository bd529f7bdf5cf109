package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// sending is what the response writer keeps to stream a response and to
// bound the time a client may take to read it.
//
// A response of known length is flushed after each write that leaves part
// of it to come, so that bytes reach the client as they arrive from the
// upstream; one that arrives whole goes out with the handler's final
// flush, one syscall as before. Each write must be taken by the client
// within the listener's write_timeout (nginx's send_timeout), and while an
// upstream response is relayed, no later than the route's deadline: a
// client that does not read loses its response, and the upstream
// connection and its max_requests place are freed, at the latest when the
// route's timeout would have ended the exchange.
type sending struct {
	// left is the declared body length not yet written; -1 when the
	// length is unknown (such responses the proxy flushes itself).
	left int64
	// timeout is the listener's write_timeout; 0 sets no deadline.
	timeout time.Duration
	// routeDeadline caps the write deadlines while an upstream response
	// is relayed; zero when there is none.
	routeDeadline time.Time
	// armed is the write deadline in force; zero when none was set.
	armed time.Time
	// capped says armed is the route's deadline.
	capped bool
	// between says the deadline must be lifted between writes: on
	// HTTP/2 it is a timer that resets the stream when it fires, writing
	// or not, and would end a stream that merely waits for its upstream.
	between bool
	// flushed says the header has been sent to the client.
	flushed bool
	// writeTimedOut says a write failed because its deadline passed.
	writeTimedOut bool
	// tunnelIdle ends an accepted upgrade's tunnel that moves no byte for
	// that long (the listener's idle_timeout); 0 never.
	tunnelIdle time.Duration
}

type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// headerFlushDelay is how long the header of a known-length response may
// wait for the first body byte before it is sent on its own.
const headerFlushDelay = 20 * time.Millisecond

// begin notes the final status's declared body length.
func (w *responseWriter) begin() {
	w.left = -1
	if v := w.Header()["Content-Length"]; len(v) == 1 {
		if n, err := strconv.ParseInt(v[0], 10, 64); err == nil && n >= 0 {
			w.left = n
		}
	}
}

// arm sets the write deadline for the next write: write_timeout from now,
// capped at the route's deadline. It sets it again only once a quarter of
// the timeout has passed, to spare a call per write.
func (w *responseWriter) arm() {
	if w.timeout <= 0 {
		return
	}
	now := time.Now()
	if !w.armed.IsZero() && (w.capped || w.armed.Sub(now) > w.timeout*3/4) {
		return
	}
	d, capped := now.Add(w.timeout), false
	if !w.routeDeadline.IsZero() && w.routeDeadline.Before(d) {
		d, capped = w.routeDeadline, true
	}
	if dl, ok := w.ResponseWriter.(writeDeadliner); ok && dl.SetWriteDeadline(d) == nil {
		w.armed, w.capped = d, capped
	}
}

// wrote settles a write of n bytes: it flushes when more of a known-length
// body is to come.
func (w *responseWriter) wrote(n int) {
	if w.left < 0 {
		return
	}
	if w.left -= int64(n); w.left > 0 {
		w.Flush()
	}
}

// rest lifts the write deadline after a write that left the client nothing
// buffered, where it must be lifted between writes.
func (w *responseWriter) rest() {
	if !w.between || w.armed.IsZero() {
		return
	}
	if dl, ok := w.ResponseWriter.(writeDeadliner); ok {
		dl.SetWriteDeadline(time.Time{})
	}
	w.armed, w.capped = time.Time{}, false
}

// failed records the first write or flush error, and whether it came of the
// write deadline.
func (w *responseWriter) failed(err error) {
	if w.writeErr != nil {
		return
	}
	w.writeErr = err
	w.writeTimedOut = !w.armed.IsZero() && !time.Now().Before(w.armed)
}

// settle ends the response as the handler returns. When the proxy aborts a
// response part-way (p is http.ErrAbortHandler) and the client may still
// read, the header goes out first, so the client sees a response cut short
// (HTTP/1 framing left incomplete, an HTTP/2 or HTTP/3 stream reset) and
// never nothing at all, or, worse, an empty body that looks whole. A write
// that timed out is recorded: SI, or UT when the route's deadline ran out.
func (ex *exchange) settle(p any, r *http.Request) {
	w := &ex.w
	if w.writeTimedOut {
		if w.capped {
			ex.rec.Flags |= accesslog.UpstreamRequestTimeout
			ex.rec.ConnectionTerminationDetails = "upstream_response_timeout"
		} else {
			ex.rec.Flags |= accesslog.StreamIdleTimeout
			ex.rec.ConnectionTerminationDetails = "stream_idle_timeout"
		}
		return
	}
	// The upstream response is over: what is left to send, the server's
	// final flush included, gets write_timeout, even past the route's
	// deadline.
	w.routeDeadline = time.Time{}
	if w.capped {
		w.armed, w.capped = time.Time{}, false
		w.arm()
	}
	if p == http.ErrAbortHandler && w.writeErr == nil && w.status != 0 && !w.flushed {
		w.Flush()
	}
	if w.between && w.status != 0 {
		// For what the server flushes after the handler; the stream's
		// end stops the timer.
		w.arm()
	}
	if r.ProtoMajor == 1 && w.armed.IsZero() && w.status >= 200 {
		w.arm() // no body byte was written: the server's final flush writes the header
	}
	if r.ProtoMajor == 1 && !w.armed.IsZero() {
		// The deadline stays for the server's final flush.
		ex.conn.writeDeadline = true
	}
}

// boundWrites gives the response writer the listener's write timeout. On
// HTTP/1 it first clears a deadline that the previous response on the
// connection left, which would otherwise bound what the server writes by
// itself (100 Continue) or a connection hijacked for an upgrade.
func (ex *exchange) boundWrites(r *http.Request) {
	ex.w.server = &ex.conn.listener.server
	ex.w.protoMajor = r.ProtoMajor
	ex.w.timeout = ex.conn.listener.writeTimeout
	ex.w.tunnelIdle = ex.conn.listener.idleTimeout
	ex.w.between = r.ProtoMajor == 2
	if r.ProtoMajor == 1 && ex.conn.writeDeadline {
		if dl, ok := ex.w.ResponseWriter.(writeDeadliner); ok {
			dl.SetWriteDeadline(time.Time{})
		}
		ex.conn.writeDeadline = false
	}
}
