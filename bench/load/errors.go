package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/quic-go/quic-go"
)

// statusError is an answer with a status of 400 or more, or one other
// than the status expected: the request got through, but it is not a
// success a load figure may count.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

// connectError is a forward proxy's refusal of a CONNECT.
type connectError struct{ code int }

func (e *connectError) Error() string { return fmt.Sprintf("CONNECT answered %d", e.code) }

// checkStatus judges an answer's status: with expect zero any status below
// 400 counts, else only expect does.
func checkStatus(code, expect int) error {
	if (expect == 0 && code >= 400) || (expect != 0 && code != expect) {
		return &statusError{code: code}
	}
	return nil
}

// classify names the kind of a failed request, so the report can tell a
// proxy that refuses connections from one that answers 502.
func classify(err error) string {
	var se *statusError
	var ce *connectError
	var ne net.Error
	var op *net.OpError
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var appErr *quic.ApplicationError
	var transportErr *quic.TransportError
	var idle *quic.IdleTimeoutError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("status_%d", se.code)
	case errors.As(err, &ce):
		return fmt.Sprintf("connect_%d", ce.code)
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "fd_limit"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken_pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_local_port"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &idle):
		return "timeout"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &alert), errors.As(err, &rec), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return "tls"
	case errors.As(err, &appErr), errors.As(err, &transportErr):
		return "quic"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &op) && op.Op == "dial":
		return "connect"
	case strings.Contains(err.Error(), "malformed"), strings.Contains(err.Error(), "protocol"):
		return "protocol"
	}
	return "other"
}
