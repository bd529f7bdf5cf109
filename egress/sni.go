package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"
)

// maxHello bounds the bytes read while looking for a ClientHello: TLS
// allows a hello of up to 64 KiB across records, and post-quantum key
// shares make them grow, but nothing legitimate is larger.
const maxHello = 1 << 16

// errHelloRead stops the handshake once the hello is read.
var errHelloRead = errors.New("client hello read")

// ErrNoServerName is PeekServerName's error for a ClientHello without SNI.
var ErrNoServerName = errors.New("the TLS ClientHello names no server")

// PeekServerName reads the TLS ClientHello that opens a tunnel from r and
// returns its server name, with the bytes read, which the tunnel forwards
// first. It fails when the bytes are not a TLS handshake, when the hello
// names no server, or when ctx ends first.
func PeekServerName(ctx context.Context, r io.Reader) (string, []byte, error) {
	var buf bytes.Buffer
	conn := &helloConn{r: io.TeeReader(io.LimitReader(r, maxHello), &buf)}
	var name string
	var seen bool
	srv := tls.Server(conn, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name, seen = h.ServerName, true
			return nil, errHelloRead
		},
	})
	err := srv.HandshakeContext(ctx)
	switch {
	case seen && name == "":
		return "", buf.Bytes(), ErrNoServerName
	case seen:
		return name, buf.Bytes(), nil
	case ctx.Err() != nil:
		return "", buf.Bytes(), ctx.Err()
	default:
		return "", buf.Bytes(), errors.Join(errors.New("not a TLS ClientHello"), err)
	}
}

// helloConn is the one side of a connection that crypto/tls reads a
// ClientHello from; what the server would write back is dropped.
type helloConn struct{ r io.Reader }

func (c *helloConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *helloConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *helloConn) Close() error                     { return nil }
func (c *helloConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *helloConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *helloConn) SetDeadline(time.Time) error      { return nil }
func (c *helloConn) SetReadDeadline(time.Time) error  { return nil }
func (c *helloConn) SetWriteDeadline(time.Time) error { return nil }
