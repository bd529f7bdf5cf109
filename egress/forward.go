package egress

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/routes"
)

// forward proxies an absolute-form request (GET http://host/path) as a
// request, so that the rules see its method and path. The path is
// normalised before the rules see it, and the request sent is the one
// checked: its Host is the URL's authority, never a header of the
// client's choosing.
func (p *Proxy) forward(ctx context.Context, w http.ResponseWriter, r *http.Request, pol *Policy, c Caller, res *Result) *Reject {
	u := r.URL
	authority, ok := proxiedAuthority(r)
	if !ok {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_not_absolute_form"}
	}
	if u.User != nil || u.Fragment != "" || strings.ContainsAny(authority, "@") {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_invalid_target"}
	}
	d, err := ParseAuthority(authority, 80)
	if err != nil {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_invalid_target"}
	}
	path, err := routes.NormalizePath(cmp.Or(u.EscapedPath(), "/"), routes.PathOptions{MergeSlashes: true, EscapedSlashes: "keep"})
	if err != nil {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_invalid_path"}
	}
	query, err := routes.NormalizeQuery(u.RawQuery)
	if err != nil {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_invalid_path"}
	}
	d.Method, d.Path = r.Method, path
	release, rej := p.admit(pol, c, d, res)
	if rej != nil {
		return rej
	}
	defer release()
	o := res.Decision.Via.originate()
	if o == nil && res.Decision.Via.ChecksSNI(d) {
		// The rule lets only a TLS handshake for the host reach this
		// port; a plain request would be the non-TLS bytes it refuses.
		res.Reason = "not_tls"
		return &Reject{Status: http.StatusForbidden, Details: "egress_not_tls"}
	}
	key := poolKeyFor(c, d.Name(), d.Port, res.Decision.Via)
	if o != nil && o.Port != 0 {
		key.port = uint16(o.Port)
	}
	out := outgoing(ctx, r, d, path, query)
	resp, pc, rej := p.roundTrip(ctx, key, c, d, pol, out, res)
	if rej != nil {
		return rej
	}
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	dropHopHeaders(h)
	res.Details = "via_upstream"
	w.WriteHeader(resp.StatusCode)
	_, copyErr := io.Copy(w, resp.Body)
	if errors.Is(copyErr, os.ErrDeadlineExceeded) {
		res.Termination = "idle_timeout"
	} else if copyErr != nil {
		res.Termination = "upstream_body_failed"
	}
	// The connection serves the next request to the destination once
	// this one's response was read whole, unless either side said close
	// or the request's end closed it. The body is closed before the
	// connection can go back to the pool, whose watch then reads the same
	// buffered reader; a connection that is not kept is closed first, so
	// that closing a body cut short does not wait to drain it.
	keep := copyErr == nil && !resp.Close && !out.Close
	if !keep {
		pc.Close()
	}
	resp.Body.Close()
	if pc.stop() && keep {
		p.Pool.put(key, pc)
	} else {
		pc.Close()
	}
	return nil
}

// roundTrip sends out over a pooled connection for key, or a new one that
// the guard checked, and reads the response. A pooled connection that the
// destination closed as the request went is replaced once, for a request
// without a body, which can be sent again.
func (p *Proxy) roundTrip(ctx context.Context, key poolKey, c Caller, d Destination, pol *Policy, out *http.Request, res *Result) (*http.Response, *pooledConn, *Reject) {
	for {
		pc := p.Pool.get(key)
		reused := pc != nil
		if !reused {
			var rej *Reject
			if pc, rej = p.connectUpstream(ctx, key, c, d, pol, res); rej != nil {
				return nil, nil, rej
			}
		}
		res.Upstream, res.UpstreamLocal, res.Opened = pc.addr, pc.local, true
		pc.stop = context.AfterFunc(ctx, func() { pc.Close() })
		why := "upstream_write_failed"
		err := out.Write(pc)
		if err == nil {
			var resp *http.Response
			if resp, err = readResponse(pc.br, out); err == nil {
				return resp, pc, nil
			}
			why = "upstream_response_failed"
		}
		pc.stop()
		pc.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			res.Reason, res.Failure = "idle_timeout", err.Error()
			return nil, nil, &Reject{Status: http.StatusGatewayTimeout, Flag: "UT", Details: "egress_idle_timeout"}
		}
		if reused && out.Body == nil && ctx.Err() == nil {
			continue
		}
		res.Reason, res.Failure = why, err.Error()
		return nil, nil, &Reject{Status: http.StatusBadGateway, Flag: "UC", Details: "egress_" + why}
	}
}

