package upstream

import (
	"errors"
	"net/http"
	"strings"
)

// The bounds on what an upstream may answer, Envoy's defaults
// (max_response_headers_kb, max_response_headers_count). Go's transports
// allow 10 MB of response header and any number of fields; an upstream,
// or whoever took it over, could otherwise make the gateway hold and pass
// on as much.
const (
	// MaxResponseHeaderBytes bounds a response's header block: the HTTP/1
	// status line and fields, or the HTTP/2 header list (the transport
	// announces it as SETTINGS_MAX_HEADER_LIST_SIZE).
	MaxResponseHeaderBytes = 60 << 10
	// MaxResponseHeaders bounds the number of header field values of a
	// response, informational ones included.
	MaxResponseHeaders = 100
	// MaxInformational bounds the 1xx responses relayed before the final
	// one: enough for 100 Continue and a few 103 Early Hints.
	MaxInformational = 10
)

// ErrProtocol is the cause of an upstream answer the gateway refuses: a
// status outside 100-599, too many header fields, or one that the
// transport could not parse or found too large.
var ErrProtocol = errors.New("upstream protocol error")

// checkResponse reports whether a response from an upstream is one the
// gateway may pass on: a status of three digits from 100 to 599, and no more
// than MaxResponseHeaders field values. The transports bound the header's
// size; they parse any three-digit status (HTTP/2 any number).
func checkResponse(resp *http.Response) error {
	switch {
	case resp.StatusCode < 100 || resp.StatusCode > 599:
		return errors.Join(ErrProtocol, errors.New("invalid status "+resp.Status))
	case HeaderCount(resp.Header) > MaxResponseHeaders:
		return errors.Join(ErrProtocol, errors.New("too many response header fields"))
	}
	return nil
}

// HeaderCount returns the number of field values in h.
func HeaderCount(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

// protocolErrors are the words the transports' errors for a malformed or
// oversized response header use; their error types are unexported inside
// net/http, so the text is what is left to go by.
var protocolErrors = []string{
	"malformed HTTP",                   // HTTP/1 status line, version or header
	"server response headers exceeded", // HTTP/1 MaxResponseHeaderBytes
	"header list larger than",          // HTTP/2 MAX_HEADER_LIST_SIZE
	"header list too large",            // HTTP/2 informational headers
	"malformed response from server",   // HTTP/2 :status
	"invalid header field",             // HTTP/2 field name or value
	"informational response with END_STREAM",
	"connection error: COMPRESSION_ERROR", // HTTP/2 field longer than the list
	"connection error: PROTOCOL_ERROR",
	"too many 1xx",
}

// isProtocolError reports whether err says the upstream's answer could
// not be parsed or broke a bound.
func isProtocolError(err error) bool {
	if errors.Is(err, ErrProtocol) {
		return true
	}
	msg := err.Error()
	for _, s := range protocolErrors {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
