package routes

import (
	"path/filepath"
	"slices"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Mesh is the routes file's `mesh:` block: what Istio's mesh config says
// that decides how policies read requests. Every field has Istio's default
// but path_normalization, whose default is stricter at the edge.
type Mesh struct {
	// RootNamespace holds the policies that guard every workload; default
	// istio-system.
	RootNamespace string `yaml:"root_namespace" json:"root_namespace"`
	// TrustDomain and TrustDomainAliases are the mesh's trust domains, for
	// principals written with cluster.local; default the identity block's.
	TrustDomain        string   `yaml:"trust_domain" json:"trust_domain"`
	TrustDomainAliases []string `yaml:"trust_domain_aliases" json:"trust_domain_aliases,omitempty"`
	// PathNormalization is Istio's meshConfig.pathNormalization, mapped
	// onto the path normalisation every route matches and forwards with:
	// base (Istio's default: dot segments and backslashes), merge_slashes,
	// decode_and_merge_slashes (%2F and %5C decoded first), none (the path
	// as received), or edge, the default: merge_slashes that refuses %2F
	// and %5C with 400, so that a DENY on /admin is not passed by //admin
	// or /admin%2F. It may not be set with the top-level
	// path_normalization block, which says the same in Envoy's terms.
	PathNormalization string `yaml:"path_normalization" json:"path_normalization"`
	// NumTrustedProxies is Istio's gatewayTopology.numTrustedProxies: the
	// client address (remote.ip) is the Nth address from the right of
	// X-Forwarded-For, as Envoy's xff_num_trusted_hops reads it. It may
	// not be set with trusted_proxies.
	NumTrustedProxies int `yaml:"num_trusted_proxies" json:"num_trusted_proxies,omitempty"`
	// ExtensionProviders are Istio's meshConfig.extensionProviders: the
	// external authorizers that CUSTOM policies name.
	ExtensionProviders []ExtensionProvider `yaml:"extension_providers" json:"extension_providers,omitempty"`
}

// pathModes maps the modes of mesh.path_normalization onto PathOptions.
var pathModes = map[string]PathOptions{
	"edge":                     {MergeSlashes: true, EscapedSlashes: "reject"},
	"base":                     {EscapedSlashes: "keep"},
	"merge_slashes":            {MergeSlashes: true, EscapedSlashes: "keep"},
	"decode_and_merge_slashes": {MergeSlashes: true, EscapedSlashes: "unescape"},
	"none":                     {Verbatim: true, EscapedSlashes: "keep"},
}

// checkMesh validates the mesh block and the policy globs, before the
// top-level path options are defaulted.
func (c *checker) checkMesh() {
	m := c.f.Mesh
	if m == nil {
		if len(c.f.Policies) == 0 {
			return
		}
		m = new(Mesh)
		c.f.Mesh = m
	}
	s := c.scope("mesh", m)
	fill(&m.RootNamespace, "istio-system")
	if err := dnsLabel(m.RootNamespace, false); err != nil {
		s.errorf(&m.RootNamespace, "root_namespace: %v", err)
	}
	if id := c.f.Identity; id != nil {
		fill(&m.TrustDomain, id.TrustDomain)
		if m.TrustDomainAliases == nil {
			m.TrustDomainAliases = id.TrustDomainAliases
		}
	}
	fill(&m.TrustDomain, defaultTrustDomain)
	written := m.PathNormalization != ""
	fill(&m.PathNormalization, "edge")
	opts, ok := pathModes[m.PathNormalization]
	switch {
	case !ok:
		s.errorf(&m.PathNormalization, "path_normalization: unknown value %q (want edge, base, merge_slashes, decode_and_merge_slashes or none)", m.PathNormalization)
	case written && c.f.Paths != (PathOptions{}):
		s.errorf(&m.PathNormalization, "path_normalization: may not be set with the top-level path_normalization block")
	case c.f.Paths == (PathOptions{}):
		c.f.Paths = opts
	}
	switch {
	case m.NumTrustedProxies < 0:
		s.errorf(&m.NumTrustedProxies, "num_trusted_proxies: must not be negative, got %d", m.NumTrustedProxies)
	case m.NumTrustedProxies > 0 && len(c.f.TrustedProxies) > 0:
		s.errorf(&m.NumTrustedProxies, "num_trusted_proxies: may not be set with trusted_proxies")
	}
	c.resolvePolicies()
}

// resolvePolicies expands the policy globs beside the routes file, each
// glob's matches sorted; a glob that matches no file is an error, since a
// policy that silently failed to load leaves its workloads unguarded.
func (c *checker) resolvePolicies() {
	s := c.scope("", c.f)
	seen := make(map[string]bool)
	for i := range c.f.Policies {
		g := &c.f.Policies[i]
		matches, err := filepath.Glob(c.abs(*g))
		switch {
		case err != nil:
			s.errorf(g, "policies[%d]: %v", i, err)
		case len(matches) == 0:
			s.errorf(g, "policies[%d]: no file matches %q", i, *g)
		}
		slices.Sort(matches)
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				c.policyFiles = append(c.policyFiles, m)
			}
		}
	}
}

// policies returns what the plugin that reads policies is given.
func (c *checker) policies() plugins.Policies {
	m := c.f.Mesh
	return plugins.Policies{
		Files:              c.policyFiles,
		RootNamespace:      m.RootNamespace,
		TrustDomain:        m.TrustDomain,
		TrustDomainAliases: m.TrustDomainAliases,
		ExtAuthz:           m.extAuthz(),
	}
}

// policySection is a plugin section that takes the routes file's policies
// and mesh block: the top-level `policies:` and `mesh:` are not under any
// plugin's name, as Istio's documents and mesh config are not, so the
// routes file hands them to every plugin whose section asks for them.
type policySection interface {
	SetPolicies(plugins.Policies)
}

// guard is a plugin scope that guards routes by the workload they forward
// to, whether or not the route names the plugin: a loaded policy guards
// its workloads without routes opting in, as Istio's do. cfg is the
// plugin's entry on the route or its virtual host, nil when neither names
// it. A nil handler means nothing guards the route.
type guard interface {
	Guard(w plugins.Workload, cfg any) (plugins.Handler, error)
}

// policyPlugins returns the names of the registered plugins whose section
// takes policies: authz for AuthorizationPolicy, jwt for
// RequestAuthentication.
func policyPlugins(reg *plugins.Registry) []string {
	var names []string
	for _, name := range reg.Names() {
		f, _ := reg.Lookup(name)
		if f.Section == nil {
			continue
		}
		if _, ok := f.Section().(policySection); ok {
			names = append(names, name)
		}
	}
	return names
}

// workload returns what route r forwards to.
func (c *checker) workload(r *Route) plugins.Workload {
	if u := c.upstreams[r.Upstream]; u != nil && r.Upstream != "" {
		return plugins.Workload{Namespace: u.Namespace, Labels: u.Labels}
	}
	return plugins.Workload{}
}

// positioned is an error in a file other than the routes file, such as a
// policy document, that knows its own place.
type positioned interface {
	Position() (file string, line, col int)
	Message() string
}

func (r *report) addPositioned(p positioned) {
	file, line, col := p.Position()
	r.errs = append(r.errs, &Error{File: file, Line: line, Col: col, Msg: p.Message()})
}
