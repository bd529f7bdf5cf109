package authz

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
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
	// ExtAuthz are the external authorizers CUSTOM policies name.
	ExtAuthz []plugins.ExtAuthz
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

// extAuthz returns the provider named name, or nil.
func (e *Engine) extAuthz(name string) *plugins.ExtAuthz {
	for i := range e.mesh.ExtAuthz {
		if e.mesh.ExtAuthz[i].Name == name {
			return &e.mesh.ExtAuthz[i]
		}
	}
	return nil
}

// Provider returns the external authorizer the guard's CUSTOM policies
// ask, or nil when none applies.
func (g *Guard) Provider() *plugins.ExtAuthz { return g.provider }

// CheckProviders reports every CUSTOM policy of s whose provider.name
// names no provider of the mesh, at the policy's place.
func CheckProviders(s *Set, mesh Mesh) error {
	var errs Errors
	for _, p := range s.Policies {
		if p.Action != Custom || slices.ContainsFunc(mesh.ExtAuthz, func(x plugins.ExtAuthz) bool { return x.Name == p.Provider }) {
			continue
		}
		have := make([]string, 0, len(mesh.ExtAuthz))
		for _, x := range mesh.ExtAuthz {
			have = append(have, x.Name)
		}
		errs = append(errs, &Error{File: p.File, Line: p.Line, Col: 1, Msg: fmt.Sprintf(
			"AuthorizationPolicy %s/%s: provider.name %q names no provider of mesh.extension_providers (have: %s); "+
				"the policy is refused rather than left unenforced", p.Namespace, p.Name, p.Provider, strings.Join(have, ", "))})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
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
	return e.newGuard(ps)
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
	return e.newGuard(ps), nil
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
	// custom are the CUSTOM policies, which ask provider; providers
	// lists every provider they name, which Istio allows one of.
	custom             []*compiled
	provider           *plugins.ExtAuthz
	providers          []string
	deny, allow, audit []*compiled
	dryDeny, dryAllow  []*compiled
}

func (e *Engine) newGuard(ps []*compiled) *Guard {
	g := new(Guard)
	for _, cp := range ps {
		switch {
		case cp.pol.Action == Custom && cp.pol.DryRun:
			// Istio sends dry-run CUSTOM policies to no provider.
		case cp.pol.Action == Custom:
			g.custom = append(g.custom, cp)
			if !slices.Contains(g.providers, cp.pol.Provider) {
				g.providers = append(g.providers, cp.pol.Provider)
			}
			if g.provider == nil {
				g.provider = e.extAuthz(cp.pol.Provider)
			}
		case cp.pol.Action == Deny && cp.pol.DryRun:
			g.dryDeny = append(g.dryDeny, cp)
		case cp.pol.Action == Deny:
			g.deny = append(g.deny, cp)
		case cp.pol.Action == Allow && cp.pol.DryRun:
			g.dryAllow = append(g.dryAllow, cp)
		case cp.pol.Action == Allow:
			g.allow = append(g.allow, cp)
		case cp.pol.Action == Audit:
			g.audit = append(g.audit, cp)
		}
	}
	return g
}

// Empty reports whether no policy applies: every request is allowed and
// nothing is marked.
func (g *Guard) Empty() bool {
	return len(g.custom)+len(g.deny)+len(g.allow)+len(g.audit)+len(g.dryDeny)+len(g.dryAllow) == 0
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
	if len(names) > 0 {
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
		g = e.newGuard(ps)
	}
	if len(g.providers) > 1 {
		// Istio's words; its proxies then deny what the CUSTOM rules
		// match, where the gateway refuses the configuration.
		return nil, fmt.Errorf("only 1 provider can be used per workload, found multiple providers: %v", g.providers)
	}
	return g, nil
}

// all returns the compiled policies of the guard.
func (g *Guard) all() []*compiled {
	var out []*compiled
	for _, l := range [][]*compiled{g.custom, g.deny, g.allow, g.audit, g.dryDeny, g.dryAllow} {
		out = append(out, l...)
	}
	return out
}
