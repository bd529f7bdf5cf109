package routes

import (
	"errors"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/plugins"
)

// openScopes opens the scope of every plugin with a section
// (plugins.Factory.Open) that the file writes or a route uses, and returns
// them by plugin name. A scope that fails to open is reported at its
// section, or at the plugin's first use when the file leaves the section
// out; the routes that use it are then not built, and so not reported
// twice.
func (c *checker) openScopes(reg *plugins.Registry) map[string]plugins.Scope {
	at := make(map[string]*yaml.Node)
	for name := range c.f.Sections {
		at[name] = c.pos[sectionKey(name)]
	}
	for _, pc := range c.pluginUses() {
		if f, ok := reg.Lookup(pc.Name); ok && f.Open != nil && at[pc.Name] == nil {
			at[pc.Name] = c.pos[&pc.Name]
		}
	}
	taker := ""
	if c.f.Mesh != nil {
		if taker = policyPlugin(reg); taker == "" {
			c.rep.add(c.pos[&c.f.Policies], "policies: no plugin of this gateway reads policies")
		} else if at[taker] == nil {
			at[taker] = c.pos[&c.f.Policies]
		}
	}
	scopes := make(map[string]plugins.Scope, len(at))
	for _, name := range slices.Sorted(maps.Keys(at)) {
		f, _ := reg.Lookup(name)
		section, written := c.f.Sections[name]
		if !written {
			section = f.Section()
		}
		if ps, ok := section.(policySection); ok && name == taker {
			ps.SetPolicies(c.policies())
		}
		sc, err := f.Open(section)
		if err != nil {
			if sc != nil {
				_ = sc.Close()
			}
			c.sectionError(name, section, at[name], err)
			continue
		}
		scopes[name] = sc
	}
	return scopes
}

// pluginUses returns every plugin entry of the file, on virtual hosts and
// routes, in file order.
func (c *checker) pluginUses() []*PluginConfig {
	var out []*PluginConfig
	for i := range c.f.VirtualHosts {
		vh := &c.f.VirtualHosts[i]
		for j := range vh.Plugins {
			out = append(out, &vh.Plugins[j])
		}
		for j := range vh.Routes {
			r := &vh.Routes[j]
			for k := range r.Plugins {
				out = append(out, &r.Plugins[k])
			}
		}
	}
	return out
}

// sectionError reports a section's errors: one about a field at that
// field, written `waf.profiles.api.mode: …`, any other at at.
func (c *checker) sectionError(name string, section any, at *yaml.Node, err error) {
	for _, e := range leaves(err) {
		var fe *plugins.FieldError
		if p, ok := e.(positioned); ok {
			c.rep.addPositioned(p)
			continue
		}
		if !errors.As(e, &fe) {
			c.rep.add(at, join(name, e.Error()))
			continue
		}
		n := fieldNode(c.pos[section], fe.Field, at)
		if e == error(fe) {
			c.rep.add(n, name+"."+fe.Error())
		} else {
			c.rep.add(n, join(name, e.Error()))
		}
	}
}

// closeScopes closes the scopes of a load once its chains are built: the
// handlers hold what they use themselves. A scope's Close only gives back
// what no handler took, and has nothing to report that a caller could act
// on, so its error is dropped.
func closeScopes(scopes map[string]plugins.Scope) {
	for _, sc := range scopes {
		_ = sc.Close()
	}
}
