package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// DialFunc dials host (a canonical name, or an IP literal) at port after
// the address guard has checked every address the name resolves to, and
// returns the connection and the address it dialled: Dialer.Dial, or a
// stand-in for it in tests. allowed are the ranges the deciding rule
// names, which the guard lets through. A refusal by the guard wraps
// ErrRefused, a name that does not resolve one of the resolver's errors
// (ErrNXDomain …) or a *net.DNSError.
type DialFunc func(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error)

// DialFunc is Dial as a DialFunc, the host given as text.
func (d *Dialer) DialFunc(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error) {
	h, err := CanonicalHost(host)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	conn, dialled, err := d.Dial(ctx, h, port, allowed)
	return conn, dialled.Addr, err
}

// Proxy carries the tunnels and requests of a forward_proxy listener.
type Proxy struct {
	// Dial dials destinations through the address guard.
	Dial DialFunc
	// Limiter counts tunnels by caller and destination across reloads.
	Limiter *Limiter
	// Pool keeps the connections of plain requests between requests;
	// nil opens one for each request.
	Pool *Pool
	// Done is closed when every tunnel must end (the drain timeout has
	// passed); nil never is.
	Done <-chan struct{}
	// Policies, when set, holds the policy in force: an open tunnel that
	// a reload's rules no longer allow ends at once. Nil leaves open
	// tunnels to the rules they opened under.
	Policies *Policies
	// Opened, when set, is told of each tunnel as it opens, with the
	// context Serve was given.
	Opened func(ctx context.Context, res *Result)
	// Progress, when set, is told every ReportEvery (zero means
	// DefaultReportEvery) of the bytes an open tunnel carried from the
	// client (received) and to it (sent) since it was last told; the
	// tunnel's Result keeps the rest for when it closes.
	Progress    func(ctx context.Context, received, sent int64)
	ReportEvery time.Duration
}

// Reject is an answer in place of a tunnel or request, for the gateway to
// render and log.
type Reject struct {
	Status int
	// Flag is the Envoy response flag (UF, DF, RL …), or "".
	Flag string
	// Details is %RESPONSE_CODE_DETAILS%.
	Details string
}

// Result is what became of one tunnel or request, for the access log and
// the metrics. The proxy fills it in as it goes.
type Result struct {
	// Dest is the destination as asked, once it parsed.
	Dest Destination
	// Decision is the rules' decision; Decided says there was one.
	Decision Decision
	Decided  bool
	// Reason is why it ended as it did, for the counters: allowed,
	// reported, denied, invalid_target, a limit's name, guard_refused,
	// dns_failed, connect_failed, connect_timeout, tls_origination_failed,
	// sni_mismatch, not_tls.
	Reason string
	// Upstream is the address dialled, and UpstreamLocal the gateway's
	// end of that connection; Opened says a connection was made.
	Upstream      netip.AddrPort
	UpstreamLocal string
	Opened        bool
	// Tunnel is set once a CONNECT tunnel was answered 200; Received
	// and Sent count the bytes from the client to the destination and
	// back through it.
	Tunnel         bool
	Received, Sent int64
	// Details is %RESPONSE_CODE_DETAILS% of an answer the proxy wrote.
	Details string
	// Termination says why a tunnel ended when the proxy ended it.
	Termination string
	// Failure is the upstream transport failure reason, and Flag the
	// Envoy response flag of a failure after a tunnel was answered 200.
	Failure string
	Flag    string
}

// Serve handles one request of a forward_proxy listener: CONNECT opens a
// tunnel; an absolute-form request is forwarded. It returns a Reject when
// it answered nothing, for the gateway to render.
func (p *Proxy) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request, pol *Policy, c Caller, res *Result) *Reject {
	if r.Method == http.MethodConnect {
		return p.connect(ctx, w, r, pol, c, res)
	}
	return p.forward(ctx, w, r, pol, c, res)
}

