package routes

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
)

// use is one plugin entry of a route's chain and where it was written.
type use struct {
	pc    *PluginConfig
	owner string // label of the virtual host or route that lists it
	index int    // its index in that list
	// implicit is set for a guard that no entry names (guardUses).
	implicit bool
}

// guardUses adds to a route's uses the plugins whose scope guards every
// route (see guard) and that neither the route nor its virtual host
// names, in their place in plugins.Order.
func guardUses(uses []use, scopes map[string]plugins.Scope, owner string) []use {
	for _, name := range slices.Sorted(maps.Keys(scopes)) {
		if _, ok := scopes[name].(guard); !ok {
			continue
		}
		if slices.ContainsFunc(uses, func(u use) bool { return u.pc.Name == name }) {
			continue
		}
		uses = append(uses, use{pc: &PluginConfig{Name: name}, owner: owner, implicit: true})
	}
	slices.SortStableFunc(uses, func(a, b use) int {
		return cmp.Compare(plugins.Rank(a.pc.Name), plugins.Rank(b.pc.Name))
	})
	return uses
}

// chainPlugins merges a virtual host's plugins with a route's. A route's
// entry replaces the host's entry of the same name for that route; the
// result runs in plugins.Rank order, file order among equal ranks, so that
// a security plugin never runs out of place whatever order the file lists.
func chainPlugins(vh *VirtualHost, vhLabel string, r *Route, rLabel string) []use {
	own := make(map[string]bool, len(r.Plugins))
	for _, p := range r.Plugins {
		own[p.Name] = true
	}
	var uses []use
	for i := range vh.Plugins {
		if !own[vh.Plugins[i].Name] {
			uses = append(uses, use{pc: &vh.Plugins[i], owner: vhLabel, index: i})
		}
	}
	for i := range r.Plugins {
		uses = append(uses, use{pc: &r.Plugins[i], owner: rLabel, index: i})
	}
	slices.SortStableFunc(uses, func(a, b use) int {
		return cmp.Compare(plugins.Rank(a.pc.Name), plugins.Rank(b.pc.Name))
	})
	return uses
}

// buildChains builds the chain of every route, each plugin once per route so
// that no two routes share a handler's state (a rate limit's buckets); what
// they should share comes from the plugin's scope. It goes on after a failed
// build to report every failure; the caller closes all the chains when any
// failed.
func (c *checker) buildChains(reg *plugins.Registry, scopes map[string]plugins.Scope) map[*Route]*plugins.Chain {
	chains := make(map[*Route]*plugins.Chain)
	for i := range c.f.VirtualHosts {
		vh := &c.f.VirtualHosts[i]
		vhLabel := label("virtual host", vh.Name, fmt.Sprintf("virtual_hosts[%d]", i))
		for j := range vh.Routes {
			r := &vh.Routes[j]
			rLabel := label("route", r.Name, "")
			chains[r] = c.buildChain(reg, scopes, chainPlugins(vh, vhLabel, r, rLabel), c.workload(r), rLabel)
		}
	}
	return chains
}

func (c *checker) buildChain(reg *plugins.Registry, scopes map[string]plugins.Scope, uses []use, w plugins.Workload, owner string) *plugins.Chain {
	uses = guardUses(uses, scopes, owner)
	names := make([]string, 0, len(uses))
	handlers := make([]plugins.Handler, 0, len(uses))
	for _, u := range uses {
		f, ok := reg.Lookup(u.pc.Name)
		if !ok {
			continue // reported by the decoder
		}
		build := f.Build
		if f.Open != nil {
			sc, opened := scopes[u.pc.Name]
			if !opened {
				continue // its section failed, and was reported
			}
			build = sc.Build
			if g, ok := sc.(guard); ok {
				build = func(cfg any) (plugins.Handler, error) { return g.Guard(w, cfg) }
			}
		}
		h, err := build(u.pc.Config)
		if err == nil && h == nil && u.implicit {
			continue // nothing guards the route
		}
		if err == nil && h == nil {
			err = errors.New("the plugin built no handler")
		}
		if err != nil {
			if cl, ok := h.(io.Closer); ok {
				_ = cl.Close()
			}
			c.buildError(u, err)
			continue
		}
		names = append(names, u.pc.Name)
		handlers = append(handlers, h)
	}
	return plugins.NewChain(names, handlers)
}

// buildError reports a plugin's build error, each joined error apart. An
// error about a field points at that field in the plugin's block; any
// other at the plugin's name.
func (c *checker) buildError(u use, err error) {
	prefix := join(u.owner, fmt.Sprintf("plugins[%d] %s", u.index, u.pc.Name))
	at := c.pos[&u.pc.Name]
	for _, e := range leaves(err) {
		n := at
		if fe := (*plugins.FieldError)(nil); errors.As(e, &fe) {
			n = fieldNode(c.pos[&u.pc.Config], fe.Field, at)
		}
		c.rep.add(n, join(prefix, e.Error()))
	}
}

// leaves splits an errors.Join into the errors it joins. Other errors that
// wrap several (fmt.Errorf with two %w) are kept whole, since their text
// says more than their parts; a join's text is exactly its parts' texts,
// one a line.
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	parts := slices.DeleteFunc(slices.Clone(j.Unwrap()), func(e error) bool { return e == nil })
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.Error()
	}
	if err.Error() != strings.Join(texts, "\n") {
		return []error{err}
	}
	var out []error
	for _, p := range parts {
		out = append(out, leaves(p)...)
	}
	return out
}

// closeChains closes every chain, for a load that failed after building.
func closeChains(chains map[*Route]*plugins.Chain) {
	for _, ch := range chains {
		_ = ch.Close()
	}
}
