package egress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sync/singleflight"
)

// Errors a lookup wraps, so that the proxy can say why it answers 502.
var (
	ErrNXDomain   = errors.New("no such host (NXDOMAIN)")
	ErrNoData     = errors.New("no A or AAAA records")
	ErrServFail   = errors.New("DNS server failure")
	ErrDNSTimeout = errors.New("DNS timeout")
)

// Defaults of ResolverConfig.
const (
	DefaultDNSTimeout  = 5 * time.Second
	DefaultMinTTL      = 5 * time.Second
	DefaultMaxTTL      = 5 * time.Minute
	DefaultNegativeTTL = 30 * time.Second
	DefaultCacheSize   = 4096
	resolvConfPath     = "/etc/resolv.conf"
)

// ResolverConfig configures a Resolver; zero fields take the defaults.
type ResolverConfig struct {
	// Server is the DNS server asked, over UDP and over TCP when an answer
	// is truncated. Zero means the first nameserver of /etc/resolv.conf.
	Server netip.AddrPort
	// Timeout bounds one lookup, both families and every attempt.
	Timeout time.Duration
	// MinTTL and MaxTTL clamp the time an answer is kept; a record's TTL
	// of 0 still keeps it MinTTL, so that one name cannot make the gateway
	// ask the server for every connection. A negative MinTTL means 0.
	MinTTL, MaxTTL time.Duration
	// NegativeTTL bounds how long NXDOMAIN and empty answers are kept
	// (RFC 2308: the SOA's TTL and minimum, whichever is lower).
	NegativeTTL time.Duration
	// Size bounds the number of names cached.
	Size int
}

// Resolver looks up A and AAAA records itself, with a cache of its own, so
// that the gateway knows every address a name has and when it changes. It
// never applies search domains: the name asked is the name looked up.
type Resolver struct {
	cfg    ResolverConfig
	cache  *expirable.LRU[string, cacheEntry]
	flight singleflight.Group
	now    func() time.Time
}

// cacheEntry is one lookup's outcome and when it stops counting.
type cacheEntry struct {
	addrs   []netip.Addr
	err     error
	expires time.Time
}

// NewResolver checks cfg, fills in its defaults and returns a Resolver.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if !cfg.Server.IsValid() {
		server, err := nameserverFromFile(resolvConfPath)
		if err != nil {
			return nil, err
		}
		cfg.Server = server
	}
	if cfg.Server.Port() == 0 {
		return nil, fmt.Errorf("resolver %s: port 0", cfg.Server)
	}
	cfg.Timeout = cmpDefault(cfg.Timeout, DefaultDNSTimeout)
	if cfg.MinTTL == 0 {
		cfg.MinTTL = DefaultMinTTL
	}
	cfg.MinTTL = max(cfg.MinTTL, 0)
	cfg.MaxTTL = cmpDefault(cfg.MaxTTL, DefaultMaxTTL)
	cfg.NegativeTTL = cmpDefault(cfg.NegativeTTL, DefaultNegativeTTL)
	if cfg.Size <= 0 {
		cfg.Size = DefaultCacheSize
	}
	if cfg.MinTTL > cfg.MaxTTL {
		return nil, fmt.Errorf("resolver: min TTL %s above max TTL %s", cfg.MinTTL, cfg.MaxTTL)
	}
	// Entries expire by their own TTL, checked on each read; the cache's
	// own sweep stays off (TTL 0) because golang-lru v2 cannot stop its
	// sweeping goroutine, and a resolver rebuilt on reload would leak one.
	// Expired entries left unread go as the LRU bound pushes them out.
	return &Resolver{
		cfg:   cfg,
		cache: expirable.NewLRU[string, cacheEntry](cfg.Size, nil, 0),
		now:   time.Now,
	}, nil
}

func cmpDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Server returns the address of the DNS server the resolver asks.
func (r *Resolver) Server() netip.AddrPort { return r.cfg.Server }

