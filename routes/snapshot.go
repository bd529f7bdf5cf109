package routes

import (
	"errors"
	"fmt"
)

// Close closes the plugin chain of every rule, once each. Call it when the
// config is retired (after a reload swapped in its successor and the
// requests that still use it have drained), and only once.
func (c *Config) Close() error {
	if c == nil || c.Table == nil {
		return nil
	}
	t := c.Table
	seen := make(map[*Host]bool)
	var errs []error
	closeHost := func(h *Host) {
		if h == nil || seen[h] {
			return
		}
		seen[h] = true
		for _, r := range h.Rules {
			errs = append(errs, r.Chain.Close())
		}
	}
	for _, h := range t.exact {
		closeHost(h)
	}
	for _, w := range t.wildcards {
		closeHost(w.host)
	}
	closeHost(t.fallback)
	return errors.Join(errs...)
}

// Summary is the one line that "portcullis validate" prints for a good file:
// "routes.yaml: ok: 2 listeners, 3 virtual hosts, 7 routes, 2 upstreams, 4
// plugins", and the egress rules when the file has an egress block. Plugins counts the plugin entries the file writes, on virtual
// hosts and routes.
func (c *Config) Summary() string {
	f := c.File
	routes, plugs := 0, 0
	for _, vh := range f.VirtualHosts {
		routes += len(vh.Routes)
		plugs += len(vh.Plugins)
		for _, r := range vh.Routes {
			plugs += len(r.Plugins)
		}
	}
	sum := fmt.Sprintf("%s: ok: %s, %s, %s, %s, %s", c.Source,
		count(len(f.Listeners), "listener"), count(len(f.VirtualHosts), "virtual host"),
		count(routes, "route"), count(len(f.Upstreams), "upstream"), count(plugs, "plugin"))
	if f.Egress != nil {
		sum += ", " + count(len(f.Egress.Rules), "egress rule")
	}
	return sum
}

// count writes n things, with the plural for every n but 1.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
