package routes

// Egress is the egress block: the rules a forward_proxy listener applies to
// the destinations callers ask it for. What no rule allows is denied.
type Egress struct {
	// Default is what becomes of a destination no rule allows: deny, the
	// only value, written out so that a reader of the file sees it.
	Default string       `yaml:"default" json:"default"`
	Limits  EgressLimits `yaml:"limits" json:"limits"`
	DNS     EgressDNS    `yaml:"dns" json:"dns"`
	Rules   []EgressRule `yaml:"rules" json:"rules"`
}

// EgressDNS is how the forward proxy resolves destinations: with a DNS
// client and cache of its own, so that it knows every address a name has;
// zero fields take the resolver's defaults.
type EgressDNS struct {
	// Server is the DNS server, ip:port; empty means the first nameserver
	// of /etc/resolv.conf.
	Server string `yaml:"server" json:"server,omitempty"`
	// Timeout bounds one lookup; default 5s.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// MinTTL and MaxTTL bound how long an answer is kept, whatever its
	// records' TTL says; default 5s and 5m. NegativeTTL bounds how long a
	// name that does not resolve is remembered; default 30s.
	MinTTL      Duration `yaml:"min_ttl" json:"min_ttl,omitempty"`
	MaxTTL      Duration `yaml:"max_ttl" json:"max_ttl,omitempty"`
	NegativeTTL Duration `yaml:"negative_ttl" json:"negative_ttl,omitempty"`
}

// EgressLimits bound tunnels and requests through the forward proxy; zero
// means the default.
type EgressLimits struct {
	// ConnectTimeout bounds the dial to a destination; default 5s.
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// IdleTimeout ends a tunnel in which no byte crossed either way for
	// this long, and a plain request whose destination moved no byte for
	// this long (504 before its response); default 5m.
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// MaxTunnelLifetime ends any tunnel this long after it opened; default 1h.
	MaxTunnelLifetime Duration `yaml:"max_tunnel_lifetime" json:"max_tunnel_lifetime"`
	// PerCaller bounds one caller (a principal, else a source address):
	// over it the caller gets 429. PerDestination bounds one destination
	// host:port across callers: over it, 503.
	PerCaller      TunnelLimits `yaml:"per_caller" json:"per_caller"`
	PerDestination TunnelLimits `yaml:"per_destination" json:"per_destination"`
}

// TunnelLimits bound the tunnels and requests of one caller or to one
// destination.
type TunnelLimits struct {
	// MaxTunnels is how many may be open at once; default 256 per caller,
	// 1024 per destination.
	MaxTunnels int `yaml:"max_tunnels" json:"max_tunnels"`
	// PerSecond is how many may open each second, in a token bucket of
	// Burst (default twice the rate); default 100 per caller, none per
	// destination (0 after defaults means no rate limit).
	PerSecond float64 `yaml:"per_second" json:"per_second"`
	Burst     int     `yaml:"burst" json:"burst"`
}

// EgressRule allows or denies callers some destinations.
type EgressRule struct {
	// Name names the rule in logs and metrics; default rules[i].
	Name string     `yaml:"name" json:"name"`
	From EgressFrom `yaml:"from" json:"from"`
	To   EgressTo   `yaml:"to" json:"to"`
	// Action is allow (the default) or deny. Deny rules are applied
	// before allow rules, as Istio applies DENY policies before ALLOW.
	Action string `yaml:"action" json:"action"`
	// Mode is enforce (the default) or report: a deny rule in report mode
	// logs what it would deny and lets it pass, and an allow rule in
	// report mode lets its callers reach what no rule allows, logged as
	// what the rules would deny, for a safe roll-out.
	Mode string `yaml:"mode" json:"mode"`
	// TLS is what a tunnel to one of TLSPorts must carry: sni_must_match
	// (the default for rules by host name) asks for a TLS ClientHello
	// whose server name is the host asked for; any (the default for rules
	// by CIDR alone) lets any bytes through. Under sni_must_match a plain
	// request to one of TLSPorts is refused unless the rule originates TLS.
	TLS string `yaml:"tls" json:"tls"`
	// TLSPorts are the ports where TLS is checked; default [443].
	TLSPorts []int `yaml:"tls_ports" json:"tls_ports,omitempty"`
	// OriginateTLS makes the gateway speak TLS to the destination for a
	// plain-HTTP request the workload sent to the proxy.
	OriginateTLS *OriginateTLS `yaml:"originate_tls" json:"originate_tls,omitempty"`
}

// EgressFrom selects callers; every field set must match, and a field
// matches when any of its values does. An empty From matches every caller.
type EgressFrom struct {
	// Principals are callers' SPIFFE IDs as Istio writes them
	// (cluster.local/ns/shop/sa/api), or "*" for any verified caller.
	Principals []string `yaml:"principals" json:"principals,omitempty"`
	// Namespaces are the namespaces of callers' SPIFFE IDs.
	Namespaces []string `yaml:"namespaces" json:"namespaces,omitempty"`
	// SourceCIDRs are callers' addresses.
	SourceCIDRs []CIDR `yaml:"source_cidrs" json:"source_cidrs,omitempty"`
}

// EgressTo selects destinations: a host (or an address in CIDRs) and a port
// from Ports, and for plain HTTP requests a method and a path prefix.
type EgressTo struct {
	// Hosts are names, compared in canonical form (lower case, no
	// trailing dot, A-labels), or *.suffix for any name under suffix but
	// not suffix itself. IP addresses belong in CIDRs.
	Hosts []string `yaml:"hosts" json:"hosts,omitempty"`
	// CIDRs are the addresses a caller may name as IP literals; naming a
	// range here is also what lets the address guard dial into it. In a
	// deny rule they also refuse a name that resolves into them.
	CIDRs []CIDR `yaml:"cidrs" json:"cidrs,omitempty"`
	// Ports are required.
	Ports []int `yaml:"ports" json:"ports"`
	// Methods and PathPrefixes apply to plain HTTP requests only: an allow
	// rule with either never matches a CONNECT tunnel, and a deny rule
	// with either denies every tunnel to its hosts and ports, which could
	// carry the requests it denies.
	Methods      []string `yaml:"methods" json:"methods,omitempty"`
	PathPrefixes []string `yaml:"path_prefixes" json:"path_prefixes,omitempty"`
}

// OriginateTLS is TLS from the gateway to the destination, Istio's egress
// TLS origination: the server's certificate is always verified for the
// host asked.
type OriginateTLS struct {
	// Port is the destination port dialled; default the request's.
	Port int `yaml:"port" json:"port,omitempty"`
	// CAFile verifies the destination; empty means the system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// Identity presents the gateway's SVID as a client certificate (mutual
	// TLS); it needs the identity block.
	Identity bool `yaml:"identity" json:"identity,omitempty"`
}
