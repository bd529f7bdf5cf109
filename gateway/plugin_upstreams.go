package gateway

import (
	"fmt"
	"net/http"

	"github.com/portcullis-gw/portcullis/plugins"
)

var _ plugins.Upstreams = (*snapshot)(nil)

// RoundTrip sends a plugin's own request, such as an external authorizer's
// check, to the named upstream through s's pool for it: its endpoints,
// TLS, health checks and circuit limits, without the route's retries.
func (s *snapshot) RoundTrip(name string, req *http.Request) (*http.Response, error) {
	spec := s.cfg.Upstreams[name]
	u := s.upstreams[spec]
	if spec == nil || u == nil {
		closeRequestBody(req)
		return nil, fmt.Errorf("no upstream %q", name)
	}
	return u.pool.RoundTrip(req, nil)
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
