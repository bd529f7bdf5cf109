package routes

import (
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// compile turns a validated File into a Config: upstreams by name, each
// route a Rule with its compiled match and built chain, and the Table.
func compile(source string, f *File, c *checker, chains map[*Route]*plugins.Chain) *Config {
	cfg := &Config{
		Source:    source,
		File:      f,
		Upstreams: c.upstreams,
		Identity:  c.identity,
	}
	if f.Mesh != nil {
		cfg.NumTrustedProxies = f.Mesh.NumTrustedProxies
	}
	cfg.PolicyFiles = c.policyFiles
	for _, g := range f.Policies {
		cfg.PolicyGlobs = append(cfg.PolicyGlobs, c.abs(g))
	}
	for _, p := range f.TrustedProxies {
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Prefix())
	}
	hosts := make([]*Host, len(f.VirtualHosts))
	names := make([][]string, len(f.VirtualHosts))
	for i := range f.VirtualHosts {
		vh := &f.VirtualHosts[i]
		h := &Host{Name: vh.Name, Rules: make([]*Rule, 0, len(vh.Routes))}
		for j := range vh.Routes {
			r := &vh.Routes[j]
			h.Rules = append(h.Rules, &Rule{
				Name:          r.Name,
				Host:          h,
				Upstream:      c.upstreams[r.Upstream],
				PrefixRewrite: r.PrefixRewrite,
				HostRewrite:   r.HostRewrite,
				Timeout:       time.Duration(r.Timeout),
				Retries:       r.Retries,
				Upgrades:      r.Upgrades,
				Redirect:      r.Redirect,
				Direct:        r.DirectResponse,
				Chain:         chains[r],
				match:         c.matches[r],
			})
		}
		hosts[i] = h
		for _, n := range vh.Hosts {
			names[i] = append(names[i], strings.ToLower(n))
		}
	}
	cfg.Table = buildTable(hosts, names, f.Paths)
	return cfg
}