// Lookup returns the addresses of name, A records first, at most 32 of
// each family in the server's order (maxAddrsPerType). The name is put
// in canonical form first (CanonicalHost); an IP literal in any accepted
// spelling is its own answer and is never asked of the server. Lookup
// answers from the cache while the answer's TTL lasts, and lookups of one
// name at once share one query. The error wraps ErrNXDomain, ErrNoData,
// ErrServFail or ErrDNSTimeout, or ErrInvalidHost for a name refused
// before any query.
func (r *Resolver) Lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	h, err := CanonicalHost(name)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	if h.IsIP() { // never a query: see CanonicalHost
		return []netip.Addr{h.Addr()}, nil
	}
	name = h.Name()
	if e, ok := r.cache.Get(name); ok {
		if r.now().Before(e.expires) {
			return slices.Clone(e.addrs), e.err
		}
		r.cache.Remove(name)
	}
	ch := r.flight.DoChan(name, func() (any, error) {
		// The shared query outlives a caller that gives up: others wait.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Timeout)
		defer cancel()
		e := r.resolve(qctx, name)
		if !e.expires.IsZero() {
			r.cache.Add(name, e)
		}
		return e, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("resolve %q: %w", name, ctx.Err())
	case res := <-ch:
		e := res.Val.(cacheEntry)
		return slices.Clone(e.addrs), e.err
	}
}

// resolve asks for A and AAAA at once and merges the answers. Any address
// makes a success, kept for the lowest TTL among the answers, even if the
// other family failed (its addresses are then neither known nor dialled);
// otherwise an NXDOMAIN or an empty answer is kept for its negative TTL; a
// failure or timeout is not kept at all.
func (r *Resolver) resolve(ctx context.Context, name string) cacheEntry {
	type result struct {
		answer
		err error
	}
	var byType [2]result // A, then AAAA
	var wg sync.WaitGroup
	for i, qtype := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		wg.Go(func() {
			a, err := query(ctx, r.cfg.Server, name, qtype)
			byType[i] = result{a, err}
		})
	}
	wg.Wait()
	var addrs []netip.Addr
	ttl, negTTL := r.cfg.MaxTTL, r.cfg.NegativeTTL
	nx := 0
	var firstErr error
	for _, res := range byType {
		switch {
		case res.err != nil:
			if firstErr == nil {
				firstErr = res.err
			}
		case res.rcode == dnsmessage.RCodeNameError:
			nx++
			negTTL = min(negTTL, res.negTTL)
		case len(res.addrs) == 0:
			negTTL = min(negTTL, res.negTTL)
		default:
			addrs = append(addrs, res.addrs...)
			ttl = min(ttl, res.ttl)
		}
	}
	now := r.now()
	switch {
	case len(addrs) > 0:
		return cacheEntry{addrs: dedupe(addrs), expires: now.Add(max(ttl, r.cfg.MinTTL))}
	case firstErr != nil:
		return cacheEntry{err: fmt.Errorf("resolve %q: %w", name, firstErr)}
	case nx > 0:
		return cacheEntry{err: fmt.Errorf("resolve %q: %w", name, ErrNXDomain), expires: now.Add(min(max(negTTL, r.cfg.MinTTL), r.cfg.NegativeTTL))}
	default:
		return cacheEntry{err: fmt.Errorf("resolve %q: %w", name, ErrNoData), expires: now.Add(min(max(negTTL, r.cfg.MinTTL), r.cfg.NegativeTTL))}
	}
}

func dedupe(addrs []netip.Addr) []netip.Addr {
	out := addrs[:0:0]
	for _, a := range addrs {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// nameserverFromFile returns the first nameserver of a resolv.conf file,
// on port 53.
func nameserverFromFile(path string) (netip.AddrPort, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolver: %w", err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		addr, err := netip.ParseAddr(fields[1])
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%s:%d: nameserver %q: %w", path, i+1, fields[1], err)
		}
		return netip.AddrPortFrom(addr, 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("resolver: %s names no nameserver", path)
}
