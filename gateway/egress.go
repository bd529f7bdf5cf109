package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
)

// forwardProxy serves a request on a forward_proxy listener: the egress
// proxy decides and carries it; the gateway renders its refusals, and
// finish logs the one line and counts it.
func (g *Gateway) forwardProxy(w *responseWriter, r *http.Request, ex *exchange) {
	if r.Header[":protocol"] != nil {
		// RFC 8441's extended CONNECT asks for a protocol over a
		// stream; the proxy carries plain CONNECT tunnels.
		g.local(w, ex, http.StatusBadRequest, "", accesslog.DownstreamProtocolError, "egress_extended_connect")
		return
	}
	l := ex.conn.listener
	caller := egress.Caller{Identity: ex.req.Identity, Addr: ex.req.Client}
	if l.callerHeader != "" {
		if ex.peerTrusted {
			if a, ok := lastCallerAddr(r.Header.Values(l.callerHeader)); ok {
				caller.Addr = a
			}
		}
		r.Header.Del(l.callerHeader)
	}
	ex.req.Metadata.Set(egressMetadata, "caller", caller.Key())
	ex.egress = &ex.egressResult
	res := ex.egress
	if r.ProtoMajor == 1 && r.Method == http.MethodConnect {
		// Whatever the client sent after a CONNECT that gets no tunnel
		// is not a request to read next.
		w.Header()["Connection"] = []string{"close"}
	}
	// A tunnel has the egress block's idle timeout, not the listener's.
	w.tunnelIdle = 0
	ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
	rej := g.egress.Serve(ctx, w, r, ex.snap.egress, caller, res)
	if res.Tunnel {
		w.status = http.StatusOK
		delete(w.Header(), "Connection")
	}
	if rej != nil {
		flag, _ := accesslog.ParseFlag(rej.Flag)
		if rej.Status == http.StatusTooManyRequests {
			w.Header()["Retry-After"] = []string{"1"}
		}
		g.local(w, ex, rej.Status, "", flag, rej.Details)
		return
	}
	ex.rec.ResponseCodeDetails = res.Details
	if res.Tunnel && res.Details == "" {
		ex.rec.ResponseCodeDetails = "egress_tunnel"
	}
}

