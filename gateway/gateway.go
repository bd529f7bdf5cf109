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
	"cmp"
	"fmt"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
	"github.com/portcullis-gw/portcullis/routes"
)

// Gateway serves requests against its current configuration snapshot.
type Gateway struct {
	snap    atomic.Pointer[snapshot]
	log     zerolog.Logger
	metrics *metrics.Metrics
	// upstreamMetrics gives each pool its metrics observer.
	upstreamMetrics *metrics.Upstreams
	rp              *httputil.ReverseProxy
	// egress carries the forward_proxy listeners' tunnels and requests;
	// egressDone closes when the drain timeout has passed, ending tunnels.
	egress        *egress.Proxy
	egressMetrics *metrics.Egress
	egressDone    chan struct{}
	egressOnce    sync.Once
	// egressGuard refuses internal addresses and the gateway's own
	// listeners; Start and each reload renew it with their addresses.
	egressGuard atomic.Pointer[egress.Guard]

	opts Options

	ready atomic.Bool
	// inflight counts requests being served, upgraded tunnels included.
	inflight atomic.Int64
	// mu guards the listener set, which Start, Reload and Shutdown change.
	mu        sync.Mutex
	listeners []*listener
	closed    bool
	status    ReloadStatus
	admin     *adminServer
	wg        sync.WaitGroup
	// wl is the Workload API source of the identity in force, or nil;
	// guarded by mu.
	wl *workloadSource
}

// Options are what a Gateway needs besides its configuration.
type Options struct {
	// Log receives the gateway's own events (not the access log).
	Log zerolog.Logger
	// AccessLog writes the first configuration's access log, in place of
	// the one its access_log describes; nil opens that one. The gateway
	// owns it from then on, even when New fails: a reload that changes
	// access_log opens the new log and closes this one once the requests
	// that use it have ended, and Shutdown closes the one in force.
	AccessLog *accesslog.Logger
	// Metrics records every request; nil means a fresh set.
	Metrics *metrics.Metrics
	// Version is the gateway's version, which /config and the build
	// metrics show, so that they say what the binary says; empty means
	// the main module's version as the go command stamped it.
	Version string
	// DrainTimeout bounds how long a listener that is removed, replaced
	// or shut down waits for its in-flight requests. Zero means 30s.
	DrainTimeout time.Duration
	// Resolver looks up upstream endpoint names; nil means the system's.
	Resolver upstream.Resolver
	// EgressDial dials the forward proxy's destinations; nil means the
	// address guard's dialer, with the resolver the egress block's dns
	// describes and a guard that knows the gateway's own listeners.
	EgressDial egress.DialFunc
	// TCPReportEvery is how often the TCP byte metrics count what open
	// tunnels carried, as Istio's tcp_reporting_duration; zero means
	// egress.DefaultReportEvery (15s).
	TCPReportEvery time.Duration
	// WorkloadAPIWait bounds the wait for the first SVID of an identity
	// from the SPIFFE Workload API, at start and when a reload names
	// another socket. Zero means 15s, Envoy's initial_fetch_timeout for
	// the secrets its SDS client waits for.
	WorkloadAPIWait time.Duration
	// WorkloadAPIRetry is the longest wait between two attempts to reach
	// the Workload API after its stream broke; the first comes after
	// 250ms at most, and each next waits twice as long. Zero means 30s,
	// go-spiffe's longest.
	WorkloadAPIRetry time.Duration
}

// New builds a gateway serving cfg. It starts nothing: Start opens the
// listeners, Reload puts a new configuration in force, and Drain or Shutdown
// ends it.
func New(cfg *routes.Config, opts Options) (*Gateway, error) {
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	opts.WorkloadAPIWait = cmp.Or(opts.WorkloadAPIWait, 15*time.Second)
	opts.WorkloadAPIRetry = cmp.Or(opts.WorkloadAPIRetry, 30*time.Second)
	g := &Gateway{log: opts.Log, metrics: opts.Metrics, opts: opts}
	if g.opts.Version == "" {
		g.opts.Version = metrics.BuildVersion()
	}
	if g.metrics == nil {
		g.metrics = metrics.NewVersion(g.opts.Version)
	}
	g.upstreamMetrics = metrics.NewUpstreams(g.metrics.Registry())
	g.egressMetrics = metrics.NewEgress(g.metrics.Registry())
	g.egressDone = make(chan struct{})
	g.egress = &egress.Proxy{Dial: opts.EgressDial, Limiter: egress.NewLimiter(), Pool: egress.NewPool(), Done: g.egressDone,
		Opened: g.tunnelOpened, Progress: g.tunnelProgress, ReportEvery: opts.TCPReportEvery}
	if g.egress.Dial == nil {
		g.egress.Dial = g.dialEgress
	}
	var seed *snapshot
	if opts.AccessLog != nil {
		// It stands for a configuration before this one that had the
		// same access_log, so the new snapshot takes its logger.
		seed = &snapshot{cfg: cfg, access: &sharedLog{Logger: opts.AccessLog}}
	}
	id, src, err := g.identityFor(cfg)
	if err != nil {
		if opts.AccessLog != nil {
			opts.AccessLog.Close()
		}
		return nil, fmt.Errorf("identity: %w", err)
	}
	s, err := g.newSnapshot(cfg, id, seed)
	if err != nil {
		if src != nil {
			src.close()
		}
		return nil, fmt.Errorf("build configuration: %w", err)
	}
	g.snap.Store(s)
	g.egress.Policies = egress.NewPolicies(s.egress)
	g.useSource(src)
	// The first load is the first successful one, for /config and the
	// metrics alike; generation 0 is the configuration loaded at start.
	g.status = ReloadStatus{Time: time.Now(), OK: true, Source: cfg.Source}
	g.metrics.Loaded()
	g.rp = g.newReverseProxy()
	g.metrics.WatchIdentity(g.identityExpiry)
	return g, nil
}

// Config returns the configuration in force.
func (g *Gateway) Config() *routes.Config { return g.snap.Load().cfg }

// ReopenAccessLog reopens the access log in force at its path, as a log
// rotator asks after renaming the file (SIGUSR1).
func (g *Gateway) ReopenAccessLog() error {
	s := g.acquire()
	defer g.release(s)
	return s.access.Reopen()
}

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *metrics.Metrics { return g.metrics }
