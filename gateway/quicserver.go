package gateway

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/portcullis-gw/portcullis/gateway/connlimit"
	"github.com/portcullis-gw/portcullis/routes"
)

// quicServer serves HTTP/3 on a listener's UDP socket through a QUIC
// transport of the gateway's own, whose hooks (quicGuard) apply the
// listener's connection limits before a handshake spends anything.
type quicServer struct {
	h3 *http3.Server
	tr *quic.Transport
	ln *quic.Listener
}

// newQUICServer binds h3 to udp; conns are the listener's TCP connection
// limits, which QUIC connections share, or nil.
func (g *Gateway) newQUICServer(spec routes.Listener, h3 *http3.Server, udp net.PacketConn, conns *connlimit.Listener) (*quicServer, error) {
	guard := &quicGuard{
		listener:      spec.Name,
		conns:         conns,
		maxHandshakes: int64(max(spec.Limits.MaxQUICHandshakes, 1)),
		metrics:       g.metrics,
		handshakeFailed: func(err error, remote net.Addr) {
			g.handshakeFailed(spec.Name, err, remote)
		},
	}
	tr := &quic.Transport{
		Conn:                udp,
		VerifySourceAddress: guard.verifySourceAddress,
		ConnContext:         guard.connContext,
	}
	ln, err := tr.Listen(h3.TLSConfig, h3.QUICConfig)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return &quicServer{h3: h3, tr: tr, ln: ln}, nil
}

func (s *quicServer) serve() error { return s.h3.ServeListener(quicListener{s.ln}) }

// shutdown sends GOAWAY, waits for requests in flight up to drain, and
// then closes what is left; the UDP socket stays open.
func (s *quicServer) shutdown(drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	var errs []error
	if err := s.h3.Shutdown(ctx); err != nil {
		errs = append(errs, err, s.h3.Close())
	}
	// The server does not close a listener it was handed.
	errs = append(errs, s.ln.Close(), s.tr.Close())
	return errors.Join(errs...)
}
