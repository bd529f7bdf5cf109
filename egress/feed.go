package egress

import "sync"

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
// d; the returned stop ends the watch. A nil f watches nothing.
func revokeOnReload(f *Policies, pol *Policy, c Caller, d Destination, cancel func(error)) (stop func()) {
	if f == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		for {
			cur, changed := f.Load()
			if cur != pol && !cur.Decide(c, d).Allowed() {
				cancel(errRevoked)
				return
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
