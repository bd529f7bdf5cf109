package authz

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultRootNamespace is Istio's meshConfig.rootNamespace default.
const DefaultRootNamespace = "istio-system"

// Mesh is what Istio's mesh config says that decides policies.
type Mesh struct {
	// RootNamespace holds the policies that apply to every workload;
	// default istio-system.
	RootNamespace string
	// TrustDomain and TrustDomainAliases are the mesh's trust domains: a
	// principal written with cluster.local, or any of these, stands for
	// all of them. Default cluster.local.
	TrustDomain        string
	TrustDomainAliases []string
}

func (m Mesh) withDefaults() Mesh {
	if m.RootNamespace == "" {
		m.RootNamespace = DefaultRootNamespace
	}
	if m.TrustDomain == "" {
		m.TrustDomain = "cluster.local"
	}
	return m
}

// Engine is a set of policies compiled for one mesh: immutable, shared by
// the routes of one load.
type Engine struct {
	mesh   Mesh
	byNS   map[string][]*compiled // namespace → its policies, in load order
	byName map[string]*compiled   // namespace/name
}

// Compile builds the engine of a validated set.
func Compile(s *Set, mesh Mesh) (*Engine, error) {
	c := &compiler{mesh: mesh.withDefaults()}
	e := &Engine{mesh: c.mesh, byNS: make(map[string][]*compiled), byName: make(map[string]*compiled)}
	for _, p := range s.Policies {
		cp := c.policy(p)
		e.byNS[p.Namespace] = append(e.byNS[p.Namespace], cp)
		e.byName[p.Namespace+"/"+p.Name] = cp
	}
	if len(c.errs) > 0 {
		return nil, errors.New(strings.Join(c.errs, "; "))
	}
	return e, nil
}

// Mesh returns the mesh settings the engine was compiled with, defaults
// filled in.
func (e *Engine) Mesh() Mesh { return e.mesh }

// Len returns the number of policies.
func (e *Engine) Len() int { return len(e.byName) }

// ForWorkload returns the guard of a workload: the policies of the root
// namespace and of ns whose selector the labels satisfy. ns is empty for a
// route with no upstream, which root-namespace policies alone decide.
// Policies that attach by targetRefs apply to no upstream.
func (e *Engine) ForWorkload(ns string, labels map[string]string) *Guard {
	var ps []*compiled
	for _, cp := range e.byNS[e.mesh.RootNamespace] {
		if selects(cp.pol, labels) {
			ps = append(ps, cp)
		}
	}
	if ns != e.mesh.RootNamespace {
		for _, cp := range e.byNS[ns] {
			if selects(cp.pol, labels) {
				ps = append(ps, cp)
			}
		}
	}
	return newGuard(ps)
}

// Named returns the guard of the named policies (namespace/name), for a
// route that names them.
func (e *Engine) Named(names []string) (*Guard, error) {
	var ps []*compiled
	var missing []string
	for _, n := range names {
		cp, ok := e.byName[n]
		if !ok {
			missing = append(missing, fmt.Sprintf("%q", n))
			continue
		}
		ps = append(ps, cp)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no policy %s is loaded (want namespace/name of a loaded AuthorizationPolicy; loaded: %s)",
			strings.Join(missing, ", "), strings.Join(slices.Sorted(maps.Keys(e.byName)), ", "))
	}
	return newGuard(ps), nil
}

// selects reports whether p applies to a workload with these labels.
func selects(p *Policy, labels map[string]string) bool {
	if p.TargetRefs {
		return false
	}
	for k, v := range p.Selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// Guard is the policies that apply to one workload, by action, enforced
// and dry-run apart.
type Guard struct {
	deny, allow, audit          []*compiled
	dryDeny, dryAllow, dryAudit []*compiled
}

func newGuard(ps []*compiled) *Guard {
	g := new(Guard)
	for _, cp := range ps {
		switch {
		case cp.pol.Action == Deny && cp.pol.DryRun:
			g.dryDeny = append(g.dryDeny, cp)
		case cp.pol.Action == Deny:
			g.deny = append(g.deny, cp)
		case cp.pol.Action == Allow && cp.pol.DryRun:
			g.dryAllow = append(g.dryAllow, cp)
		case cp.pol.Action == Allow:
			g.allow = append(g.allow, cp)
		case cp.pol.Action == Audit && cp.pol.DryRun:
			g.dryAudit = append(g.dryAudit, cp)
		case cp.pol.Action == Audit:
			g.audit = append(g.audit, cp)
		}
	}
	return g
}

// Empty reports whether no policy applies: every request is allowed and
// nothing is marked.
func (g *Guard) Empty() bool {
	return len(g.deny)+len(g.allow)+len(g.audit)+len(g.dryDeny)+len(g.dryAllow)+len(g.dryAudit) == 0
}

// Policies returns the policies of the guard, enforced first.
func (g *Guard) Policies() []*Policy {
	var out []*Policy
	for _, cp := range g.all() {
		out = append(out, cp.pol)
	}
	return out
}

// Guard returns the guard of a workload together with the named policies
// (namespace/name), each policy once, for a route that names policies on
// top of those that select its upstream.
func (e *Engine) Guard(ns string, labels map[string]string, names []string) (*Guard, error) {
	g := e.ForWorkload(ns, labels)
	if len(names) == 0 {
		return g, nil
	}
	named, err := e.Named(names)
	if err != nil {
		return nil, err
	}
	ps := g.all()
	for _, cp := range named.all() {
		if !slices.Contains(ps, cp) {
			ps = append(ps, cp)
		}
	}
	return newGuard(ps), nil
}

// all returns the compiled policies of the guard.
func (g *Guard) all() []*compiled {
	var out []*compiled
	for _, l := range [][]*compiled{g.deny, g.allow, g.audit, g.dryDeny, g.dryAllow, g.dryAudit} {
		out = append(out, l...)
	}
	return out
}
