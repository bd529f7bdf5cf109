package egress

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// Policy is the compiled egress block: immutable, one per configuration.
type Policy struct {
	deny, allow []*Rule
	// Limits are the block's limits with their defaults filled in.
	Limits routes.EgressLimits
	// ClientCert is the gateway's SVID, which TLS origination with
	// identity presents; nil without an identity block.
	ClientCert *tls.Certificate

	// err is why a rule's CA file could not be read as Compile built it.
	err error
}

// Rule is one compiled egress rule.
type Rule struct {
	// Name is the rule's name in logs and metrics.
	Name string
	// Report is set for a rule in mode report.
	Report bool
	// CIDRs are the ranges the rule names: the address guard lets the
	// destinations it allows resolve into them.
	CIDRs []netip.Prefix
	// OriginateTLS is the rule's TLS origination, or nil.
	OriginateTLS *routes.OriginateTLS
	// roots verify the destination of TLS origination: its CA file as
	// read with the routes file (a reload rereads it), or nil for the
	// system roots.
	roots *x509.CertPool

	allow                  bool
	principals, namespaces []string
	sources                []netip.Prefix
	exact                  map[string]bool
	suffixes               []string // ".example.com" for "*.example.com"
	ports                  []uint16
	methods, pathPrefixes  []string
	sniMustMatch           bool
	tlsPorts               []uint16
}

// Caller is who asks for a destination: a verified identity, else an
// address.
type Caller struct {
	// Identity is the caller's verified SPIFFE identity, or nil.
	Identity *plugins.Identity
	// Addr is the caller's address.
	Addr netip.Addr
}

// Key is what limits count a caller by: its principal, else its address.
func (c Caller) Key() string {
	if c.Identity != nil && c.Identity.Principal != "" {
		return c.Identity.Principal
	}
	return c.Addr.String()
}

// Destination is what a caller asks for.
type Destination struct {
	// Host is the canonical host name, or "" for an IP literal.
	Host string
	// Addr is the IP literal the caller named, or the zero Addr for a name.
	Addr netip.Addr
	Port uint16
	// Tunnel is set for CONNECT; Method and Path (normalised) are a plain
	// HTTP request's.
	Tunnel       bool
	Method, Path string
}

// Name is the host name or the address, as the dialer takes it.
func (d Destination) Name() string {
	if d.Host != "" {
		return d.Host
	}
	return d.Addr.String()
}

// Outcomes of a decision.
const (
	Allow  = "allow"
	Deny   = "deny"
	Report = "report" // would be denied, and passes: a rule in mode report
)

// DefaultRule names the decision that no rule made.
const DefaultRule = "default"

// Decision is what the rules say of a caller and a destination.
type Decision struct {
	// Outcome is Allow, Deny or Report; a Report passes.
	Outcome string
	// Rule is the rule that decided: the allowing or denying rule, the
	// reporting one, or nil for the default deny.
	Rule *Rule
	// Via is the allow rule whose settings (CIDRs, TLS checks, TLS
	// origination) apply to the destination, or nil.
	Via *Rule
}

// Allowed reports whether the destination may be reached.
func (d Decision) Allowed() bool { return d.Outcome != Deny }

// RuleName is the deciding rule's name, or DefaultRule.
func (d Decision) RuleName() string {
	if d.Rule == nil {
		return DefaultRule
	}
	return d.Rule.Name
}

// Compile builds the policy of an egress block; nil denies everything.
func Compile(e *routes.Egress) *Policy {
	p := &Policy{}
	if e == nil {
		return p
	}
	p.Limits = e.Limits
	for i := range e.Rules {
		r := compileRule(&e.Rules[i])
		if err := r.loadRoots(); err != nil {
			p.err = errors.Join(p.err, fmt.Errorf("egress rule %q: %w", r.Name, err))
		}
		if r.allow {
			p.allow = append(p.allow, r)
		} else {
			p.deny = append(p.deny, r)
		}
	}
	return p
}

// Err reports a CA file that Compile could not read, which the routes
// file's validation read a moment before: the policy must not serve.
func (p *Policy) Err() error { return p.err }

// loadRoots reads the CA file of the rule's TLS origination once, so that
// no request reads a file and a change to it takes effect with a reload.
func (r *Rule) loadRoots() error {
	o := r.OriginateTLS
	if o == nil || o.CAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return fmt.Errorf("originate_tls.ca_file: %w", err)
	}
	r.roots = x509.NewCertPool()
	if !r.roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("originate_tls.ca_file: %s holds no PEM certificate", o.CAFile)
	}
	return nil
}

