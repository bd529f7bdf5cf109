package gateway

import (
	"context"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
)

// relay1xx bounds the 1xx responses the proxy relays from an upstream.
// net/http leaves the count to whoever observes them, and the proxy relays
// every one: an upstream could send the client 1xx responses without end.
type relay1xx struct {
	// informational counts the 1xx responses relayed; badInformational
	// is set when one broke the bounds and the exchange was cancelled.
	informational    int
	badInformational bool
	// cancel ends the upstream exchange; nil outside the proxy.
	cancel context.CancelFunc
}

// relayInformational reports whether a 1xx response may be passed on. One
// past upstream.MaxInformational, or with too many header fields, ends the
// exchange instead: the proxy then answers 502 UPE.
func (w *responseWriter) relayInformational() bool {
	w.informational++
	if w.informational <= upstream.MaxInformational && upstream.HeaderCount(w.Header()) <= upstream.MaxResponseHeaders {
		return true
	}
	clear(w.Header())
	if !w.badInformational && w.cancel != nil {
		w.badInformational = true
		w.cancel()
	}
	return false
}

// The local reply for an upstream answer that breaks HTTP or the response
// bounds, as Envoy words it.
const (
	upstreamProtocolErrorText    = "upstream connect error or disconnect/reset before headers. reset reason: protocol error"
	upstreamProtocolErrorDetails = "upstream_reset_before_response_started{protocol_error}"
)
