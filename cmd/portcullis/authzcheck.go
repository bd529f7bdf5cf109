package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// authzFlags hands the authz command its arguments whole: its subcommand
// (check) has flags of its own.
func authzFlags(*flag.FlagSet) func(args []string, stdout, stderr io.Writer) int {
	return authzCommand
}

// headerFlags collects repeated --header "Name: value" flags.
type headerFlags http.Header

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

// checkRequest is what `authz check` is told of the request.
type checkRequest struct {
	config, method, principal, cert, source, remote, local, sni, requestPrincipal string
	header                                                                        headerFlags
}

// authzCommand runs `portcullis authz check`: it loads a routes file and
// its policies, routes the request it is told of, and prints the route, the
// policies that guard it, each one's verdict with the rule that matched,
// and the decision, like istioctl x authz check for one request. It exits
// 0 when the request is allowed, 1 when it is denied or the file does not
// load, and 2 for a command line that does not parse.
func authzCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "portcullis authz: want the subcommand check: portcullis authz check --config FILE [flags] URL")
		return 2
	}
	fs := flag.NewFlagSet("portcullis authz check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	q := checkRequest{header: headerFlags{}}
	fs.StringVar(&q.config, "config", os.Getenv("PORTCULLIS_CONFIG"), "the routes file, which names the policies")
	fs.StringVar(&q.method, "method", "GET", "the request method")
	fs.StringVar(&q.principal, "principal", "", "the caller's mTLS principal as Istio writes it: cluster.local/ns/NS/sa/SA")
	fs.StringVar(&q.cert, "cert", "", "the caller's certificate (PEM), whose SPIFFE ID is its principal")
	fs.StringVar(&q.source, "source-ip", "127.0.0.1", "the direct peer's address (source.ip)")
	fs.StringVar(&q.remote, "remote-ip", "", "the client's address behind proxies (remote.ip); default the source")
	fs.StringVar(&q.local, "destination", "127.0.0.1:443", "the gateway's address and port the request came in on")
	fs.StringVar(&q.sni, "sni", "", "the TLS server name the client sent")
	fs.StringVar(&q.requestPrincipal, "request-principal", "", "the verified token's iss/sub (request.auth.principal)")
	fs.Var(q.header, "header", `a request header "Name: value" (repeatable)`)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 || q.config == "" {
		fmt.Fprintln(stderr, "portcullis authz check: want --config FILE and one URL")
		return 2
	}
	reg, err := registry(waf.New(waf.Options{}), authz.New(nil))
	if err != nil {
		fmt.Fprintln(stderr, "portcullis:", err)
		return 2
	}
	cfg, err := routes.Load(q.config, reg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer cfg.Close()
	allowed, err := q.check(cfg, fs.Arg(0), stdout)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis authz check:", err)
		return 1
	}
	if !allowed {
		return 1
	}
	return 0
}

// check routes the request and prints what decides it.
func (q *checkRequest) check(cfg *routes.Config, target string, out io.Writer) (bool, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return false, fmt.Errorf("URL %q: want an absolute URL such as https://svc.example.com/path", target)
	}
	raw := rawPath(target)
	path, err := routes.NormalizePath(raw, cfg.Table.Paths())
	if err != nil {
		fmt.Fprintf(out, "path %q: refused with 400 before any policy (%v)\n", raw, err)
		return false, nil
	}
	hr := &http.Request{Method: q.method, URL: &url.URL{Path: path, RawQuery: u.RawQuery}, Host: u.Host,
		Header: http.Header(q.header), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: http.NoBody}
	rule, host := cfg.Table.Match(u.Host, path, q.method, hr.Header)
	if rule == nil {
		fmt.Fprintf(out, "route: none for %s %s%s (404)\n", q.method, u.Host, path)
		return false, nil
	}
	req, err := q.request(hr, path, u.RawQuery)
	if err != nil {
		return false, err
	}
	workload := "none (only the root namespace's policies apply)"
	if up := rule.Upstream; up != nil {
		workload = fmt.Sprintf("upstream %s, namespace %q, labels %v", up.Name, up.Namespace, up.Labels)
	}
	fmt.Fprintf(out, "route: %s/%s (%s)\n", host.Name, rule.Name, workload)
	var guard *authz.Guard
	for _, h := range rule.Chain.Handlers {
		if a, ok := h.(*authz.Authz); ok {
			guard = a.Guard()
		}
	}
	if guard == nil {
		fmt.Fprintln(out, "policies: none apply\ndecision: ALLOW (no policy guards the route)")
		return true, nil
	}
	fmt.Fprintln(out, "policies:")
	for _, v := range guard.Explain(req) {
		p := v.Policy
		kind := p.Action.String()
		if p.DryRun {
			kind += " (dry-run)"
		}
		verdict := "no rule matched"
		if v.Rule >= 0 {
			verdict = fmt.Sprintf("rule %d matched: %s", v.Rule, v.ID)
		}
		fmt.Fprintf(out, "  %-18s %s/%s (%s:%d): %s\n", kind, p.Namespace, p.Name, p.File, p.Line, verdict)
	}
	d := guard.Decide(req)
	if d.Custom.Policy != nil {
		// The check cannot call the authorizer: it says what the gateway
		// would ask, and what the other policies decide if it allows.
		p := guard.Provider()
		fmt.Fprintf(out, "custom: %s would ask provider %s (upstream %s); a denial there is final, else:\n", d.Custom.ID, p.Name, p.Upstream)
	}
	switch {
	case d.Allowed && d.By.Policy != nil:
		fmt.Fprintf(out, "decision: ALLOW by %s\n", d.By.ID)
	case d.Allowed:
		fmt.Fprintln(out, "decision: ALLOW (no ALLOW policy applies, and no DENY policy matched)")
	default:
		fmt.Fprintf(out, "decision: DENY, 403 RBAC: access denied, %s\n", d.Details)
	}
	return d.Allowed, nil
}

