package gateway

import (
	"net/http"
	"strings"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// underscores is what a listener does with a request header whose name
// holds '_' (routes.Listener.HeadersWithUnderscores).
type underscores uint8

const (
	// dropUnderscores removes such headers, as nginx does by default: many
	// backends read '_' as '-', so X_Request_Id could pass for a header the
	// gateway or a plugin set or removed.
	dropUnderscores underscores = iota
	// rejectUnderscores answers 400, as Envoy's headers_with_underscores_action
	// REJECT_REQUEST does.
	rejectUnderscores
	// allowUnderscores forwards them.
	allowUnderscores
)

func parseUnderscores(s string) underscores {
	switch s {
	case "reject_request":
		return rejectUnderscores
	case "allow":
		return allowUnderscores
	}
	return dropUnderscores
}

// checkUnderscores applies the listener's policy to r's headers before
// anything reads them, and reports false when it answered the request.
func (g *Gateway) checkUnderscores(w *responseWriter, r *http.Request, ex *exchange) bool {
	policy := ex.conn.listener.underscores
	if policy == allowUnderscores {
		dropOwnedSpellings(r.Header)
		return true
	}
	for k := range r.Header {
		if strings.IndexByte(k, '_') < 0 {
			continue
		}
		if policy == rejectUnderscores {
			details := "http1.unexpected_underscore" // Envoy's codec details
			switch r.ProtoMajor {
			case 2:
				details = "http2.unexpected_underscore"
			case 3:
				details = "http3.unexpected_underscore"
			}
			g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, details)
			return false
		}
		delete(r.Header, k)
	}
	return true
}
