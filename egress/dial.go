package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// DefaultConnectTimeout bounds a connection attempt when Dialer.Timeout is
// zero: a connect is never left to the kernel's minutes-long default.
const DefaultConnectTimeout = 10 * time.Second

// ErrRefused is wrapped by every refusal of the guard.
var ErrRefused = errors.New("address refused")

// ErrConnectTimeout is wrapped when no address answered within the
// connect timeout.
var ErrConnectTimeout = errors.New("connect timeout")

// Verdict is the guard's word on one resolved address.
type Verdict struct {
	Addr    netip.Addr
	Class   string
	Allowed bool
	Reason  string
}

// Dialled tells what a Dial did, for the access log and for
// `portcullis egress check`: every address the name resolved to with the
// guard's verdict, and the one address connected to, if any.
type Dialled struct {
	Host     Host
	Port     uint16
	Resolved []Verdict
	// Addr is the address connected to; it is the zero AddrPort when the
	// dial was refused or failed.
	Addr netip.AddrPort
	// LookupTime is how long the name took to resolve (0 for an IP
	// literal), ConnectTime how long connecting took, all attempts.
	LookupTime, ConnectTime time.Duration
}

// Dialer connects to a destination through the guard: it resolves a name
// once with its own resolver, checks every address, and connects to a
// checked address by IP, so that a second lookup (DNS rebinding) has no
// say in where the connection goes.
type Dialer struct {
	Resolver *Resolver
	Guard    *Guard
	// Timeout bounds connecting, all addresses tried together; zero means
	// DefaultConnectTimeout.
	Timeout time.Duration
}

// Resolve does what Dial does short of connecting: it resolves host (an
// IP literal stands for itself) and checks every address for port. The
// error wraps ErrRefused if any address is refused, or the resolver's
// error; Dialled holds the verdicts either way.
//
// One refused address refuses the destination, even beside allowed ones:
// a name whose answers mix public and internal addresses is the shape of a
// rebinding or split-horizon trick, and skipping the internal ones would
// make the outcome depend on which answer a later lookup gives first.
func (d *Dialer) Resolve(ctx context.Context, host Host, port uint16, allowed []netip.Prefix) (Dialled, error) {
	out := Dialled{Host: host, Port: port}
	addrs := []netip.Addr{host.Addr()}
	if !host.IsIP() {
		if host.Name() == "" {
			return out, fmt.Errorf("dial: %w", ErrInvalidHost)
		}
		if d.Resolver == nil {
			return out, fmt.Errorf("dial %s: no resolver for a name", host.Authority(port))
		}
		start := time.Now()
		var err error
		addrs, err = d.Resolver.Lookup(ctx, host.Name())
		out.LookupTime = time.Since(start)
		if err != nil {
			return out, err
		}
	}
	var refusal error
	for _, a := range addrs {
		class, _ := Classify(a)
		reason, ok := d.Guard.Check(a, port, allowed)
		out.Resolved = append(out.Resolved, Verdict{Addr: a, Class: class, Allowed: ok, Reason: reason})
		if !ok && refusal == nil {
			refusal = fmt.Errorf("%s: %s: %w", host.Authority(port), reason, ErrRefused)
		}
	}
	return out, refusal
}

// Dial resolves and checks as Resolve does and, if every address passed,
// connects to them in order until one answers, each by IP. A refusal opens
// no socket at all.
func (d *Dialer) Dial(ctx context.Context, host Host, port uint16, allowed []netip.Prefix) (net.Conn, Dialled, error) {
	out, err := d.Resolve(ctx, host, port, allowed)
	if err != nil {
		return nil, out, err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var errs []error
	for i, v := range out.Resolved {
		// As net.Dialer does, each address gets an equal share of the time
		// left, so that one silent address does not use it all.
		deadline, _ := ctx.Deadline()
		share := time.Until(deadline) / time.Duration(len(out.Resolved)-i)
		ap := netip.AddrPortFrom(v.Addr, port)
		nd := net.Dialer{Timeout: share}
		conn, err := nd.DialTCP(ctx, "tcp", netip.AddrPort{}, ap) // by address: no lookup can happen here
		if err == nil {
			out.Addr, out.ConnectTime = ap, time.Since(start)
			return conn, out, nil
		}
		if isTimeout(err) {
			err = fmt.Errorf("%w: %w", ErrConnectTimeout, err)
		}
		errs = append(errs, err)
	}
	out.ConnectTime = time.Since(start)
	return nil, out, fmt.Errorf("connect %s: %w", host.Authority(port), errors.Join(errs...))
}

// String gives the verdict as the access log and `portcullis egress check`
// show it: "10.0.0.1 refused: private address in 10.0.0.0/8".
func (v Verdict) String() string {
	word := " refused: "
	if v.Allowed {
		word = " allowed: "
	}
	return v.Addr.String() + word + v.Reason
}
