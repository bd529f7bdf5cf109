package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// handshakeTimeout stands for net/http's unexported TLS handshake timeout.
type handshakeTimeout struct{}

func (handshakeTimeout) Error() string { return "net/http: TLS handshake timeout" }
func (handshakeTimeout) Timeout() bool { return true }

func dialError(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }

// TestConnectReasons checks the reset and transport failure reasons that a
// failed connect gets, in Envoy's words; never Go's error text.
func TestConnectReasons(t *testing.T) {
	const remote, local, timeout = reasonRemoteConnectFailure, reasonLocalConnectFailure, reasonConnectTimeout
	tests := []struct {
		name              string
		err               error
		reason, transport string
	}{
		{"refused", dialError(os.NewSyscallError("connect", syscall.ECONNREFUSED)), remote, "delayed connect error: Connection refused"},
		{"host unreachable", dialError(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), remote, "delayed connect error: No route to host"},
		{"network unreachable", dialError(syscall.ENETUNREACH), remote, "delayed connect error: Network is unreachable"},
		{"reset", dialError(syscall.ECONNRESET), remote, "delayed connect error: Connection reset by peer"},
		{"kernel timeout is an errno", dialError(syscall.ETIMEDOUT), remote, "delayed connect error: Connection timed out"},
		{"no local port", dialError(syscall.EADDRNOTAVAIL), local, ""},
		{"no descriptor", dialError(syscall.EMFILE), local, ""},
		{"dial timeout", dialError(os.ErrDeadlineExceeded), timeout, ""},
		{"TLS handshake timeout", handshakeTimeout{}, timeout, ""},
		{"unknown authority", x509.UnknownAuthorityError{}, remote,
			"TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end"},
		{"wrong host name", &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "x"}}, remote,
			"TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end"},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, remote,
			"TLS_error:|268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end"},
		{"alert", tls.AlertError(42), remote, "TLS_error:|268436498:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE:TLS_error_end"},
		{"unknown alert", tls.AlertError(200), remote, ""},
		{"anything else", errors.New("something Go says"), remote, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, transport := connectReasons(tt.err)
			if reason != tt.reason || transport != tt.transport {
				t.Errorf("got %q, %q, want %q, %q", reason, transport, tt.reason, tt.transport)
			}
		})
	}
	if !isConnectFailure(handshakeTimeout{}) || !isConnectFailure(tls.AlertError(116)) {
		t.Error("a TLS handshake timeout or a peer's alert is not a connect failure")
	}
}

// TestFailedReplies checks each failure's status, flags, local reply and
// details against Envoy's router: 503 for every reset but a protocol
// error's 502, the transport failure reason after the reset reason.
func TestFailedReplies(t *testing.T) {
	const before = "upstream connect error or disconnect/reset before headers. "
	refused := dialError(syscall.ECONNREFUSED)
	tests := []struct {
		name      string
		f         failure
		err       error
		retried   bool
		status    int
		flags     accesslog.Flags
		body      string
		details   string
		transport string
	}{
		{"connect failure", connectFailure, refused, false, 503, accesslog.UpstreamConnectionFailure,
			before + "reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
			"upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
			"delayed connect error: Connection refused"},
		{"connect failures retried", connectFailure, refused, true, 503,
			accesslog.UpstreamConnectionFailure | accesslog.UpstreamRetryLimitExceeded,
			before + "retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused",
			"upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
			"delayed connect error: Connection refused"},
		{"connect timeout", connectFailure, dialError(os.ErrDeadlineExceeded), false, 503, accesslog.UpstreamConnectionFailure,
			before + "reset reason: connection timeout", "upstream_reset_before_response_started{connection_timeout}", ""},
		{"refused stream", refusedStream, errors.New("REFUSED_STREAM"), false, 503, accesslog.UpstreamRemoteReset,
			before + "reset reason: remote refused stream reset", "upstream_reset_before_response_started{remote_refused_stream_reset}", ""},
		{"remote reset", classify(errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer")), nil, false, 503,
			accesslog.UpstreamRemoteReset, before + "reset reason: remote reset", "upstream_reset_before_response_started{remote_reset}", ""},
		{"connection termination", reset, errors.New("EOF"), false, 503, accesslog.UpstreamConnectionTermination,
			before + "reset reason: connection termination", "upstream_reset_before_response_started{connection_termination}", ""},
		{"protocol error", protocolError, ErrProtocol, false, 502, accesslog.UpstreamProtocolError,
			before + "reset reason: protocol error", "upstream_reset_before_response_started{protocol_error}", ""},
		{"per-try timeout", perTryTimeout, ErrPerTryTimeout, false, 504, accesslog.UpstreamRequestTimeout,
			"upstream request timeout", "upstream_per_try_timeout", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Attempt{}
			if tt.retried {
				a.Flags = accesslog.UpstreamRetryLimitExceeded
			}
			e := failed(a, tt.f, tt.err)
			if e.Status != tt.status || e.Flags != tt.flags || e.Body != tt.body || e.Details != tt.details {
				t.Errorf("got %d %v %q %q,\nwant %d %v %q %q", e.Status, e.Flags, e.Body, e.Details, tt.status, tt.flags, tt.body, tt.details)
			}
			if a.TransportFailure != tt.transport || a.Details != e.Details {
				t.Errorf("got attempt %q %q, want %q %q", a.TransportFailure, a.Details, tt.transport, e.Details)
			}
		})
	}
	if e := local(&Attempt{}, ErrNoHealthy); e.Status != http.StatusServiceUnavailable || e.Body != "no healthy upstream" {
		t.Errorf("no healthy endpoint: got %d %q, want 503 %q", e.Status, e.Body, "no healthy upstream")
	}
}
