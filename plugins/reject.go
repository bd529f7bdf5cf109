package plugins

import (
	"fmt"
	"net/http"
)

// Reject is the one error value with which a plugin stops a request. The
// gateway writes it to the client once, and records Flag and Details in the
// access log.
type Reject struct {
	// Status is the HTTP status sent to the client.
	Status int
	// Body is the response body; empty means the status text.
	Body string
	// Flag is the Envoy response flag for the access log (RL, UAEX …), or
	// empty for none.
	Flag string
	// Details is the access log's response code details, such as
	// rbac_access_denied_matched_policy[none].
	Details string
	// Header holds extra response headers, such as Retry-After.
	Header http.Header
}

// Error describes the rejection for logs.
func (r *Reject) Error() string {
	if r.Details != "" {
		return fmt.Sprintf("rejected with %d: %s", r.Status, r.Details)
	}
	return fmt.Sprintf("rejected with %d", r.Status)
}
