package upstream

import (
	"context"
	"net/netip"
	"slices"
	"time"
)

// maxLookup bounds one name's lookup, so that a DNS server that does not
// answer delays a refresh, not the pool forever.
const maxLookup = 5 * time.Second

// resolveLoop resolves the endpoint names now and every dns_refresh after,
// until ctx ends.
func (p *Pool) resolveLoop(ctx context.Context) {
	defer p.wg.Done()
	every := time.Duration(p.spec.DNSRefresh)
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := make([][]string, len(p.targets)) // each target's addresses
	for {
		if !p.resolve(ctx, last) {
			return
		}
		p.resolvedOnce.Do(func() { close(p.resolved) })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resolve looks every name up, updates last with the answers, and applies
// the resulting endpoints. It reports false when ctx ended.
func (p *Pool) resolve(ctx context.Context, last [][]string) bool {
	var want []wanted
	for i := range p.targets {
		t := &p.targets[i]
		if addr, ok := t.static(); ok {
			want = append(want, wanted{t, addr})
			continue
		}
		addrs, err := p.lookup(ctx, t)
		switch {
		case ctx.Err() != nil:
			return false
		case err != nil:
			// A name that does not exist has no endpoints; after any
			// other failure the last answer stands, so that a DNS
			// outage does not empty the pool.
			reason := resolveReason(err)
			if reason == ResolveNotFound {
				last[i] = nil
			}
			p.lookupFailed(t, err, reason, len(last[i]))
		default:
			last[i] = addrs
			p.lookupDone(t, len(addrs))
		}
		for _, a := range last[i] {
			want = append(want, wanted{t, a})
		}
	}
	p.apply(ctx, want)
	return true
}

// lookup returns a name's addresses with the target's port, sorted so that
// the order a DNS server rotates its answers in does not reorder the pool.
// IPv4 answers are used when there are any.
func (p *Pool) lookup(ctx context.Context, t *target) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, maxLookup)
	defer cancel()
	ips, err := p.resolver.LookupNetIP(ctx, "ip", t.host)
	if err != nil {
		return nil, err
	}
	v4 := slices.ContainsFunc(ips, func(ip netip.Addr) bool { return ip.Unmap().Is4() })
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() == v4 && ip.IsValid() {
			addrs = append(addrs, netip.AddrPortFrom(ip, t.port).String())
		}
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), nil
}