// admit decides, and takes a place under the limits; release gives it
// back.
func (p *Proxy) admit(pol *Policy, c Caller, d Destination, res *Result) (release func(), rej *Reject) {
	res.Dest = d
	res.Decision, res.Decided = pol.Decide(c, d), true
	if !res.Decision.Allowed() {
		res.Reason = "denied"
		return nil, &Reject{Status: http.StatusForbidden, Details: "egress_denied"}
	}
	ck, dk := c.Key(), net.JoinHostPort(d.Name(), fmt.Sprint(d.Port))
	switch lim := p.Limiter.Acquire(ck, dk, pol.Limits); lim {
	case "":
	case CallerTunnels, CallerRate:
		res.Reason = lim
		return nil, &Reject{Status: http.StatusTooManyRequests, Flag: "RL", Details: "egress_" + lim}
	default:
		res.Reason = lim
		return nil, &Reject{Status: http.StatusServiceUnavailable, Flag: "UO", Details: "egress_" + lim}
	}
	res.Reason = "allowed"
	if res.Decision.Outcome == Report {
		res.Reason = "reported"
	}
	return func() { p.Limiter.Release(ck, dk) }, nil
}

// dial reaches d through the guard within the connect timeout, and says
// what went wrong when it cannot. A name that resolved into a range a deny
// rule names for c is refused once dialled, before a byte is sent (see
// checkResolved).
func (p *Proxy) dial(ctx context.Context, pol *Policy, c Caller, d Destination, port uint16, res *Result) (net.Conn, *Reject) {
	var allowed []netip.Prefix
	if v := res.Decision.Via; v != nil {
		allowed = v.CIDRs
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(pol.Limits.ConnectTimeout))
	defer cancel()
	conn, addr, err := p.Dial(ctx, d.Name(), port, allowed)
	if err == nil {
		if rej := checkResolved(pol, c, d, addr.Addr(), res); rej != nil {
			conn.Close()
			return nil, rej
		}
	}
	if err == nil {
		res.Upstream, res.Opened = addr, true
		res.UpstreamLocal = conn.LocalAddr().String()
		return conn, nil
	}
	res.Failure = err.Error()
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrRefused):
		res.Reason = "guard_refused"
		return nil, &Reject{Status: http.StatusForbidden, Details: "egress_address_refused"}
	case errors.As(err, &dnsErr) || errors.Is(err, ErrNXDomain) || errors.Is(err, ErrNoData) ||
		errors.Is(err, ErrServFail) || errors.Is(err, ErrDNSTimeout):
		res.Reason = "dns_failed"
		return nil, &Reject{Status: http.StatusBadGateway, Flag: "DF", Details: "egress_dns_failed"}
	case ctx.Err() != nil || errors.Is(err, ErrConnectTimeout):
		res.Reason = "connect_timeout"
		return nil, &Reject{Status: http.StatusGatewayTimeout, Flag: "UF", Details: "egress_connect_timeout"}
	default:
		res.Reason = "connect_failed"
		return nil, &Reject{Status: http.StatusBadGateway, Flag: "UF", Details: "egress_connect_failed"}
	}
}

// checkResolved applies the deny rules that name ranges to the address a
// name was dialled at: an enforced one refuses it, one in report mode
// marks an allowed destination reported.
func checkResolved(pol *Policy, c Caller, d Destination, addr netip.Addr, res *Result) *Reject {
	if d.Host == "" {
		return nil // an IP literal met the rules' CIDRs in Decide
	}
	r := pol.DenyingAddr(c, d, addr)
	switch {
	case r == nil:
		return nil
	case r.Report:
		if res.Decision.Outcome == Allow {
			res.Decision.Outcome, res.Decision.Rule, res.Reason = Report, r, "reported"
		}
		return nil
	}
	res.Decision, res.Reason = Decision{Outcome: Deny, Rule: r}, "denied"
	res.Failure = fmt.Sprintf("%s resolved to %s, in a range rule %q denies", d.Host, addr, r.Name)
	return &Reject{Status: http.StatusForbidden, Details: "egress_denied"}
}
