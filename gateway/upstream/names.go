package upstream

import (
	"context"
	"errors"
	"net"
	"time"
)

// The reasons Observer.ResolveError reports.
const (
	// ResolveNotFound is a name that does not exist (NXDOMAIN, or no
	// address of any kind): its endpoints leave the pool.
	ResolveNotFound = "not_found"
	// ResolveTimeout is a lookup that got no answer in time.
	ResolveTimeout = "timeout"
	// ResolveFailed is any other resolver failure (SERVFAIL, refused,
	// unreachable server): the name keeps its previous addresses.
	ResolveFailed = "error"
)

// logEvery bounds the warnings about one name that does not resolve: one
// line a minute, which counts the failed lookups since the previous one.
const logEvery = time.Minute

// nameState is what the lookups of one endpoint name found, for /upstreams
// and the warnings. The pool's mu guards it.
type nameState struct {
	addresses int       // addresses in use from the name
	last      time.Time // the last lookup's end; zero before the first
	err       string    // the last lookup's error; "" after a success
	since     time.Time // when the current run of failures began
	failures  int       // lookups failed in a row
	// logged is when the last warning was written, unlogged the failed
	// lookups since, and warned whether the current run has had one.
	logged   time.Time
	unlogged int
	warned   bool
}

// resolveReason classifies a lookup error for the metrics.
func resolveReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return ResolveNotFound
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded):
		return ResolveTimeout
	}
	return ResolveFailed
}

// lookupFailed records a failed lookup of t's name, which leaves it kept
// addresses, counts it, and warns at most once per logEvery for the name.
func (p *Pool) lookupFailed(t *target, err error, reason string, kept int) {
	p.obs.ResolveError(reason)
	now := time.Now()
	p.mu.Lock()
	s := t.dns
	if s.failures == 0 {
		s.since = now
	}
	s.failures++
	s.unlogged++
	s.err, s.last, s.addresses = err.Error(), now, kept
	warn := s.logged.IsZero() || now.Sub(s.logged) >= p.logEvery
	count, since := s.unlogged, s.since
	if warn {
		s.logged, s.unlogged, s.warned = now, 0, true
	}
	p.mu.Unlock()
	if !warn {
		return
	}
	ev := p.log.Warn().Err(err).Str("name", t.name).Str("reason", reason).
		Int("failed_lookups", count).Time("failing_since", since)
	if reason == ResolveNotFound {
		ev.Msg("upstream name does not resolve; its endpoints are removed")
		return
	}
	ev.Int("addresses_kept", kept).Msg("upstream name lookup failed; keeping the previous addresses")
}

// lookupDone records a lookup of t's name that found n addresses, and says
// so when the name had been reported failing.
func (p *Pool) lookupDone(t *target, n int) {
	now := time.Now()
	p.mu.Lock()
	s := t.dns
	warned, failures, since := s.warned, s.failures, s.since
	s.addresses, s.last, s.err, s.failures, s.warned = n, now, "", 0, false
	p.mu.Unlock()
	if warned {
		p.log.Info().Str("name", t.name).Int("addresses", n).Int("failed_lookups", failures).
			Dur("failed_for", now.Sub(since)).Msg("upstream name resolves again")
	}
}

// NameStatus is one endpoint name's state on /upstreams: a name that does
// not resolve shows its error here, not only its absence from Endpoints.
type NameStatus struct {
	// Name is host:port as the routes file writes it.
	Name string `json:"name"`
	// Addresses are the addresses in use from the name.
	Addresses int `json:"addresses"`
	// LastLookup is when the last lookup ended; absent before the first.
	LastLookup *time.Time `json:"last_lookup,omitempty"`
	// Error is the last lookup's error, FailingSince when the lookups
	// began failing and Failures how many have failed in a row; all are
	// absent while the name resolves.
	Error        string     `json:"error,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	Failures     int        `json:"failures,omitempty"`
}

// nameStatus returns the state of the names the pool resolves. The caller
// holds p.mu.
func (p *Pool) nameStatus() []NameStatus {
	var out []NameStatus
	for i := range p.targets {
		t := &p.targets[i]
		if t.dns == nil {
			continue
		}
		s := t.dns
		ns := NameStatus{Name: t.name, Addresses: s.addresses, Error: s.err, Failures: s.failures}
		if !s.last.IsZero() {
			last := s.last
			ns.LastLookup = &last
		}
		if s.failures > 0 {
			since := s.since
			ns.FailingSince = &since
		}
		out = append(out, ns)
	}
	return out
}
