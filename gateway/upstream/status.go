package upstream

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Status is a pool's state for the admin page /upstreams.
type Status struct {
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Balancer string `json:"balancer"`
	// ActiveRequests are admitted and not yet answered in full.
	ActiveRequests int64 `json:"active_requests"`
	ActiveRetries  int64 `json:"active_retries"`
	// PendingConnects are connections being dialled, what max_pending
	// bounds.
	PendingConnects int64            `json:"pending_connects"`
	Endpoints       []EndpointStatus `json:"endpoints"`
	// Names are the endpoint names the pool resolves, each with its last
	// lookup's outcome.
	Names []NameStatus `json:"names,omitempty"`
}

// EndpointStatus is one endpoint's state.
type EndpointStatus struct {
	Address string `json:"address"`
	// Name is the DNS name the address was resolved from.
	Name   string `json:"name,omitempty"`
	Weight int    `json:"weight"`
	// Healthy is the active health check's verdict (true when there is no
	// health check); Ejected is outlier detection's.
	Healthy        bool       `json:"healthy"`
	Ejected        bool       `json:"ejected"`
	EjectedUntil   *time.Time `json:"ejected_until,omitempty"`
	Ejections      int        `json:"ejections"`
	ActiveRequests int64      `json:"active_requests"`
}

// Status returns the pool's state now.
func (p *Pool) Status() Status {
	s := Status{
		Name:            p.spec.Name,
		Cluster:         p.cluster,
		Balancer:        p.spec.Balancer,
		ActiveRequests:  p.active.Load(),
		ActiveRetries:   p.retries.Load(),
		PendingConnects: p.dials.Load(),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Names = p.nameStatus()
	for _, e := range p.set.Load().all {
		es := EndpointStatus{
			Address:        e.addr,
			Name:           e.name,
			Weight:         e.weight,
			Healthy:        e.healthy.Load(),
			Ejected:        e.ejected.Load(),
			Ejections:      e.ejections,
			ActiveRequests: e.active.Load(),
		}
		if es.Ejected {
			until := e.ejectedUntil
			es.EjectedUntil = &until
		}
		s.Endpoints = append(s.Endpoints, es)
	}
	return s
}

// Handler serves the admin page /upstreams: the status of each pool that
// pools returns, by name, as JSON.
func Handler(pools func() []*Pool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var list []Status
		for _, p := range pools() {
			list = append(list, p.Status())
		}
		slices.SortFunc(list, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Upstreams []Status `json:"upstreams"`
		}{list})
	})
}
