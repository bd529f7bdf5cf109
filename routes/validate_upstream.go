package routes

import (
	"fmt"
	"strings"
	"time"
)

// balancers are the load-balancing policies an upstream may name; the first
// is the default. New policies are added here and nowhere else in this
// package.
var balancers = []string{"round_robin", "least_request", "ring_hash"}

// builtins are the upstreams served inside the gateway.
var builtins = []string{"echo"}

// maxWeight bounds an endpoint's weight: the balancers expand weights into
// slots and ring points, so a huge weight would cost memory, and a share
// finer than 1/128 is not a real need.
const maxWeight = 128

// minInterval bounds how often the gateway may resolve names or probe an
// endpoint; a shorter interval hammers DNS or the endpoints for nothing.
const minInterval = Duration(100 * time.Millisecond)

func (c *checker) checkUpstreams() {
	names := make(map[string]int)
	for i := range c.f.Upstreams {
		u := &c.f.Upstreams[i]
		s := c.scope(label("upstream", u.Name, fmt.Sprintf("upstreams[%d]", i)), u)
		c.unique(s, names, &u.Name)
		if _, dup := c.upstreams[u.Name]; u.Name != "" && !dup {
			c.upstreams[u.Name] = u
		}
		switch {
		case u.Builtin != "" && u.EndpointList != nil:
			s.errorf(&u.Builtin, "set endpoints or builtin, not both")
		case u.Builtin != "":
			s.oneOf("builtin", &u.Builtin, builtins...)
		case u.EndpointList == nil:
			s.errorf(u, "needs endpoints or builtin")
		case len(u.EndpointList) == 0:
			s.errorf(&u.EndpointList, "endpoints: must not be empty")
		}
		checkEndpoints(s, u)
		c.checkIdentity(s, u)
		if u.Builtin != "" {
			checkBuiltin(s, u)
		} else {
			s.oneOf("balancer", &u.Balancer, balancers...)
		}
		s.oneOf("protocol", &u.Protocol, "http1", "http2")
		if u.MaxIdlePerHost < 0 {
			s.errorf(&u.MaxIdlePerHost, "max_idle_per_endpoint: must not be negative, got %d", u.MaxIdlePerHost)
		}
		fill(&u.MaxIdlePerHost, 256)
		fill(&u.ConnectTimeout, Duration(5*time.Second))
		fill(&u.Timeout, Duration(30*time.Second))
		fill(&u.IdleTimeout, Duration(90*time.Second))
		fill(&u.DNSRefresh, Duration(5*time.Second))
		if u.DNSRefresh < minInterval {
			s.errorf(&u.DNSRefresh, "dns_refresh: must be at least %s, got %s", minInterval, u.DNSRefresh)
		}
		if u.TLS != nil {
			c.checkUpstreamTLS(s, u)
		}
		checkHash(s, u)
		if u.Health != nil {
			checkHealth(s, u.Health)
		}
		if u.Outlier != nil {
			checkOutlier(s, u.Outlier)
		}
		checkCircuit(s, u)
	}
}

// checkEndpoints checks each endpoint's address and weight and fills
// Endpoints with the addresses.
func checkEndpoints(s scope, u *UpstreamSpec) {
	if u.EndpointList == nil {
		return
	}
	u.Endpoints = make([]string, len(u.EndpointList))
	for j := range u.EndpointList {
		e := &u.EndpointList[j]
		u.Endpoints[j] = e.Address
		switch {
		case e.Address == "":
			s.errorf(e, "endpoints[%d]: address is required", j)
		default:
			if err := endpointAddress(e.Address); err != nil {
				s.errorf(&e.Address, "endpoints[%d]: %v", j, err)
			}
		}
		if e.Weight < 0 || e.Weight > maxWeight {
			s.errorf(&e.Weight, "endpoints[%d].weight: must be 1-%d, got %d", j, maxWeight, e.Weight)
		}
		fill(&e.Weight, 1)
	}
}

// checkBuiltin refuses what has no meaning for a builtin upstream: it is
// one endpoint inside the gateway, with nothing to balance, probe or eject.
func checkBuiltin(s scope, u *UpstreamSpec) {
	s.oneOf("balancer", &u.Balancer, balancers[0])
	if u.Health != nil {
		s.errorf(u.Health, "health: cannot be used with builtin")
	}
	if u.Outlier != nil {
		s.errorf(u.Outlier, "outlier: cannot be used with builtin")
	}
}

