package egress

import (
	"net/netip"
	"sync"
)

// Policies holds the policy in force and tells open tunnels when a reload
// replaces it, so that a tunnel the new rules no longer allow ends at once
// instead of outliving the rule that let it open.
type Policies struct {
	mu      sync.Mutex
	pol     *Policy
	changed chan struct{}
}

// NewPolicies returns a holder with pol in force.
func NewPolicies(pol *Policy) *Policies {
	return &Policies{pol: pol, changed: make(chan struct{})}
}

// Store puts pol in force and wakes every tunnel waiting on Load's channel.
func (f *Policies) Store(pol *Policy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pol = pol
	close(f.changed)
	f.changed = make(chan struct{})
}

// Load returns the policy in force and a channel that closes when Store
// replaces it.
func (f *Policies) Load() (*Policy, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pol, f.changed
}

// revokeOnReload cancels the tunnel's context with errRevoked as soon as
// the policy in force, pol or one that replaces it, no longer lets c reach
// d at the address dialled; the returned stop ends the watch. A nil f
// watches nothing.
func revokeOnReload(f *Policies, pol *Policy, c Caller, d Destination, dialled netip.AddrPort, cancel func(error)) (stop func()) {
	if f == nil {
		return func() {}
	}
	// An internal address that the first decision's CIDRs let the guard
	// dial needs the new decision's CIDRs to go on; one the guard never
	// checked (a test's stand-in dialer) is left to the rules alone.
	viaCIDRs := func(p *Policy) ([]netip.Prefix, bool) {
		dec := p.Decide(c, d)
		if dec.Via == nil {
			return nil, dec.Allowed()
		}
		return dec.Via.CIDRs, dec.Allowed()
	}
	first, _ := viaCIDRs(pol)
	_, guarded := (*Guard)(nil).Check(dialled.Addr(), dialled.Port(), first)
	done := make(chan struct{})
	go func() {
		for {
			cur, changed := f.Load()
			if cur != pol {
				cidrs, ok := viaCIDRs(cur)
				if ok && guarded {
					_, ok = (*Guard)(nil).Check(dialled.Addr(), dialled.Port(), cidrs)
				}
				if !ok {
					cancel(errRevoked)
					return
				}
			}
			pol = cur
			select {
			case <-changed:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}