// lastCallerAddr reads the caller's address from the caller header's
// lines: the last value, on its own line or after a comma, since a
// trusted proxy that appends puts its word after whatever the client sent.
func lastCallerAddr(lines []string) (netip.Addr, bool) {
	if len(lines) == 0 {
		return netip.Addr{}, false
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	a, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// logEgress fills the access-log record of a forward-proxy exchange and
// counts it; finish calls it before writing the line. The request's
// labels get the destination: the host reached, or Istio's
// BlackHoleCluster for what was refused.
func (g *Gateway) logEgress(ex *exchange, l *metrics.Labels) {
	res, rec, md := ex.egress, &ex.rec, &ex.req.Metadata
	decision, rule, dest := egress.Deny, "", ""
	if res.Decided {
		decision, rule = res.Decision.Outcome, res.Decision.RuleName()
	}
	if res.Dest.Port != 0 {
		dest = net.JoinHostPort(res.Dest.Name(), strconv.Itoa(int(res.Dest.Port)))
		rec.UpstreamCluster = fmt.Sprintf("outbound|%d||%s", res.Dest.Port, res.Dest.Name())
	}
	if res.Opened {
		rec.UpstreamHost = res.Upstream.String()
		rec.UpstreamLocalAddress = res.UpstreamLocal
	}
	rec.UpstreamTransportFailureReason = res.Failure
	if flag, ok := accesslog.ParseFlag(res.Flag); ok {
		rec.Flags |= flag
	}
	if res.Termination != "" {
		rec.ConnectionTerminationDetails = res.Termination
	}
	if res.Tunnel {
		rec.BytesReceived, rec.BytesSent = res.Received, res.Sent
		rec.UpstreamWireBytesSent, rec.UpstreamWireBytesReceived = res.Received, res.Sent
	}
	if res.Reason == egress.CallerTunnels || res.Reason == egress.CallerRate ||
		res.Reason == egress.DestinationTunnels || res.Reason == egress.DestinationRate ||
		res.Reason == "sni_mismatch" || res.Reason == "not_tls" || res.Reason == "guard_refused" {
		decision = egress.Deny
	}
	// The destination as asked, the decision, the deciding rule and why
	// it ended as it did: %DYNAMIC_METADATA(portcullis.egress:KEY)%, and
	// dynamic_metadata in the JSON log.
	md.Set(egressMetadata, "destination", dest)
	md.Set(egressMetadata, "decision", decision)
	md.Set(egressMetadata, "rule", rule)
	md.Set(egressMetadata, "reason", res.Reason)
	g.egressMetrics.Decision(ex.conn.listener.name, decision, res.Reason)
	if decision != egress.Deny {
		g.log.Debug().Str("listener", ex.conn.listener.name).Str("destination", dest).
			Str("decision", decision).Str("rule", rule).Msg("egress")
	} else {
		g.log.Info().Str("listener", ex.conn.listener.name).Str("caller", callerKey(ex)).
			Str("destination", dest).Str("rule", rule).Str("reason", res.Reason).Msg("egress refused")
	}
	l.DestinationService = "BlackHoleCluster"
	if res.Opened {
		l.DestinationService = res.Dest.Name()
	}
	if res.Opened && res.Tunnel {
		g.egressMetrics.Closed(*l, rec.Flags, res.Received-ex.tcpReported[0], res.Sent-ex.tcpReported[1])
	}
}

// egressMetadata is the forward proxy's namespace in the access log's
// dynamic metadata.
const egressMetadata = "portcullis.egress"

// callerKey is the caller as the limits count it: its principal, else its
// address.
func callerKey(ex *exchange) string {
	v, _ := ex.req.Metadata.Get(egressMetadata, "caller")
	return v
}

// egressResolver returns the resolver cfg's forward_proxy listeners look
// destinations up with: prev's when the dns block is the same, so that
// its cache survives the reload; nil without a forward_proxy listener.
func egressResolver(cfg *routes.Config, prev *snapshot) (*egress.Resolver, error) {
	if !slices.ContainsFunc(cfg.File.Listeners, func(l routes.Listener) bool { return l.Kind == "forward_proxy" }) {
		return nil, nil
	}
	var dns routes.EgressDNS
	if cfg.File.Egress != nil {
		dns = cfg.File.Egress.DNS
	}
	if prev != nil && prev.resolver != nil && prev.cfg.File.Egress != nil && prev.cfg.File.Egress.DNS == dns {
		return prev.resolver, nil
	}
	rc := egress.ResolverConfig{
		Timeout: time.Duration(dns.Timeout), MinTTL: time.Duration(dns.MinTTL),
		MaxTTL: time.Duration(dns.MaxTTL), NegativeTTL: time.Duration(dns.NegativeTTL),
	}
	if dns.Server != "" {
		rc.Server = netip.MustParseAddrPort(dns.Server) // validated by routes
	}
	r, err := egress.NewResolver(rc)
	if err != nil {
		return nil, fmt.Errorf("egress dns: %w", err)
	}
	return r, nil
}

// dialEgress dials through the address guard, resolving with the
// resolver of the request's snapshot.
func (g *Gateway) dialEgress(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error) {
	var r *egress.Resolver
	if ex := exchangeFrom(ctx); ex != nil {
		r = ex.snap.resolver
	}
	d := &egress.Dialer{Resolver: r, Guard: g.egressGuard.Load()}
	return d.DialFunc(ctx, host, port, allowed)
}

// guardOwnListeners renews the address guard with the addresses the
// gateway's listeners and admin server are bound to, which it never lets
// a tunnel reach. g.mu is held.
func (g *Gateway) guardOwnListeners() {
	var own []netip.AddrPort
	for _, l := range g.listeners {
		if ap, err := netip.ParseAddrPort(l.Addr().String()); err == nil {
			own = append(own, ap)
		}
	}
	if g.admin != nil {
		if ap, err := netip.ParseAddrPort(g.admin.ln.Addr().String()); err == nil {
			own = append(own, ap)
		}
	}
	g.egressGuard.Store(egress.NewGuard(own))
}

// endTunnels ends every forward-proxy tunnel, once the drain timeout has
// passed.
func (g *Gateway) endTunnels() { g.egressOnce.Do(func() { close(g.egressDone) }) }

// tunnelOpened counts a tunnel as it opens; its bytes and its closing are
// counted as it ends, with its access-log line.
func (g *Gateway) tunnelOpened(ctx context.Context, res *egress.Result) {
	ex := exchangeFrom(ctx)
	if ex == nil {
		return
	}
	g.egressMetrics.Opened(tunnelLabels(ex, res))
}

// tunnelProgress counts the bytes an open tunnel carried since it was last
// counted, under the labels of a tunnel without response flags: Istio's
// periodic report. Its close counts the rest, with its flags.
func (g *Gateway) tunnelProgress(ctx context.Context, received, sent int64) {
	ex := exchangeFrom(ctx)
	if ex == nil {
		return
	}
	g.egressMetrics.Bytes(tunnelLabels(ex, ex.egress), received, sent)
	ex.tcpReported[0] += received
	ex.tcpReported[1] += sent
}

func tunnelLabels(ex *exchange, res *egress.Result) metrics.Labels {
	l := metricLabels(ex, ex.in)
	l.DestinationService = res.Dest.Name()
	return l
}