// checkHash checks ring_hash's hash policy: required with ring_hash, refused
// with any other balancer, and exactly one key.
func checkHash(s scope, u *UpstreamSpec) {
	h := u.Hash
	switch {
	case h == nil && u.Balancer == "ring_hash":
		s.errorf(&u.Balancer, "balancer ring_hash: needs hash")
		return
	case h == nil:
		return
	case u.Balancer != "ring_hash":
		s.errorf(h, "hash: needs balancer ring_hash")
		return
	}
	set := 0
	for _, on := range []bool{h.Header != "", h.Cookie != "", h.ClientIP} {
		if on {
			set++
		}
	}
	switch {
	case set == 0:
		s.errorf(h, "hash: needs one of header, cookie and client_ip")
	case set > 1:
		s.errorf(h, "hash: set only one of header, cookie and client_ip")
	case h.Header != "" && !validToken(h.Header):
		s.errorf(&h.Header, "hash.header: invalid header name %q", h.Header)
	case h.Cookie != "" && !validToken(h.Cookie):
		s.errorf(&h.Cookie, "hash.cookie: invalid cookie name %q", h.Cookie)
	}
}

func checkHealth(s scope, h *HealthCheck) {
	switch {
	case h.Path == "":
		s.errorf(h, "health.path: is required")
	case !strings.HasPrefix(h.Path, "/") || strings.ContainsFunc(h.Path, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		s.errorf(&h.Path, "health.path: must start with / and hold no spaces or control characters, got %q", h.Path)
	}
	fill(&h.Interval, Duration(5*time.Second))
	fill(&h.Timeout, Duration(time.Second))
	switch {
	case h.Interval < minInterval:
		s.errorf(&h.Interval, "health.interval: must be at least %s, got %s", minInterval, h.Interval)
	case h.Timeout > h.Interval:
		s.errorf(&h.Timeout, "health.timeout: must not exceed interval (%s), got %s", h.Interval, h.Timeout)
	}
	positive(s, "health.healthy_threshold", &h.HealthyThreshold, 2, 100)
	positive(s, "health.unhealthy_threshold", &h.UnhealthyThreshold, 3, 100)
	switch {
	case h.ExpectedStatuses == nil:
		h.ExpectedStatuses = []StatusRange{{Min: 200, Max: 399}}
	case len(h.ExpectedStatuses) == 0:
		s.errorf(&h.ExpectedStatuses, "health.expected_statuses: must not be empty")
	}
}

func checkOutlier(s scope, o *OutlierDetection) {
	positive(s, "outlier.consecutive_5xx", &o.Consecutive5xx, 5, 1000)
	positive(s, "outlier.consecutive_connect_failures", &o.ConsecutiveConnectFailures, 5, 1000)
	positive(s, "outlier.max_ejection_percent", &o.MaxEjectionPercent, 50, 100)
	fill(&o.BaseEjectionTime, Duration(30*time.Second))
	// Envoy's default: 300s, or the base when that is longer.
	fill(&o.MaxEjectionTime, max(Duration(300*time.Second), o.BaseEjectionTime))
	if o.MaxEjectionTime < o.BaseEjectionTime {
		s.errorf(&o.MaxEjectionTime, "outlier.max_ejection_time: must be at least base_ejection_time (%s), got %s", o.BaseEjectionTime, o.MaxEjectionTime)
	}
}

func checkCircuit(s scope, u *UpstreamSpec) {
	positive(s, "limits.max_requests", &u.Limits.MaxRequests, 1024, 1<<20)
	positive(s, "limits.max_pending", &u.Limits.MaxPending, 1024, 1<<20)
	b := &u.RetryBudget
	if b.Percent < 0 || b.Percent > 100 {
		s.errorf(&b.Percent, "retry_budget.percent: must be 0-100, got %g", b.Percent)
	}
	fill(&b.Percent, 20)
	if b.MinRetryConcurrency < 0 {
		s.errorf(&b.MinRetryConcurrency, "retry_budget.min_retry_concurrency: must not be negative, got %d", b.MinRetryConcurrency)
	}
	fill(&b.MinRetryConcurrency, 3)
}

// positive checks a count that must be 1 to most, filling in def for 0.
func positive(s scope, field string, v *int, def, most int) {
	if *v < 0 || *v > most {
		s.errorf(v, "%s: must be 1-%d, got %d", field, most, *v)
	}
	fill(v, def)
}
