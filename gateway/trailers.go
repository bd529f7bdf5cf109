package gateway

import (
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// declaredTrailers checks the trailer fields a request announces (its
// Trailer header, which the server turns into r.Trailer's keys). It returns
// the details of a 400 for a name that is not a field name or names a field
// a trailer may not carry (framing, routing, authentication), or "" when all
// are fine. Such a request is refused here, since no upstream transport
// sends it.
func declaredTrailers(r *http.Request) string {
	for k := range r.Trailer {
		if !httpguts.ValidHeaderFieldName(k) {
			return "invalid_trailer_name"
		}
		if !httpguts.ValidTrailerHeader(k) {
			return "disallowed_trailer_name"
		}
	}
	return ""
}
