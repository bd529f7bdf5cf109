package egress

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// errRevoked ends a tunnel whose rule a reload took away.
var errRevoked = errors.New("a reload revoked the rule that allowed the tunnel")

// helloTimeout bounds the wait for a tunnel's ClientHello.
const helloTimeout = 10 * time.Second

// connect opens a tunnel. A tunnel whose rule checks the server name is
// answered 200 before the gateway dials, since the ClientHello comes only
// then: its destination is reached only once the hello names it. Any other
// tunnel is dialled first, so that a failure is answered with its status.
func (p *Proxy) connect(ctx context.Context, w http.ResponseWriter, r *http.Request, pol *Policy, c Caller, res *Result) *Reject {
	authority := r.Host
	if r.ProtoMajor == 1 {
		authority = r.RequestURI
	}
	d, err := ParseAuthority(authority, 0)
	if err != nil {
		res.Reason = "invalid_target"
		return &Reject{Status: http.StatusBadRequest, Flag: "DPE", Details: "egress_invalid_target"}
	}
	d.Tunnel = true
	release, rej := p.admit(pol, c, d, res)
	if rej != nil {
		return rej
	}
	defer release()
	checkSNI := res.Decision.Via.ChecksSNI(d)
	var up net.Conn
	if !checkSNI {
		if up, rej = p.dial(ctx, pol, c, d, d.Port, res); rej != nil {
			return rej
		}
		defer up.Close()
	}
	client, err := answerConnect(w, r)
	if err != nil {
		res.Termination = "downstream_gone"
		return nil
	}
	defer client.Close()
	res.Tunnel = true
	var first []byte
	if checkSNI {
		var ok bool
		if first, ok = checkHello(ctx, client, d, res); !ok {
			return nil
		}
		if up, rej = p.dial(ctx, pol, c, d, d.Port, res); rej != nil {
			res.Details, res.Flag = rej.Details, rej.Flag
			return nil
		}
		defer up.Close()
		if _, err := up.Write(first); err != nil {
			res.Termination = "upstream_write_failed"
			return nil
		}
	}
	if p.Opened != nil {
		p.Opened(ctx, res)
	}
	lim := pol.Limits
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := revokeOnReload(p.Policies, pol, c, d, res.Upstream, cancel)
	res.Termination = p.splice(tctx, client, up, time.Duration(lim.IdleTimeout), time.Duration(lim.MaxTunnelLifetime), &res.Received, &res.Sent)
	stop()
	if res.Termination == "downstream_gone" && ctx.Err() == nil && errors.Is(context.Cause(tctx), errRevoked) {
		res.Termination = "egress_rule_revoked"
	}
	res.Received += int64(len(first))
	return nil
}

// checkHello reads the tunnel's first bytes and requires a TLS ClientHello
// for d's host.
func checkHello(ctx context.Context, client stream, d Destination, res *Result) ([]byte, bool) {
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	timer := time.AfterFunc(helloTimeout, func() { client.Close() })
	name, first, err := PeekServerName(ctx, client)
	timer.Stop()
	if err != nil && !errors.Is(err, ErrNoServerName) {
		res.Reason, res.Details, res.Termination = "not_tls", "egress_not_tls", "egress_not_tls"
		return nil, false
	}
	if h, err := CanonicalHost(name); err != nil || h.IsIP() || h.Name() != d.Host {
		res.Reason, res.Details, res.Termination = "sni_mismatch", "egress_sni_mismatch", "egress_sni_mismatch"
		return nil, false
	}
	return first, true
}

// stream is the client's side of a tunnel.
type stream interface {
	io.ReadWriteCloser
}

// answerConnect says 200 to a CONNECT and returns the client's side of the
// tunnel: the HTTP/1.1 connection itself, or the HTTP/2 stream.
func answerConnect(w http.ResponseWriter, r *http.Request) (stream, error) {
	rc := http.NewResponseController(w)
	if r.ProtoMajor != 1 {
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			return nil, err
		}
		return &h2Stream{body: r.Body, w: w, rc: rc}, nil
	}
	conn, brw, err := rc.Hijack()
	if err != nil {
		return nil, err
	}
	// The server's read and write deadlines are the request's; the
	// tunnel has its own timeouts.
	conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return nil, err
	}
	if brw.Reader.Buffered() == 0 {
		return conn, nil
	}
	return &bufferedConn{Conn: conn, r: brw.Reader}, nil
}

// bufferedConn reads what the server had buffered past the CONNECT first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// h2Stream is an HTTP/2 CONNECT stream: the request body one way, the
// response body, flushed at each write, the other.
type h2Stream struct {
	body io.ReadCloser
	w    io.Writer
	rc   *http.ResponseController
}

func (s *h2Stream) Read(p []byte) (int, error) { return s.body.Read(p) }

func (s *h2Stream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

func (s *h2Stream) Close() error { return s.body.Close() }
