package authz

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Name is the plugin's key in the routes file.
const Name = "authz"

// Plugin is authz as the binary knows it: what outlives one load of the
// routes file (its metrics). Its Factory builds each load's engine.
type Plugin struct {
	metrics *metrics
}

// New returns a Plugin whose metrics join reg (nil keeps them
// unregistered).
func New(reg prometheus.Registerer) *Plugin { return &Plugin{metrics: newMetrics(reg)} }

// Config is a route's (or virtual host's) `authz:` entry: policies it
// names on top of those that select its upstream.
type Config struct {
	// Policies are namespace/name of loaded AuthorizationPolicy documents.
	Policies []string `yaml:"policies"`
}

// Section is the top-level `authz:` block. It has no settings of its own
// yet; it takes the routes file's `policies:` files and `mesh:` block.
type Section struct {
	policies plugins.Policies
}

// SetPolicies gives the section the routes file's policy files and mesh.
func (s *Section) SetPolicies(p plugins.Policies) { s.policies = p }

// Factory returns the authz plugin's factory, for the binary's registry.
func (p *Plugin) Factory() plugins.Factory {
	return plugins.Factory{
		Name:    Name,
		Config:  func() any { return new(Config) },
		Section: func() any { return new(Section) },
		Open:    p.open,
	}
}

