package routes

import (
	"net/netip"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// Config is a loaded, validated and compiled routes file: an immutable
// snapshot. Nothing in it changes after Load returns; a reload builds a new
// one.
type Config struct {
	// Source is the file name the config was read from.
	Source string
	// File is the file as decoded, with defaults filled in.
	File *File
	// Table routes requests to rules.
	Table *Table
	// Upstreams are the upstream definitions by name, defaults filled in.
	Upstreams map[string]*UpstreamSpec
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// NumTrustedProxies, when above 0, is the number of proxies in front
	// of the gateway: the client is the Nth address from the right of
	// X-Forwarded-For (mesh.num_trusted_proxies).
	NumTrustedProxies int
	// PolicyFiles are the policy files the policies globs named, and
	// PolicyGlobs the globs, absolute: a file that comes to match one, or
	// stops matching, reloads the routes file too.
	PolicyFiles, PolicyGlobs []string
	// Identity is the gateway's SPIFFE identity, read from the files the
	// identity block names, or nil without one.
	Identity *identity.Identity
}

// Table maps a request's host, path, method and headers to a Rule.
type Table struct {
	exact     map[string]*Host // lower-case names
	wildcards []wildcardHost   // longest suffix first
	fallback  *Host            // the "*" host, or nil
	paths     PathOptions
}

type wildcardHost struct {
	suffix string // ".example.com", lower case
	host   *Host
}

// Host is a compiled virtual host.
type Host struct {
	Name  string
	Rules []*Rule
}

// Rule is a compiled route: what it matches and what it does.
type Rule struct {
	// Name is the route's name; Host is the virtual host it belongs to.
	Name string
	Host *Host
	// Upstream is set when the rule proxies.
	Upstream *UpstreamSpec
	// PrefixRewrite replaces the matched path_prefix before forwarding.
	PrefixRewrite string
	// HostRewrite replaces the Host header sent upstream.
	HostRewrite string
	// Timeout bounds the whole upstream exchange; 0 means the upstream's.
	Timeout time.Duration
	// Retries is the route's retry policy, or nil for none.
	Retries *RetryPolicy
	// Upgrades are the protocols the route lets a client switch to, lower
	// case; see AllowsUpgrade.
	Upgrades []string
	// Redirect or Direct is set when the rule answers by itself.
	Redirect *Redirect
	Direct   *DirectResponse
	// Chain is the rule's plugins, virtual host's and route's merged, in
	// the fixed order of plugins.Order.
	Chain *plugins.Chain

	match ruleMatch
}
