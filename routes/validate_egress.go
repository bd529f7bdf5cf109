package routes

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// checkEgress checks the egress block and fills in its defaults. Without
// one, forward_proxy listeners deny everything.
func (c *checker) checkEgress() {
	e := c.f.Egress
	if e == nil {
		return
	}
	root := c.scope("egress", e)
	root.oneOf("default", &e.Default, "deny")
	checkEgressLimits(root, &e.Limits)
	checkEgressDNS(root, &e.DNS)
	names := make(map[string]int)
	for i := range e.Rules {
		r := &e.Rules[i]
		if r.Name == "" {
			r.Name = fmt.Sprintf("rules[%d]", i)
		}
		s := c.scope(fmt.Sprintf("egress: rule %q", r.Name), r)
		c.unique(s, names, &r.Name)
		c.checkEgressRule(s, r)
	}
}

func checkEgressDNS(s scope, d *EgressDNS) {
	if d.Server != "" {
		if ap, err := netip.ParseAddrPort(d.Server); err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
			s.errorf(&d.Server, "dns.server: %q is not ip:port", d.Server)
		}
	}
	if d.MinTTL > 0 && d.MaxTTL > 0 && d.MinTTL > d.MaxTTL {
		s.errorf(&d.MinTTL, "dns.min_ttl: %s is above max_ttl %s", d.MinTTL, d.MaxTTL)
	}
}

func checkEgressLimits(s scope, l *EgressLimits) {
	for _, d := range []struct {
		name string
		v    *Duration
		def  time.Duration
	}{
		{"connect_timeout", &l.ConnectTimeout, 5 * time.Second},
		{"idle_timeout", &l.IdleTimeout, 5 * time.Minute},
		{"max_tunnel_lifetime", &l.MaxTunnelLifetime, time.Hour},
	} {
		fill(d.v, Duration(d.def))
	}
	checkTunnelLimits(s, "limits.per_caller", &l.PerCaller, 256, 100)
	checkTunnelLimits(s, "limits.per_destination", &l.PerDestination, 1024, 0)
}

func checkTunnelLimits(s scope, field string, t *TunnelLimits, maxTunnels int, perSecond float64) {
	if t.MaxTunnels < 0 {
		s.errorf(&t.MaxTunnels, "%s.max_tunnels: must not be negative, got %d", field, t.MaxTunnels)
	}
	if t.PerSecond < 0 {
		s.errorf(&t.PerSecond, "%s.per_second: must not be negative, got %g", field, t.PerSecond)
	}
	if t.Burst < 0 {
		s.errorf(&t.Burst, "%s.burst: must not be negative, got %d", field, t.Burst)
	}
	if t.Burst > 0 && t.PerSecond == 0 && perSecond == 0 {
		s.errorf(&t.Burst, "%s.burst: needs per_second", field)
	}
	fill(&t.MaxTunnels, maxTunnels)
	fill(&t.PerSecond, perSecond)
	fill(&t.Burst, int(2*t.PerSecond+0.999))
}

func (c *checker) checkEgressRule(s scope, r *EgressRule) {
	s.oneOf("action", &r.Action, "allow", "deny")
	s.oneOf("mode", &r.Mode, "enforce", "report")
	for i := range r.From.Principals {
		if p := &r.From.Principals[i]; *p != "*" {
			checkPrincipal(s, p, fmt.Sprintf("from.principals[%d]", i))
		}
	}
	for i, ns := range r.From.Namespaces {
		if err := dnsLabel(ns, false); err != nil {
			s.errorf(&r.From.Namespaces[i], "from.namespaces[%d]: %v", i, err)
		}
	}
	to := &r.To
	if len(to.Hosts) == 0 && len(to.CIDRs) == 0 {
		s.errorf(to, "to: needs hosts or cidrs")
	}
	for i := range to.Hosts {
		checkRuleHost(s, &to.Hosts[i], i)
	}
	if len(to.Ports) == 0 {
		s.errorf(&to.Ports, "to.ports: is required (a rule names the ports it covers)")
	}
	for i, p := range to.Ports {
		if p < 1 || p > 65535 {
			s.errorf(&to.Ports[i], "to.ports[%d]: must be 1-65535, got %d", i, p)
		}
	}
	for i, m := range to.Methods {
		if !httpguts.ValidHeaderFieldName(m) || strings.ToUpper(m) != m || m == "CONNECT" {
			s.errorf(&to.Methods[i], "to.methods[%d]: %q is not an upper-case method a plain request can have", i, m)
		}
	}
	for i, p := range to.PathPrefixes {
		if !strings.HasPrefix(p, "/") {
			s.errorf(&to.PathPrefixes[i], "to.path_prefixes[%d]: must start with /, got %q", i, p)
		}
	}
	if len(to.Hosts) == 0 {
		s.oneOf("tls", &r.TLS, "any", "sni_must_match")
	} else {
		s.oneOf("tls", &r.TLS, "sni_must_match", "any")
	}
	if r.TLS == "sni_must_match" && len(to.Hosts) == 0 {
		s.errorf(&r.TLS, "tls: sni_must_match needs hosts to match the server name against")
	}
	for i, p := range r.TLSPorts {
		if p < 1 || p > 65535 {
			s.errorf(&r.TLSPorts[i], "tls_ports[%d]: must be 1-65535, got %d", i, p)
		}
	}
	if r.TLSPorts == nil {
		r.TLSPorts = []int{443}
	}
	if r.OriginateTLS != nil {
		c.checkOriginateTLS(s, r)
	}
}

// checkRuleHost checks a rule's host and puts it in canonical form: a name,
// or *. and a name.
func checkRuleHost(s scope, h *string, i int) {
	name, wildcard := strings.CutPrefix(*h, "*.")
	if strings.Contains(name, "*") {
		s.errorf(h, "to.hosts[%d]: %q: a wildcard is only a leading *. before a name", i, *h)
		return
	}
	canon, err := CanonicalName(name)
	if err != nil {
		s.errorf(h, "to.hosts[%d]: %v", i, err)
		return
	}
	if wildcard && !strings.Contains(canon, ".") {
		s.errorf(h, "to.hosts[%d]: %q would cover a whole top-level domain", i, *h)
		return
	}
	if wildcard {
		canon = "*." + canon
	}
	*h = canon
}

func (c *checker) checkOriginateTLS(s scope, r *EgressRule) {
	o := r.OriginateTLS
	if r.Action != "allow" {
		s.errorf(o, "originate_tls: only an allow rule can originate TLS")
	}
	if len(r.To.Hosts) == 0 {
		s.errorf(o, "originate_tls: needs hosts, whose names the server's certificate is verified for")
	}
	if o.Port < 0 || o.Port > 65535 {
		s.errorf(&o.Port, "originate_tls.port: must be 1-65535, got %d", o.Port)
	}
	if o.Identity && c.f.Identity == nil {
		s.errorf(&o.Identity, "originate_tls.identity: needs the identity block, whose SVID the gateway presents")
	}
	if o.CAFile != "" {
		written := o.CAFile
		o.CAFile = c.abs(o.CAFile)
		data, err := readPEM(written, o.CAFile)
		switch {
		case err != nil:
			s.errorf(&o.CAFile, "originate_tls.ca_file: %v", err)
		case !x509.NewCertPool().AppendCertsFromPEM(data):
			s.errorf(&o.CAFile, "originate_tls.ca_file: %q holds no PEM certificate", written)
		}
	}
}
