package upstream

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// Error is a request the pool could not complete: the status to answer
// with, Envoy's response flags and details, and the cause.
type Error struct {
	// Status is Envoy's: 503, but 502 for a protocol error and 504 for a
	// timeout; 400 when the request's body broke, 500 when the request is
	// one no transport sends.
	Status int
	// Flags are Envoy's response flags: UH, UO, UF, UC, UR, UPE or UT, with URX
	// or UO added when retries were exhausted or refused.
	Flags accesslog.Flags
	// Details is %RESPONSE_CODE_DETAILS%, as Envoy writes it.
	Details string
	// Body is the local reply's text, Envoy's words.
	Body string
	// Err is the cause: one of the sentinel errors or the transport's.
	Err error
}

// Error says what failed and why.
func (e *Error) Error() string {
	if e.Err == nil {
		return "upstream: " + e.Details
	}
	return "upstream: " + e.Details + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// The causes of failures that happen in the pool itself.
var (
	ErrNoHealthy     = errors.New("no healthy endpoint")
	ErrOverflow      = errors.New("upstream circuit limit reached")
	ErrPerTryTimeout = errors.New("per-try timeout")
)

// failure is how one try failed, in the terms of retry_on.
type failure uint8

const (
	noFailure      failure = iota
	connectFailure         // dial or TLS handshake
	refusedStream          // HTTP/2 REFUSED_STREAM
	remoteReset            // any other stream reset the upstream sent
	reset                  // anything else after connecting
	perTryTimeout
	protocolError  // an answer that breaks HTTP or the response bounds
	requestFailure // the request's own fault: see requestFault
)

// classify sorts a transport error.
func classify(err error) failure {
	switch {
	case isConnectFailure(err):
		return connectFailure
	case isProtocolError(err):
		return protocolError
	case strings.Contains(err.Error(), "REFUSED_STREAM"):
		// The HTTP/2 stream errors' types are unexported inside net/http;
		// the code's name in the message is what is left to go by.
		return refusedStream
	case strings.Contains(err.Error(), "received from peer"):
		// The HTTP/2 transport's mark of a RST_STREAM from the upstream.
		return remoteReset
	}
	return reset
}

// isConnectFailure reports whether err happened while connecting to the
// endpoint (dial or TLS handshake), before the exchange could start.
func isConnectFailure(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return tlsFailure(err) != "" || isPeerAlert(err) || isHandshakeTimeout(err)
}

// resetText is Envoy's local reply for a try that failed before the
// response started.
const resetText = "upstream connect error or disconnect/reset before headers. "

// failed turns the last try's failure into the Error RoundTrip returns, with
// the flags a gathered on the way (URX, UO), and fills a. Status, flags,
// body and details are those of Envoy's router (Filter::onUpstreamReset):
// 503 for every reset but a protocol error's 502, the reset reason in the
// body and, with its spaces made '_', in the details, followed by the
// transport failure reason when there is one.
func failed(a *Attempt, f failure, err error) *Error {
	e := &Error{Status: http.StatusServiceUnavailable, Err: err}
	var reason, transport string
	switch f {
	case connectFailure:
		e.Flags = accesslog.UpstreamConnectionFailure
		reason, transport = connectReasons(err)
	case refusedStream:
		e.Flags, reason = accesslog.UpstreamRemoteReset, "remote refused stream reset"
	case remoteReset:
		e.Flags, reason = accesslog.UpstreamRemoteReset, "remote reset"
	case protocolError:
		e.Status, e.Flags, reason = http.StatusBadGateway, accesslog.UpstreamProtocolError, "protocol error"
	case perTryTimeout:
		e.Status, e.Flags = http.StatusGatewayTimeout, accesslog.UpstreamRequestTimeout
		e.Details, e.Body = "upstream_per_try_timeout", "upstream request timeout"
		return fill(a, e)
	default:
		e.Flags, reason = accesslog.UpstreamConnectionTermination, "connection termination"
	}
	e.Body, e.Details = resetReply(reason, transport, a.Flags&accesslog.UpstreamRetryLimitExceeded != 0)
	a.TransportFailure = transport
	return fill(a, e)
}

// resetReply returns Envoy's local reply and %RESPONSE_CODE_DETAILS% for a
// reset before the response started.
func resetReply(reason, transport string, retried bool) (body, details string) {
	body = resetText + "reset reason: " + reason
	if retried {
		body = resetText + "retried and the latest reset reason: " + reason
	}
	details = "upstream_reset_before_response_started{" + reason
	if transport != "" {
		body += ", transport failure reason: " + transport
		details += "|" + transport
	}
	return body, strings.ReplaceAll(details+"}", " ", "_")
}

// ResetReply returns Envoy's local reply and %RESPONSE_CODE_DETAILS% for an
// exchange that reset before the response started, for reason (Envoy's
// words, such as "connection termination") with no transport failure.
func ResetReply(reason string) (body, details string) {
	return resetReply(reason, "", false)
}

// local makes the Error of a request refused inside the pool.
func local(a *Attempt, cause error) *Error {
	e := &Error{Status: http.StatusServiceUnavailable, Err: cause}
	switch cause {
	case ErrOverflow:
		e.Flags = accesslog.UpstreamOverflow
		e.Body, e.Details = resetReply("overflow", "", false)
	default:
		e.Flags = accesslog.NoHealthyUpstream
		e.Details, e.Body = "no_healthy_upstream", "no healthy upstream"
	}
	return fill(a, e)
}

func fill(a *Attempt, e *Error) *Error {
	e.Flags |= a.Flags
	a.Flags, a.Details = e.Flags, e.Details
	return e
}