// Load reads and compiles policy files: the set (RequestAuthentication
// documents included) and its engine, or every problem of every file, each
// an *Error, joined.
func Load(files []string, mesh Mesh) (*Set, *Engine, error) {
	s := new(Set)
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil && len(data) > MaxFileBytes {
			err = fmt.Errorf("the file is %d bytes, more than the %d a policy file may hold", len(data), MaxFileBytes)
		}
		if err != nil {
			errs = append(errs, &Error{File: f, Msg: err.Error()})
			continue
		}
		if err := s.Parse(f, data); err != nil {
			for _, e := range err.(Errors) {
				errs = append(errs, e)
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	e, err := Compile(s, mesh)
	if err != nil {
		return nil, nil, err
	}
	return s, e, nil
}

func (p *Plugin) open(section any) (plugins.Scope, error) {
	sec, ok := section.(*Section)
	if !ok || sec == nil {
		return nil, fmt.Errorf("section is %T, want *authz.Section", section)
	}
	pol := sec.policies
	mesh := Mesh{RootNamespace: pol.RootNamespace, TrustDomain: pol.TrustDomain, TrustDomainAliases: pol.TrustDomainAliases, ExtAuthz: pol.ExtAuthz}
	set, e, err := Load(pol.Files, mesh)
	if err != nil {
		return nil, err
	}
	if err := CheckProviders(set, mesh); err != nil {
		return nil, err
	}
	return &Scope{Set: set, Engine: e, metrics: p.metrics}, nil
}

// Scope is one load's policies: the routes of that load are guarded by
// them.
type Scope struct {
	// Set is the documents as loaded, RequestAuthentications included.
	Set *Set
	// Engine is the compiled policies.
	Engine  *Engine
	metrics *metrics
}

// Build builds the handler of an entry on a route without an upstream.
func (s *Scope) Build(cfg any) (plugins.Handler, error) {
	return s.Guard(plugins.Workload{}, cfg)
}

// Guard builds the handler of a route that forwards to w: the policies
// that select w and those cfg names. Without cfg, and with no policy that
// applies, the route needs no handler and gets none.
func (s *Scope) Guard(w plugins.Workload, cfg any) (plugins.Handler, error) {
	var names []string
	if cfg != nil {
		c, ok := cfg.(*Config)
		if !ok {
			return nil, fmt.Errorf("config is %T, want *authz.Config", cfg)
		}
		names = c.Policies
	}
	g, err := s.Engine.Guard(w.Namespace, w.Labels, names)
	if err != nil {
		return nil, &plugins.FieldError{Field: "policies", Msg: err.Error()}
	}
	if cfg == nil && g.Empty() {
		return nil, nil
	}
	return newHandler(g, s.metrics), nil
}

// Close releases nothing: the engine is memory the handlers share.
func (s *Scope) Close() error { return nil }

// Authz is the handler of one route: the guard of its workload.
type Authz struct {
	guard    *Guard
	counters map[*Policy]*counters
	// none counts decisions that no rule made: allowed when no ALLOW
	// policy applies, denied when none of them matched.
	noneAllowed, noneDenied prometheus.Counter
	// denyNone is the rejection when no ALLOW policy matched; each
	// policy's rule has its own (rejects).
	denyNone *plugins.Reject
	rejects  map[*Policy][]*plugins.Reject
	// ext asks the provider of the guard's CUSTOM policies, nil without
	// them.
	ext *extAuthz
}

var _ plugins.Handler = (*Authz)(nil)

// DeniedBody is the body of a denial, as Envoy's RBAC filter answers.
const DeniedBody = "RBAC: access denied"

func newHandler(g *Guard, m *metrics) *Authz {
	h := &Authz{guard: g, counters: make(map[*Policy]*counters), rejects: make(map[*Policy][]*plugins.Reject)}
	none := &Policy{Name: "none", Action: Allow}
	nc := m.forPolicy(none)
	h.noneAllowed, h.noneDenied = nc.allowed, nc.denied
	h.denyNone = &plugins.Reject{Status: 403, Body: DeniedBody, Details: DetailsNone}
	if p := g.Provider(); p != nil {
		h.ext = newExtAuthz(*p, m)
	}
	for _, cp := range g.all() {
		h.counters[cp.pol] = m.forPolicy(cp.pol)
		for _, d := range cp.details {
			h.rejects[cp.pol] = append(h.rejects[cp.pol], &plugins.Reject{Status: 403, Body: DeniedBody, Details: d})
		}
	}
	return h
}

// The dynamic metadata a decision leaves for the access log, as Envoy's
// RBAC filter names it: an AUDIT match sets envoy.common's
// access_log_hint, and dry-run policies their shadow engine's result and
// effective policy, with Istio's prefixes.
const (
	NoteRBAC            = "envoy.filters.http.rbac"
	NoteCommon          = "envoy.common"
	NoteAccessLogHint   = "access_log_hint"
	NoteAuditPolicy     = "istio_audit_effective_policy_id"
	NoteDryRunAllowID   = "istio_dry_run_allow_shadow_effective_policy_id"
	NoteDryRunAllowWhat = "istio_dry_run_allow_shadow_engine_result"
	NoteDryRunDenyID    = "istio_dry_run_deny_shadow_effective_policy_id"
	NoteDryRunDenyWhat  = "istio_dry_run_deny_shadow_engine_result"
)

// HandleRequest decides the request; a denial is 403 "RBAC: access
// denied" with Envoy's response code details. A request that a CUSTOM
// policy matches goes to its provider first, whose denial (or failure,
// unless it fails open) is the answer.
func (h *Authz) HandleRequest(ctx context.Context, req *plugins.Request) error {
	if h.ext != nil {
		// Before the other policies are decided, as Envoy's ext_authz
		// filter runs before its RBAC filters: they see the headers the
		// provider added.
		if m := first(h.guard.custom, req); m.Policy != nil {
			if err := h.ext.check(ctx, req); err != nil {
				h.counters[m.Policy].denied.Inc()
				return err
			}
			h.counters[m.Policy].allowed.Inc()
		}
	}
	d := h.guard.decideAfterCustom(req)
	if m := d.Audit; m.Policy != nil {
		h.counters[m.Policy].audited.Inc()
		req.Metadata.Set(NoteCommon, NoteAccessLogHint, "true")
		req.Metadata.Set(NoteRBAC, NoteAuditPolicy, m.ID)
	}
	if len(h.guard.dryDeny) > 0 {
		if m := d.DryRunDeny; m.Policy != nil {
			h.counters[m.Policy].denied.Inc()
			req.Metadata.Set(NoteRBAC, NoteDryRunDenyWhat, "denied")
			req.Metadata.Set(NoteRBAC, NoteDryRunDenyID, m.ID)
		} else {
			req.Metadata.Set(NoteRBAC, NoteDryRunDenyWhat, "allowed")
		}
	}
	if d.DryRunAllowApplies {
		if m := d.DryRunAllow; m.Policy != nil {
			h.counters[m.Policy].allowed.Inc()
			req.Metadata.Set(NoteRBAC, NoteDryRunAllowWhat, "allowed")
			req.Metadata.Set(NoteRBAC, NoteDryRunAllowID, m.ID)
		} else {
			req.Metadata.Set(NoteRBAC, NoteDryRunAllowWhat, "denied")
		}
	}
	switch {
	case d.Allowed && d.By.Policy != nil:
		h.counters[d.By.Policy].allowed.Inc()
	case d.Allowed:
		h.noneAllowed.Inc()
	case d.By.Policy != nil:
		h.counters[d.By.Policy].denied.Inc()
		return h.rejects[d.By.Policy][d.By.Rule]
	default:
		h.noneDenied.Inc()
		return h.denyNone
	}
	return nil
}
