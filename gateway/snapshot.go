package gateway

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// snapshot is one configuration with everything built from it that requests
// use: the route table and one pool per upstream. It is never modified after
// it is built. Requests hold a reference while they run, so a snapshot that
// a reload retired closes its plugins only after its last request ends.
type snapshot struct {
	cfg       *routes.Config
	upstreams map[*routes.UpstreamSpec]*backend
	// source are the Istio labels every request shares: the gateway's
	// own workload.
	source metrics.Labels

	refs      atomic.Int64
	retired   atomic.Bool
	closeOnce sync.Once
}

// newSnapshot builds the runtime parts of cfg. Upstream pools of prev whose
// definition did not change are carried over, so their connections survive
// a reload.
func (g *Gateway) newSnapshot(cfg *routes.Config, prev *snapshot) (*snapshot, error) {
	s := &snapshot{
		cfg:       cfg,
		upstreams: make(map[*routes.UpstreamSpec]*backend, len(cfg.Upstreams)),
		source:    sourceLabels(&cfg.File.Workload),
	}
	for name, spec := range cfg.Upstreams {
		if u := prev.upstream(spec, cfg.Identity); u != nil {
			s.upstreams[spec] = u
			continue
		}
		u, err := g.newBackend(spec, cfg.Identity)
		if err != nil {
			s.closePools(prev)
			return nil, fmt.Errorf("upstream %q: %w", name, err)
		}
		s.upstreams[spec] = u
	}
	return s, nil
}

// start starts the health checks and name resolution of s's pools; pools
// carried over from an earlier snapshot are running already.
func (s *snapshot) start() {
	for _, u := range s.upstreams {
		u.pool.Start()
	}
}

// upstream returns s's pool for a definition equal to spec, whose files
// and identity are unchanged, or nil.
func (s *snapshot) upstream(spec *routes.UpstreamSpec, id *identity.Identity) *backend {
	if s == nil {
		return nil
	}
	for old, u := range s.upstreams {
		if old.Name == spec.Name && reflect.DeepEqual(old, spec) && u.files == filesDigest(spec, id) {
			return u
		}
	}
	return nil
}

// acquire returns the snapshot in force with a reference held for one
// request.
func (g *Gateway) acquire() *snapshot {
	for {
		s := g.snap.Load()
		s.refs.Add(1)
		if !s.retired.Load() {
			return s
		}
		g.release(s) // retired between the load and the reference: take the new one
	}
}

// release drops a request's reference; the last one out of a retired
// snapshot closes it.
func (g *Gateway) release(s *snapshot) {
	if s.refs.Add(-1) == 0 && s.retired.Load() {
		g.closeSnapshot(s)
	}
}

// retire marks s replaced by next and closes it once no request holds it.
func (g *Gateway) retire(s, next *snapshot) {
	s.closePools(next)
	s.retired.Store(true)
	if s.refs.Load() == 0 {
		g.closeSnapshot(s)
	}
}

func (g *Gateway) closeSnapshot(s *snapshot) {
	s.closeOnce.Do(func() {
		if err := s.cfg.Close(); err != nil {
			g.log.Warn().Err(err).Msg("closing the previous configuration's plugins")
		}
	})
}

// closePools closes s's pools that keep does not share: their health checks
// and name resolution stop and their idle connections close. A request
// still using one goes on to its end.
func (s *snapshot) closePools(keep *snapshot) {
	shared := map[*backend]bool{}
	if keep != nil {
		for _, u := range keep.upstreams {
			shared[u] = true
		}
	}
	for _, u := range s.upstreams {
		if !shared[u] {
			u.pool.Close()
		}
	}
}
