package gateway

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// snapshot is one configuration with everything built from it that requests
// use: the route table and one pool per upstream. It is never modified after
// it is built. Requests hold a reference while they run, so a snapshot that
// a reload retired closes its plugins only after its last request ends.
type snapshot struct {
	// cfg is the configuration served: loaded's, or for an identity
	// from the Workload API a copy of it that holds that identity.
	cfg *routes.Config
	// loaded is the configuration as loaded, which owns the plugins.
	// Snapshots that differ only in the Workload API's identity share
	// it, and the last of them to close closes it.
	loaded    *loadedConfig
	upstreams map[*routes.UpstreamSpec]*backend
	// source are the Istio labels every request shares: the gateway's
	// own workload.
	source metrics.Labels
	// access writes the access log as cfg's access_log says. A snapshot
	// whose access_log is the previous one's shares its logger, so a
	// reload that leaves the setting alone neither reopens the file nor
	// reorders its lines.
	access *sharedLog
	// egress is the forward_proxy listeners' rules, and resolver the
	// resolver their destinations are looked up with (nil without a
	// forward_proxy listener); a reload that keeps the egress dns block
	// keeps the resolver and its cache.
	egress   *egress.Policy
	resolver *egress.Resolver
	// xfccBy starts the gateway's x-forwarded-client-cert element,
	// made once for the identity in force (xfccBy).
	xfccBy string

	refs      atomic.Int64
	retired   atomic.Bool
	closeOnce sync.Once
}

// newSnapshot builds the runtime parts of cfg with id as the gateway's
// identity (cfg's own unless it comes from the Workload API). Upstream
// pools of prev whose definition did not change are carried over, so their
// connections survive a reload. On an error, cfg stays the caller's to
// close.
func (g *Gateway) newSnapshot(cfg *routes.Config, id *identity.Identity, prev *snapshot) (*snapshot, error) {
	s := &snapshot{
		cfg:       cfg,
		upstreams: make(map[*routes.UpstreamSpec]*backend, len(cfg.Upstreams)),
		source:    sourceLabels(&cfg.File.Workload),
		egress:    egress.Compile(cfg.File.Egress),
		xfccBy:    xfccBy(cfg.Identity),
	}
	if err := s.egress.Err(); err != nil {
		return nil, err
	}
	if id != nil {
		s.egress.ClientCert = &id.SVID.Certificate
	}
	var err error
	if s.resolver, err = egressResolver(cfg, prev); err != nil {
		return nil, err
	}
	if id != cfg.Identity {
		c := *cfg
		c.Identity = id
		s.cfg = &c
	}
	if prev != nil && prev.loaded != nil && prev.loaded.cfg == cfg {
		s.loaded = prev.loaded
	} else {
		s.loaded = &loadedConfig{cfg: cfg}
	}
	s.loaded.snapshots.Add(1)
	if prev != nil && prev.cfg.File.AccessLog == cfg.File.AccessLog {
		s.access = prev.access
	} else {
		l, err := accesslog.New(accesslog.Options{Format: cfg.File.AccessLog.Format, Text: cfg.File.AccessLog.Text, Path: cfg.File.AccessLog.Path})
		if err != nil {
			return nil, err
		}
		s.access = &sharedLog{Logger: l}
	}
	s.access.snapshots.Add(1)
	for name, spec := range cfg.Upstreams {
		if u := prev.upstream(spec, id); u != nil {
			s.upstreams[spec] = u
			continue
		}
		u, err := g.newBackend(spec, id)
		if err != nil {
			s.closePools(prev)
			s.access.release()
			s.loaded.snapshots.Add(-1)
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
		if err := s.loaded.release(); err != nil {
			g.log.Warn().Err(err).Msg("closing the previous configuration's plugins")
		}
		// The last request of s has written its line: unless a snapshot
		// still in use shares the logger, its buffer can be flushed and
		// its file closed.
		if err := s.access.release(); err != nil {
			g.log.Warn().Err(err).Msg("closing the previous access log")
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

// sharedLog is an access log and the number of snapshots that write to it:
// a request that began before two reloads writes to its own snapshot's
// log, which a later snapshot may share, so the log closes with the last
// of them.
type sharedLog struct {
	*accesslog.Logger
	snapshots atomic.Int64
}

// release drops one snapshot's hold on l and closes it after the last.
func (l *sharedLog) release() error {
	if l.snapshots.Add(-1) == 0 {
		return l.Close()
	}
	return nil
}

// loadedConfig is a configuration as loaded and the number of snapshots
// that serve it.
type loadedConfig struct {
	cfg       *routes.Config
	snapshots atomic.Int64
}

// release drops one snapshot's hold on l and closes the configuration's
// plugins after the last.
func (l *loadedConfig) release() error {
	if l.snapshots.Add(-1) == 0 {
		return l.cfg.Close()
	}
	return nil
}