func compileRule(spec *routes.EgressRule) *Rule {
	r := &Rule{
		Name:         spec.Name,
		Report:       spec.Mode == "report",
		OriginateTLS: spec.OriginateTLS,
		allow:        spec.Action != "deny",
		principals:   spec.From.Principals,
		namespaces:   spec.From.Namespaces,
		exact:        make(map[string]bool),
		methods:      spec.To.Methods,
		pathPrefixes: spec.To.PathPrefixes,
		sniMustMatch: spec.TLS == "sni_must_match",
	}
	for _, c := range spec.From.SourceCIDRs {
		r.sources = append(r.sources, c.Prefix())
	}
	for _, c := range spec.To.CIDRs {
		r.CIDRs = append(r.CIDRs, c.Prefix())
	}
	for _, h := range spec.To.Hosts {
		if suffix, ok := strings.CutPrefix(h, "*"); ok {
			r.suffixes = append(r.suffixes, suffix)
		} else {
			r.exact[h] = true
		}
	}
	for _, p := range spec.To.Ports {
		r.ports = append(r.ports, uint16(p))
	}
	for _, p := range spec.TLSPorts {
		r.tlsPorts = append(r.tlsPorts, uint16(p))
	}
	return r
}

// Decide applies the rules: a deny rule that matches denies (in mode
// report, it is logged and passes over); else an allow rule that matches
// allows; else an allow rule in mode report whose callers include this one
// lets it pass, reported; else the default denies.
func (p *Policy) Decide(c Caller, d Destination) Decision {
	var reported *Rule
	for _, r := range p.deny {
		if !r.matchesCaller(c) || !r.matchesDestination(d) {
			continue
		}
		if !r.Report {
			return Decision{Outcome: Deny, Rule: r}
		}
		if reported == nil {
			reported = r
		}
	}
	for _, r := range p.allow {
		if r.matchesCaller(c) && r.matchesDestination(d) {
			if reported != nil {
				return Decision{Outcome: Report, Rule: reported, Via: r}
			}
			return Decision{Outcome: Allow, Rule: r, Via: r}
		}
	}
	for _, r := range p.allow {
		if r.Report && r.matchesCaller(c) {
			return Decision{Outcome: Report, Rule: r}
		}
	}
	return Decision{Outcome: Deny}
}

// DenyingAddr returns the deny rule that names addr's range for c and the
// rest of d, an enforced one before one in report mode, or nil: a name the
// rules allow is still refused when it resolves into a range a deny rule
// names, as an IP literal would be, and reported under one in report mode.
func (p *Policy) DenyingAddr(c Caller, d Destination, addr netip.Addr) *Rule {
	d.Host, d.Addr = "", addr
	var reported *Rule
	for _, r := range p.deny {
		if len(r.CIDRs) == 0 || !r.matchesCaller(c) || !r.matchesDestination(d) {
			continue
		}
		if !r.Report {
			return r
		}
		if reported == nil {
			reported = r
		}
	}
	return reported
}

func (r *Rule) matchesCaller(c Caller) bool {
	id := c.Identity
	if len(r.principals) > 0 {
		if id == nil || !slices.Contains(r.principals, id.Principal) && !slices.Contains(r.principals, "*") {
			return false
		}
	}
	if len(r.namespaces) > 0 && (id == nil || id.Namespace == "" || !slices.Contains(r.namespaces, id.Namespace)) {
		return false
	}
	return len(r.sources) == 0 || containsAddr(r.sources, c.Addr)
}

// matchesDestination: an IP literal matches only the rule's CIDRs, a name
// only its hosts. A tunnel hides the requests it carries: an allow rule
// with methods or path prefixes never matches one, and a deny rule with
// them matches every tunnel to its hosts and ports, as Istio's DENY drops
// its HTTP-only fields on TCP, since the tunnel could carry a request it
// denies.
func (r *Rule) matchesDestination(d Destination) bool {
	if !slices.Contains(r.ports, d.Port) {
		return false
	}
	if d.Host == "" {
		if !d.Addr.IsValid() || !containsAddr(r.CIDRs, d.Addr) {
			return false
		}
	} else if !r.matchesHost(d.Host) {
		return false
	}
	if len(r.methods) == 0 && len(r.pathPrefixes) == 0 {
		return true
	}
	if d.Tunnel {
		return !r.allow
	}
	if len(r.methods) > 0 && !slices.Contains(r.methods, d.Method) {
		return false
	}
	if len(r.pathPrefixes) == 0 {
		return true
	}
	return slices.ContainsFunc(r.pathPrefixes, func(p string) bool { return strings.HasPrefix(d.Path, p) })
}

func (r *Rule) matchesHost(host string) bool {
	if r.exact[host] {
		return true
	}
	for _, s := range r.suffixes {
		// host is canonical and s starts with a dot, so the apex and
		// look-alikes (evil-example.com) never match.
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// ChecksSNI reports whether a tunnel to d must open with a TLS ClientHello
// whose server name is d's host.
func (r *Rule) ChecksSNI(d Destination) bool {
	return r != nil && r.sniMustMatch && d.Host != "" && slices.Contains(r.tlsPorts, d.Port)
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
