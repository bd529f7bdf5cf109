package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
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
			if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get(l.callerHeader))); err == nil && a.Zone() == "" {
				caller.Addr = a.Unmap()
			}
		}
		r.Header.Del(l.callerHeader)
	}
	ex.egress = &ex.egressResult
	res := ex.egress
	if r.ProtoMajor == 1 && r.Method == http.MethodConnect {
		// Whatever the client sent after a CONNECT that gets no tunnel
		// is not a request to read next.
		w.Header()["Connection"] = []string{"close"}
	}
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

// logEgress fills the access-log record of a forward-proxy exchange and
// counts it; finish calls it before writing the line.
func (g *Gateway) logEgress(ex *exchange, l metrics.Labels) {
	res, rec := ex.egress, &ex.rec
	if res.Decided {
		rec.EgressDecision = res.Decision.Outcome
		rec.EgressRule = res.Decision.RuleName()
	}
	rec.EgressReason = res.Reason
	if res.Dest.Port != 0 {
		rec.EgressDestination = net.JoinHostPort(res.Dest.Name(), strconv.Itoa(int(res.Dest.Port)))
		rec.UpstreamCluster = fmt.Sprintf("outbound|%d||%s", res.Dest.Port, res.Dest.Name())
	}
	if res.Opened {
		rec.UpstreamHost = res.Upstream.String()
		rec.UpstreamLocalAddress = res.UpstreamLocal
	}
	rec.UpstreamTransportFailureReason = res.Failure
	if res.Termination != "" {
		rec.ConnectionTerminationDetails = res.Termination
	}
	if res.Tunnel {
		rec.BytesReceived, rec.BytesSent = res.Received, res.Sent
		rec.UpstreamWireBytesSent, rec.UpstreamWireBytesReceived = res.Received, res.Sent
	}
	decision := rec.EgressDecision
	if decision == "" {
		decision = egress.Deny // refused before any rule was asked
	}
	if res.Reason == egress.CallerTunnels || res.Reason == egress.CallerRate ||
		res.Reason == egress.DestinationTunnels || res.Reason == egress.DestinationRate ||
		res.Reason == "sni_mismatch" || res.Reason == "not_tls" || res.Reason == "guard_refused" {
		decision = egress.Deny
	}
	g.egressMetrics.Decision(ex.conn.listener.name, decision, res.Reason)
	if decision != egress.Deny {
		g.log.Debug().Str("listener", ex.conn.listener.name).Str("destination", rec.EgressDestination).
			Str("decision", decision).Str("rule", rec.EgressRule).Msg("egress")
	} else {
		g.log.Info().Str("listener", ex.conn.listener.name).Str("caller", callerName(ex)).
			Str("destination", rec.EgressDestination).Str("rule", rec.EgressRule).Str("reason", res.Reason).Msg("egress refused")
	}
	if res.Opened && res.Tunnel {
		l.DestinationService = res.Dest.Name()
		g.egressMetrics.Closed(l, rec.Flags, res.Received, res.Sent)
	}
}

func callerName(ex *exchange) string {
	if id := ex.req.Identity; id != nil {
		return id.Principal
	}
	return ex.req.Client.String()
}

// dialDirect is the forward proxy's dialer until the address guard's is
// composed in: it resolves the name once, refuses any address that is not
// global unicast outside the private ranges unless a rule names its range,
// and dials the address it checked.
func dialDirect(ctx context.Context, host string, port uint16, allowed []netip.Prefix) (net.Conn, netip.AddrPort, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, netip.AddrPort{}, err
	}
	if len(addrs) == 0 {
		return nil, netip.AddrPort{}, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for _, a := range addrs {
		a = a.Unmap()
		inRule := false
		for _, p := range allowed {
			inRule = inRule || p.Contains(a)
		}
		if !inRule && (!a.IsGlobalUnicast() || a.IsPrivate() || a.Zone() != "") {
			return nil, netip.AddrPort{}, &egress.Refusal{Addr: a, Reason: "not a public address"}
		}
	}
	ap := netip.AddrPortFrom(addrs[0].Unmap(), port)
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, ap, err
	}
	return c, ap, nil
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
	l := metricLabels(ex, ex.in)
	l.DestinationService = res.Dest.Name()
	g.egressMetrics.Opened(l)
}
