package gateway

import (
	"fmt"

	"github.com/portcullis-gw/portcullis/routes"
)

// snapshot is one configuration with everything built from it that requests
// use: the route table and one pool per upstream. It is never modified after
// it is built.
type snapshot struct {
	cfg       *routes.Config
	upstreams map[*routes.UpstreamSpec]*upstream
}

// newSnapshot builds the runtime parts of cfg.
func newSnapshot(cfg *routes.Config) (*snapshot, error) {
	s := &snapshot{cfg: cfg, upstreams: make(map[*routes.UpstreamSpec]*upstream, len(cfg.Upstreams))}
	for name, spec := range cfg.Upstreams {
		u, err := newUpstream(spec)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("upstream %q: %w", name, err)
		}
		s.upstreams[spec] = u
	}
	return s, nil
}

// close releases the upstream pools' idle connections.
func (s *snapshot) close() {
	for _, u := range s.upstreams {
		u.close()
	}
}
