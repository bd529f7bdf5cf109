package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"github.com/portcullis-gw/portcullis/routes/identity"
)

// The reset reasons of a failed connect, in Envoy's words
// (Http::Utility::resetReasonToString).
const (
	reasonRemoteConnectFailure = "remote connection failure"
	reasonLocalConnectFailure  = "local connection failure"
	reasonConnectTimeout       = "connection timeout"
)

// connectReasons says why a connect failed as Envoy would: its reset reason
// and its transport failure reason, the text Envoy's connection or TLS
// socket gives (ConnectionImpl's "delayed connect error: …", with the C
// library's wording of the errno, and the TLS socket's BoringSSL error
// queue). The transport failure reason is empty where Envoy's would be, or
// where Go's error has no counterpart that can be named faithfully: a Go
// error's text never stands in for Envoy's.
func connectReasons(err error) (reason, transport string) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if localErrno(errno) {
			return reasonLocalConnectFailure, ""
		}
		return reasonRemoteConnectFailure, "delayed connect error: " + strerror(errno)
	}
	if t := tlsFailure(err); t != "" {
		return reasonRemoteConnectFailure, t
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		// The dialer's timeout, or the TLS handshake's: both are within
		// Envoy's connect_timeout, which ends at the handshake.
		return reasonConnectTimeout, ""
	}
	return reasonRemoteConnectFailure, ""
}

// localErrno reports whether a connect failed on this host before any
// packet left it: no port or descriptor to be had.
func localErrno(e syscall.Errno) bool {
	switch e {
	case syscall.EADDRNOTAVAIL, syscall.EADDRINUSE, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
		return true
	}
	return false
}

// strerror is the C library's text for e, which Envoy prints: Go's is the
// same but for the capital.
func strerror(e syscall.Errno) string {
	s := e.Error()
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// BoringSSL's packed error codes (ERR_PACK(ERR_LIB_SSL, reason)) and reason
// names for the TLS failures Go can tell apart.
const (
	libSSL                 = 16 << 24
	reasonVerifyFailed     = 125
	reasonWrongVersion     = 247
	reasonAlertBase        = 1000 // plus the alert's number
	nameVerifyFailed       = "CERTIFICATE_VERIFY_FAILED"
	nameWrongVersionNumber = "WRONG_VERSION_NUMBER"
)

// alertNames are BoringSSL's reason names for the alerts a peer sends
// (SSL_R_SSLV3_ALERT_* and SSL_R_TLSV1_ALERT_*, 1000 + the alert).
var alertNames = map[uint8]string{
	0: "SSLV3_ALERT_CLOSE_NOTIFY", 10: "SSLV3_ALERT_UNEXPECTED_MESSAGE",
	20: "SSLV3_ALERT_BAD_RECORD_MAC", 21: "TLSV1_ALERT_DECRYPTION_FAILED",
	22: "TLSV1_ALERT_RECORD_OVERFLOW", 30: "SSLV3_ALERT_DECOMPRESSION_FAILURE",
	40: "SSLV3_ALERT_HANDSHAKE_FAILURE", 41: "SSLV3_ALERT_NO_CERTIFICATE",
	42: "SSLV3_ALERT_BAD_CERTIFICATE", 43: "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
	44: "SSLV3_ALERT_CERTIFICATE_REVOKED", 45: "SSLV3_ALERT_CERTIFICATE_EXPIRED",
	46: "SSLV3_ALERT_CERTIFICATE_UNKNOWN", 47: "SSLV3_ALERT_ILLEGAL_PARAMETER",
	48: "TLSV1_ALERT_UNKNOWN_CA", 49: "TLSV1_ALERT_ACCESS_DENIED",
	50: "TLSV1_ALERT_DECODE_ERROR", 51: "TLSV1_ALERT_DECRYPT_ERROR",
	60: "TLSV1_ALERT_EXPORT_RESTRICTION", 70: "TLSV1_ALERT_PROTOCOL_VERSION",
	71: "TLSV1_ALERT_INSUFFICIENT_SECURITY", 80: "TLSV1_ALERT_INTERNAL_ERROR",
	86: "TLSV1_ALERT_INAPPROPRIATE_FALLBACK", 90: "TLSV1_ALERT_USER_CANCELLED",
	100: "TLSV1_ALERT_NO_RENEGOTIATION", 110: "TLSV1_ALERT_UNSUPPORTED_EXTENSION",
	111: "TLSV1_ALERT_CERTIFICATE_UNOBTAINABLE", 112: "TLSV1_ALERT_UNRECOGNIZED_NAME",
	113: "TLSV1_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE", 114: "TLSV1_ALERT_BAD_CERTIFICATE_HASH_VALUE",
	115: "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY", 116: "TLSV1_ALERT_CERTIFICATE_REQUIRED",
	120: "TLSV1_ALERT_NO_APPLICATION_PROTOCOL", 121: "TLSV1_ALERT_ECH_REQUIRED",
}

// tlsFailure returns Envoy's transport failure reason for a TLS failure, as
// its TLS socket writes the BoringSSL error: "TLS_error:|<code>:SSL
// routines:OPENSSL_internal:<REASON>:TLS_error_end". It is empty for an
// error that is not a TLS failure Go can tell apart.
func tlsFailure(err error) string {
	var cv *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var refused *identity.Refusal
	switch {
	case errors.As(err, &cv), errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &refused):
		return sslError(reasonVerifyFailed, nameVerifyFailed)
	case errors.As(err, &record):
		return sslError(reasonWrongVersion, nameWrongVersionNumber)
	}
	if a, ok := peerAlert(err); ok {
		if name, known := alertNames[a]; known {
			return sslError(reasonAlertBase+int(a), name)
		}
	}
	return ""
}

func sslError(reason int, name string) string {
	return "TLS_error:|" + strconv.Itoa(libSSL+reason) + ":SSL routines:OPENSSL_internal:" + name + ":TLS_error_end"
}

// peerAlert returns the alert a TLS peer sent: crypto/tls reports one as a
// net.OpError "remote error" holding its unexported alert type, a uint8,
// and a tls.AlertError only on QUIC.
func peerAlert(err error) (uint8, bool) {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return uint8(ae), true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	v := reflect.ValueOf(op.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return 0, false
	}
	return uint8(v.Uint()), true
}

// isPeerAlert reports whether err is an alert the TLS peer sent, which ends
// the connection before the exchange could start: a handshake the peer
// refused, or, with TLS 1.3, a client certificate it refused after the
// client's side of the handshake was done.
func isPeerAlert(err error) bool {
	_, ok := peerAlert(err)
	return ok
}

// isHandshakeTimeout reports whether err is the transport's TLS handshake
// timeout, whose type net/http does not export.
func isHandshakeTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout() && strings.Contains(err.Error(), "TLS handshake timeout")
}
