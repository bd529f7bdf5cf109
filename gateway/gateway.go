// Package gateway is the data plane: it composes the listeners, the route
// table, the plugin chains, the upstream pools, the access log and the
// metrics into one server.
//
// The running configuration is an immutable snapshot behind an atomic
// pointer. A request loads the snapshot once, at its start, and uses that one
// snapshot to the end, so a configuration swap never mixes two versions in
// one request.
package gateway

import (
	"fmt"
	"net"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/admin"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// Gateway serves requests against its current configuration snapshot.
type Gateway struct {
	snap    atomic.Pointer[snapshot]
	log     zerolog.Logger
	access  *accesslog.Logger
	metrics *metrics.Metrics
	// upstreamMetrics gives each pool its metrics observer.
	upstreamMetrics *metrics.Upstreams
	rp              *httputil.ReverseProxy

	opts Options

	ready atomic.Bool
	// inflight counts requests being served, upgraded tunnels included.
	inflight atomic.Int64
	// mu guards the listener set, which Start, Reload and Shutdown change.
	mu        sync.Mutex
	listeners []*listener
	closed    bool
	status    ReloadStatus
	admin     *admin.Server
	adminLn   net.Listener
	wg        sync.WaitGroup
}

// Options are what a Gateway needs besides its configuration.
type Options struct {
	// Log receives the gateway's own events (not the access log).
	Log zerolog.Logger
	// AccessLog writes one line per request; nil writes none.
	AccessLog *accesslog.Logger
	// Metrics records every request; nil means a fresh set.
	Metrics *metrics.Metrics
	// DrainTimeout bounds how long a listener that is removed, replaced
	// or shut down waits for its in-flight requests. Zero means 30s.
	DrainTimeout time.Duration
	// Resolver looks up upstream endpoint names; nil means the system's.
	Resolver upstream.Resolver
}

// New builds a gateway serving cfg. It starts nothing: Start opens the
// listeners, Reload puts a new configuration in force, and Drain or Shutdown
// ends it.
func New(cfg *routes.Config, opts Options) (*Gateway, error) {
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	g := &Gateway{log: opts.Log, access: opts.AccessLog, metrics: opts.Metrics, opts: opts}
	if g.metrics == nil {
		g.metrics = metrics.New()
	}
	g.upstreamMetrics = metrics.NewUpstreams(g.metrics.Registry())
	s, err := g.newSnapshot(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("build configuration: %w", err)
	}
	g.snap.Store(s)
	g.rp = g.newReverseProxy()
	g.metrics.WatchIdentity(g.identityExpiry)
	return g, nil
}

// Config returns the configuration in force.
func (g *Gateway) Config() *routes.Config { return g.snap.Load().cfg }

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *metrics.Metrics { return g.metrics }
