package upstream

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// Resolver looks up a name's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options are what a pool needs beyond its definition.
type Options struct {
	Log zerolog.Logger
	// Resolver resolves endpoint names; nil means net.DefaultResolver.
	Resolver Resolver
	// Observer receives the pool's events for metrics; nil means none.
	Observer Observer
	// Transport, when set, builds the one RoundTripper of every endpoint;
	// nil means the pool builds http.Transports from the definition.
	Transport func(spec *routes.UpstreamSpec) (http.RoundTripper, error)
	// Identity is the gateway's SPIFFE identity, which an upstream in tls
	// mode mutual presents and verifies with; nil without one.
	Identity *identity.Identity
}

// Pool is the runtime side of one upstream definition: its endpoints, their
// health, the balancer's state, the circuit limits and the connections.
// Its methods are safe for concurrent use.
type Pool struct {
	spec     *routes.UpstreamSpec
	log      zerolog.Logger
	obs      Observer
	resolver Resolver
	scheme   string
	cluster  string
	balancer int
	hash     hashPolicy
	outlier  *routes.OutlierDetection
	targets  []target
	closers  []http.RoundTripper // transports whose idle connections Close closes

	set     atomic.Pointer[endpointSet]
	next    atomic.Uint64
	rnd     random
	active  atomic.Int64 // requests in progress
	retries atomic.Int64 // retries in progress
	dials   atomic.Int64 // connections being dialled
	pending bool         // whether dials counts: only for built transports

	resolved     chan struct{} // closed once every name was looked up once
	resolvedOnce sync.Once
	logEvery     time.Duration // the least time between warnings about one name
	started      atomic.Bool

	mu     sync.Mutex
	byAddr map[string]*endpoint
	state  int                // stateNew, stateStarted, stateClosed
	cancel context.CancelFunc // ends the goroutines Start began
	wg     sync.WaitGroup
}

const (
	stateNew = iota
	stateStarted
	stateClosed
)

// target is one endpoint as the file writes it: an IP literal, which is an
// endpoint as it is, or a name that stands for the addresses it resolves to.
type target struct {
	host   string // without brackets
	port   uint16
	name   string // host:port as written
	weight int
	ip     netip.Addr // valid for a literal
	rt     http.RoundTripper
	// builtin marks the in-process endpoint, which is never resolved.
	builtin bool
	// dns is what the lookups of a name found; nil for a literal.
	dns *nameState
}

// static returns the target's address when it needs no lookup.
func (t *target) static() (string, bool) {
	switch {
	case t.builtin:
		return t.name, true
	case t.ip.IsValid():
		return netip.AddrPortFrom(t.ip, t.port).String(), true
	}
	return "", false
}

// New builds the pool for one upstream definition, which the routes loader
// has validated and filled with defaults. It starts nothing: names are
// first resolved by Start.
func New(spec *routes.UpstreamSpec, opts Options) (*Pool, error) {
	p := &Pool{
		spec:     spec,
		log:      opts.Log.With().Str("upstream", spec.Name).Logger(),
		obs:      opts.Observer,
		resolver: opts.Resolver,
		scheme:   "http",
		cluster:  clusterName(spec),
		hash:     newHashPolicy(spec.Hash),
		outlier:  spec.Outlier,
		resolved: make(chan struct{}),
		logEvery: logEvery,
		byAddr:   make(map[string]*endpoint),
	}
	if p.obs == nil {
		p.obs = nopObserver{}
	}
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	if spec.TLS != nil {
		p.scheme = "https"
	}
	switch spec.Balancer {
	case "least_request":
		p.balancer = leastRequest
	case "ring_hash":
		p.balancer = ringHash
	}
	p.rnd.state.Store(rand.Uint64())
	if err := p.buildTargets(spec, opts.Transport, opts.Identity); err != nil {
		p.Close()
		return nil, fmt.Errorf("upstream %q: %w", spec.Name, err)
	}
	var static []wanted
	names := false
	for i := range p.targets {
		t := &p.targets[i]
		if addr, ok := t.static(); ok {
			static = append(static, wanted{t, addr})
		} else {
			names = true
		}
	}
	p.apply(context.Background(), static)
	if !names {
		p.resolvedOnce.Do(func() { close(p.resolved) })
	}
	return p, nil
}

// clusterName is the upstream's name in Istio's form, outbound|port||host,
// for the access log: host is the Service's name in DNS for an upstream
// that is a cluster Service, as Istio names the clusters of Services, and
// the upstream's name otherwise; port is the first endpoint's.
func clusterName(spec *routes.UpstreamSpec) string {
	service := cmp.Or(spec.ServiceHost, spec.Name)
	port := "80"
	if eps := addresses(spec); len(eps) > 0 {
		if _, p, err := net.SplitHostPort(eps[0].Address); err == nil {
			port = p
		}
	}
	return "outbound|" + port + "||" + service
}

// Cluster returns the upstream's Istio-style cluster name,
// outbound|port||host.
func (p *Pool) Cluster() string { return p.cluster }

// addresses returns the definition's endpoints with their weights, from
// EndpointList as the loader fills it, or from Endpoints for a definition
// built in code.
func addresses(spec *routes.UpstreamSpec) []routes.Endpoint {
	if spec.EndpointList != nil {
		return spec.EndpointList
	}
	eps := make([]routes.Endpoint, len(spec.Endpoints))
	for i, a := range spec.Endpoints {
		eps[i] = routes.Endpoint{Address: a, Weight: 1}
	}
	return eps
}

// buildTargets parses the endpoints and gives each its RoundTripper: one
// per TLS server name, since SNI is set per transport.
func (p *Pool) buildTargets(spec *routes.UpstreamSpec, custom func(*routes.UpstreamSpec) (http.RoundTripper, error), id *identity.Identity) error {
	var shared http.RoundTripper
	if custom != nil {
		rt, err := custom(spec)
		if err != nil {
			return err
		}
		shared = rt
		p.closers = append(p.closers, rt)
	}
	if spec.Builtin == "echo" {
		if shared == nil {
			shared = Echo{}
		}
		p.targets = []target{{host: "echo.builtin", port: 80, name: "echo.builtin:80", weight: 1, rt: shared, builtin: true}}
		p.balancer = roundRobin
		return nil
	}
	p.pending = shared == nil
	byName := map[string]http.RoundTripper{}
	for i, ep := range addresses(spec) {
		host, portText, err := net.SplitHostPort(ep.Address)
		port, perr := strconv.ParseUint(portText, 10, 16)
		if err != nil || perr != nil || host == "" || port == 0 {
			return fmt.Errorf("endpoint %d: %q is not host:port", i, ep.Address)
		}
		t := target{host: host, port: uint16(port), name: ep.Address, weight: max(ep.Weight, 1), rt: shared}
		if ip, err := netip.ParseAddr(host); err == nil {
			t.ip = ip.Unmap()
		} else {
			t.dns = &nameState{}
		}
		if t.rt == nil {
			sni := ""
			if spec.TLS != nil {
				sni = spec.TLS.ServerName
				if sni == "" && !t.ip.IsValid() {
					sni = host
				}
			}
			if t.rt = byName[sni]; t.rt == nil {
				rt, err := newTransport(spec, sni, &p.dials, id)
				if err != nil {
					return err
				}
				byName[sni], t.rt = rt, rt
				p.closers = append(p.closers, rt)
			}
		}
		p.targets = append(p.targets, t)
	}
	return nil
}
