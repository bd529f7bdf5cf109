package routes

import (
	"fmt"
	"strings"
)

// served records which virtual host serves a host name, to report the
// second one that claims it.
type served struct {
	label string
	line  int
}

func (c *checker) checkVirtualHosts() {
	names := make(map[string]int)
	hosts := make(map[string]served) // lower-case host name → first claim
	for i := range c.f.VirtualHosts {
		vh := &c.f.VirtualHosts[i]
		s := c.scope(label("virtual host", vh.Name, fmt.Sprintf("virtual_hosts[%d]", i)), vh)
		c.unique(s, names, &vh.Name)
		if len(vh.Hosts) == 0 {
			s.errorf(&vh.Hosts, "hosts: needs at least one host name")
		}
		for j, h := range vh.Hosts {
			if err := validHostPattern(h); err != nil {
				s.errorf(&vh.Hosts[j], "hosts[%d]: %v", j, err)
				continue
			}
			key := strings.ToLower(h)
			if first, dup := hosts[key]; dup {
				s.errorf(&vh.Hosts[j], "hosts[%d]: %q is already served by %s (line %d)", j, h, first.label, first.line)
				continue
			}
			line := 0
			if n := c.pos[&vh.Hosts[j]]; n != nil {
				line = n.Line
			}
			hosts[key] = served{s.label, line}
		}
		c.checkPluginList(s, vh.Plugins)
		c.checkRoutes(vh)
	}
}

// checkPluginList checks that no plugin is turned on twice in one list: the
// second block would silently win.
func (c *checker) checkPluginList(s scope, list []PluginConfig) {
	first := make(map[string]int, len(list))
	for i := range list {
		if j, dup := first[list[i].Name]; dup {
			s.errorf(&list[i].Name, "plugins[%d]: plugin %q is listed twice (first at plugins[%d])", i, list[i].Name, j)
			continue
		}
		first[list[i].Name] = i
	}
}

func (c *checker) checkRoutes(vh *VirtualHost) {
	names := make(map[string]int)
	// Unnamed routes are named first, so that a written name that clashes
	// with a generated one is reported wherever it comes.
	for j := range vh.Routes {
		if r := &vh.Routes[j]; r.Name == "" {
			r.Name = fmt.Sprintf("%s-%d", vh.Name, j)
		}
	}
	for j := range vh.Routes {
		r := &vh.Routes[j]
		s := c.scope(label("route", r.Name, ""), r)
		c.unique(s, names, &r.Name)
		c.checkRoute(s, r)
	}
}