// connectUpstream dials key's destination through the guard for c and,
// where the rule says, speaks TLS to it. The egress idle timeout holds on
// every read and write, so that a destination that never answers cannot
// hold the caller's place under the limits for good.
func (p *Proxy) connectUpstream(ctx context.Context, key poolKey, c Caller, d Destination, pol *Policy, res *Result) (*pooledConn, *Reject) {
	conn, rej := p.dial(ctx, pol, c, d, key.port, res)
	if rej != nil {
		return nil, rej
	}
	if idle := time.Duration(pol.Limits.IdleTimeout); idle > 0 {
		conn = &idleConn{Conn: conn, idle: idle}
	}
	if key.via.originate() != nil {
		tc, rej := p.originate(ctx, conn, d, key.via, pol, res)
		if rej != nil {
			conn.Close()
			return nil, rej
		}
		conn = tc
	}
	return &pooledConn{Conn: conn, br: bufio.NewReader(conn), addr: res.Upstream, local: res.UpstreamLocal}, nil
}

// proxiedAuthority returns the authority of a request for an http URL
// sent to the proxy: the absolute form's (GET http://host/p), over
// HTTP/1.1 only. Over HTTP/2 a client asks for a URL with :scheme,
// :authority and :path, but the HTTP/2 server does not pass :scheme on,
// so the proxy cannot tell a request for an https URL from one for an
// http URL: fetching the first as the second would send in the clear what
// the client meant to be encrypted. Such requests get 400; https goes
// through a CONNECT tunnel, over HTTP/1.1 or HTTP/2.
func proxiedAuthority(r *http.Request) (string, bool) {
	if r.ProtoMajor != 1 {
		return "", false
	}
	abs := strings.HasPrefix(r.RequestURI, "http://") || strings.HasPrefix(r.RequestURI, "HTTP://")
	return r.URL.Host, abs && r.URL.Host != ""
}

// idleConn ends a plain request whose destination moves no byte for idle,
// as a tunnel's idle timeout ends a tunnel: without it a destination that
// never answers would hold the caller's place under the limits for good.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(p)
}

// readResponse reads the destination's final response, past any
// informational ones; a switch of protocols, which the request never asked
// for (its Upgrade header is dropped), is an error.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("the destination switched protocols unasked")
		case resp.StatusCode >= 200:
			return resp, nil
		}
	}
}

func (r *Rule) originate() *routes.OriginateTLS {
	if r == nil {
		return nil
	}
	return r.OriginateTLS
}

// outgoing is the request the gateway sends: the client's method, headers
// but the hop-by-hop ones, and body, for the checked path and query at the
// URL's authority.
func outgoing(ctx context.Context, r *http.Request, d Destination, path, query string) *http.Request {
	authority := d.Name()
	if d.Addr.Is6() {
		authority = "[" + authority + "]"
	}
	if d.Port != 80 {
		authority += ":" + strconv.Itoa(int(d.Port))
	}
	h := r.Header.Clone()
	dropHopHeaders(h)
	for _, k := range insideHeaders {
		delete(h, k)
	}
	out := &http.Request{
		Method:        r.Method,
		URL:           &url.URL{Scheme: "http", Host: authority, Opaque: path, RawQuery: query},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          r.Body,
		ContentLength: r.ContentLength,
		Host:          authority,
	}
	if r.Body == nil || r.Body == http.NoBody {
		out.Body = nil
	}
	return out.WithContext(ctx)
}

// hopHeaders are the hop-by-hop headers of RFC 9110 and the proxy's own,
// and Expect: the client's 100-continue is the gateway's to answer, which
// sends the body without waiting.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"}

// insideHeaders describe the caller and the network inside, which a
// request to the outside world does not carry: the addresses
// X-Forwarded-For lists, the caller's certificate, the gateway's view of
// the client.
var insideHeaders = []string{"X-Forwarded-For", "X-Forwarded-Client-Cert", "X-Envoy-External-Address", "X-Forwarded-Proto", "Forwarded"}

func dropHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = textproto.TrimString(f); httpguts.ValidHeaderFieldName(f) {
				delete(h, textproto.CanonicalMIMEHeaderKey(f))
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// originate speaks TLS to the destination over conn, verifying its
// certificate for the host asked, with the gateway's SVID as a client
// certificate when the rule says so.
func (p *Proxy) originate(ctx context.Context, conn net.Conn, d Destination, via *Rule, pol *Policy, res *Result) (net.Conn, *Reject) {
	o := via.OriginateTLS
	cfg := &tls.Config{ServerName: d.Host, MinVersion: tls.VersionTLS12}
	fail := func(err error) (net.Conn, *Reject) {
		res.Reason, res.Failure = "tls_origination_failed", err.Error()
		return nil, &Reject{Status: http.StatusBadGateway, Flag: "UF", Details: "egress_tls_origination_failed"}
	}
	if o.CAFile != "" {
		if via.roots == nil {
			return fail(fmt.Errorf("%s was not read", o.CAFile))
		}
		cfg.RootCAs = via.roots
	}
	if o.Identity {
		cert := pol.ClientCert
		if cert == nil {
			return fail(errors.New("the gateway has no SVID to present"))
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, time.Duration(pol.Limits.ConnectTimeout))
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return fail(err)
	}
	return tc, nil
}
