package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
	"github.com/portcullis-gw/portcullis/waf"
)

const egressUsage = `usage:
  portcullis egress check --config FILE [--principal ID] [--from ADDR] [--method M --path P]
                          [--resolve ADDR]... HOST:PORT
      decide, as the forward proxy would, whether a caller may reach HOST:PORT: print the
      destination in canonical form, the decision and the rule that made it, what the tunnel
      must carry, and what the address check says of each address the host resolves to.
      The caller is a principal as Istio writes it (cluster.local/ns/shop/sa/api) and/or an
      address (default 127.0.0.1). --method and --path ask about a plain HTTP request
      instead of a CONNECT tunnel. --resolve gives the addresses the host resolves to
      instead of asking the system's resolver.
      Exit status: 0 when the destination may be reached, 1 when it is refused, 2 for a
      command line or file that is wrong.
`

func egressCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("egress check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, egressUsage) }
	config := fs.String("config", "", "the routes file whose egress block decides")
	principal := fs.String("principal", "", "the caller's SPIFFE principal, cluster.local/ns/NS/sa/SA")
	from := fs.String("from", "127.0.0.1", "the caller's address")
	method := fs.String("method", "", "a plain HTTP request's method")
	path := fs.String("path", "", "a plain HTTP request's path")
	var resolve stringList
	fs.Var(&resolve, "resolve", "an address the host resolves to (may be repeated)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "portcullis egress check: "+format+"\n", a...)
		return 2
	}
	if *config == "" || fs.NArg() != 1 {
		return fail("give --config FILE and one HOST:PORT")
	}
	var c egress.Caller
	var err error
	if c.Addr, err = netip.ParseAddr(*from); err != nil {
		return fail("--from: %v", err)
	}
	if *principal != "" {
		id, err := spiffeid.FromString("spiffe://" + strings.TrimPrefix(*principal, "spiffe://"))
		if err != nil {
			return fail("--principal: %v", err)
		}
		p := identity.NewPeer(id)
		c.Identity = &plugins.Identity{SPIFFEID: id.String(), Principal: p.Principal, TrustDomain: id.TrustDomain().Name(), Namespace: p.Namespace, ServiceAccount: p.ServiceAccount}
	}
	d, err := egress.ParseAuthority(fs.Arg(0), 0)
	if err != nil {
		return fail("%v", err)
	}
	if *method != "" || *path != "" {
		if d.Path, err = routes.NormalizePath(*path, routes.PathOptions{MergeSlashes: true, EscapedSlashes: "keep"}); err != nil || *method == "" {
			return fail("--method and --path go together, and the path must start with /")
		}
		d.Method = *method
	} else {
		d.Tunnel = true
	}
	var addrs []netip.Addr
	for _, r := range resolve {
		a, err := netip.ParseAddr(r)
		if err != nil {
			return fail("--resolve: %v", err)
		}
		addrs = append(addrs, a)
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		return fail("%v", err)
	}
	cfg, err := routes.Load(*config, reg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer cfg.Close()
	var dns routes.EgressDNS
	if cfg.File.Egress != nil {
		dns = cfg.File.Egress.DNS
	}
	return printDecision(stdout, egress.Compile(cfg.File.Egress), c, d, addrs, dns)
}

// printDecision writes what the rules and the address check say of d for
// c, and returns the exit status.
func printDecision(w io.Writer, pol *egress.Policy, c egress.Caller, d egress.Destination, addrs []netip.Addr, dns routes.EgressDNS) int {
	fmt.Fprintf(w, "destination: %s\n", netipJoin(d))
	caller := c.Addr.String()
	if c.Identity != nil {
		caller = c.Identity.Principal + " at " + caller
	}
	fmt.Fprintf(w, "caller: %s\n", caller)
	dec := pol.Decide(c, d)
	if dec.Rule == nil {
		fmt.Fprintf(w, "decision: %s (no rule allows it)\n", dec.Outcome)
	} else {
		fmt.Fprintf(w, "decision: %s by rule %q\n", dec.Outcome, dec.Rule.Name)
	}
	if !dec.Allowed() {
		return 1
	}
	if dec.Via.ChecksSNI(d) {
		fmt.Fprintf(w, "tunnel: must open with a TLS ClientHello for %s\n", d.Host)
	}
	if o := dec.Via; o != nil && o.OriginateTLS != nil {
		fmt.Fprintf(w, "tls origination: the gateway speaks TLS to %s, verifying its certificate\n", d.Host)
	}
	var allowed []netip.Prefix
	if dec.Via != nil {
		allowed = dec.Via.CIDRs
	}
	// The guard knows no listeners here: a running gateway also refuses
	// its own.
	guard := egress.NewGuard(nil)
	var verdicts []egress.Verdict
	if len(addrs) > 0 {
		for _, a := range addrs {
			class, _ := egress.Classify(a)
			reason, ok := guard.Check(a, d.Port, allowed)
			verdicts = append(verdicts, egress.Verdict{Addr: a, Class: class, Allowed: ok, Reason: reason})
		}
	} else {
		r, err := egress.NewResolver(resolverConfig(dns))
		if err != nil {
			fmt.Fprintf(w, "resolution: %v\n", err)
			return 1
		}
		host, err := egress.CanonicalHost(d.Name())
		if err != nil {
			fmt.Fprintf(w, "resolution: %v\n", err)
			return 1
		}
		dialled, err := (&egress.Dialer{Resolver: r, Guard: guard}).Resolve(context.Background(), host, d.Port, allowed)
		if len(dialled.Resolved) == 0 && err != nil {
			fmt.Fprintf(w, "resolution: %v\n", err)
			return 1
		}
		verdicts = dialled.Resolved
	}
	code := 0
	for _, v := range verdicts {
		if r := pol.DenyingAddr(c, d, v.Addr); r != nil && v.Allowed && d.Host != "" {
			// As the proxy does once dialled.
			if r.Report {
				v.Reason += fmt.Sprintf(", reported: in a range rule %q would deny", r.Name)
			} else {
				v.Allowed, v.Reason = false, fmt.Sprintf("in a range rule %q denies", r.Name)
			}
		}
		if !v.Allowed {
			code = 1
		}
		fmt.Fprintf(w, "address %s\n", v)
	}
	return code
}

// resolverConfig is the egress dns block as the resolver takes it.
func resolverConfig(dns routes.EgressDNS) egress.ResolverConfig {
	rc := egress.ResolverConfig{
		Timeout: time.Duration(dns.Timeout), MinTTL: time.Duration(dns.MinTTL),
		MaxTTL: time.Duration(dns.MaxTTL), NegativeTTL: time.Duration(dns.NegativeTTL),
	}
	if ap, err := netip.ParseAddrPort(dns.Server); err == nil {
		rc.Server = ap
	}
	return rc
}

func netipJoin(d egress.Destination) string {
	if d.Addr.Is6() {
		return fmt.Sprintf("[%s]:%d", d.Addr, d.Port)
	}
	return fmt.Sprintf("%s:%d", d.Name(), d.Port)
}