// request builds the view the plugins would get.
func (q *checkRequest) request(hr *http.Request, path, query string) (*plugins.Request, error) {
	v := new(plugins.StdRequest)
	v.Reset(hr)
	v.SetTarget(path, query)
	r := &plugins.Request{RequestView: v, SNI: q.sni}
	var err error
	if r.Peer, err = parseAddrPort(q.source, 0); err != nil {
		return nil, fmt.Errorf("--source-ip: %w", err)
	}
	r.Client = r.Peer.Addr()
	if q.remote != "" {
		a, err := netip.ParseAddr(q.remote)
		if err != nil {
			return nil, fmt.Errorf("--remote-ip: %w", err)
		}
		r.Client = a.Unmap()
	}
	if r.Local, err = parseAddrPort(q.local, 443); err != nil {
		return nil, fmt.Errorf("--destination: %w", err)
	}
	principal := q.principal
	if q.cert != "" {
		if principal != "" {
			return nil, errors.New("--principal and --cert: give one")
		}
		if principal, err = certPrincipal(q.cert); err != nil {
			return nil, fmt.Errorf("--cert: %w", err)
		}
	}
	if principal != "" {
		r.Identity = identityOf(principal)
	}
	if q.requestPrincipal != "" {
		iss, sub, _ := cutLast(q.requestPrincipal, "/")
		r.Auth = &plugins.RequestAuth{Principal: q.requestPrincipal, Claims: map[string]any{"iss": iss, "sub": sub}}
	}
	return r, nil
}

// rawPath returns the path of an absolute URL as it is written, before
// any query or fragment: the bytes a client would send, which the gateway
// normalises itself (net/url would escape a backslash that the gateway
// reads as a slash).
func rawPath(target string) string {
	_, rest, _ := strings.Cut(target, "://")
	i := strings.IndexAny(rest, "/?#")
	if i < 0 || rest[i] != '/' {
		return "/"
	}
	p := rest[i:]
	if j := strings.IndexAny(p, "?#"); j >= 0 {
		p = p[:j]
	}
	return p
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// parseAddrPort reads ip or ip:port.
func parseAddrPort(s string, port uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", s)
	}
	return netip.AddrPortFrom(a.Unmap(), port), nil
}

// identityOf is the identity a verified certificate with this principal
// gives a request.
func identityOf(principal string) *plugins.Identity {
	td, rest, _ := strings.Cut(principal, "/")
	id := &plugins.Identity{SPIFFEID: "spiffe://" + principal, Principal: principal, TrustDomain: td}
	if parts := strings.Split(rest, "/"); len(parts) == 4 && parts[0] == "ns" && parts[2] == "sa" {
		id.Namespace, id.ServiceAccount = parts[1], parts[3]
	}
	return id
}

// certPrincipal reads the SPIFFE ID of a PEM certificate, as Istio writes
// it: without spiffe://.
func certPrincipal(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	for _, u := range c.URIs {
		if id, err := spiffeid.FromURI(u); err == nil {
			return strings.TrimPrefix(id.String(), "spiffe://"), nil
		}
	}
	return "", errors.New("the certificate has no SPIFFE ID")
}
