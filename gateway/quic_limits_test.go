package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// quicLimitsGateway serves HTTP/3 on three listeners, one per limit:
// "conns" (max_connections 2), "client" (max_connections_per_client 1) and
// "handshakes" (max_quic_handshakes 2; a handshake ends within 1s).
func quicLimitsGateway(t *testing.T, ca *testCA) *testGateway {
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	listener := func(name, limits string) string {
		return fmt.Sprintf(`
  - name: %s
    address: "127.0.0.1:0"
    protocols: [http1, http2, http3]
    tls: { certificates: [ { cert: %q, key: %q } ] }
    limits: { %s }`, name, crt, key, limits)
	}
	return startGateway(t, `
admin: { address: "off" }
listeners:`+listener("conns", "max_connections: 2")+
		listener("client", "max_connections_per_client: 1")+
		listener("handshakes", "max_quic_handshakes: 2, read_header_timeout: 8s")+`
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: echo, match: { path_prefix: / }, upstream: echo } ] }
upstreams: [ { name: echo, builtin: echo } ]
`)
}

// h3Conn is one HTTP/3 client with its own QUIC connection, from a UDP
// socket on the loopback address from.
type h3Conn struct {
	tr *http3.Transport
	c  *http.Client
}

func newH3Conn(t *testing.T, ca *testCA, from string) *h3Conn {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	qt := &quic.Transport{Conn: udp}
	h3 := &http3.Transport{
		TLSClientConfig: ca.clientTLS("localhost"),
		Dial: func(ctx context.Context, addr string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			ua, err := net.ResolveUDPAddr("udp", addr)
			if err != nil {
				return nil, err
			}
			return qt.Dial(ctx, ua, tc, qc)
		},
	}
	t.Cleanup(func() {
		h3.Close()
		qt.Close()
		udp.Close()
	})
	return &h3Conn{tr: h3, c: &http.Client{Transport: h3, Timeout: 10 * time.Second}}
}

// get sends one request on the connection (opening it on first use) and
// returns the error, nil for a 200 over HTTP/3.
func (h *h3Conn) get(url string) error {
	resp, err := h.c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 3 {
		return fmt.Errorf("got %d over %s, want 200 over HTTP/3", resp.StatusCode, resp.Proto)
	}
	return nil
}

// refused reports whether err is the server's CONNECTION_REFUSED.
func refused(err error) bool {
	var te *quic.TransportError
	return errors.As(err, &te) && te.ErrorCode == quic.ConnectionRefused
}

// eventually retries f until it returns nil, or fails the test after a
// deadline generous enough for a loaded machine.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQUICConnectionLimits(t *testing.T) {
	ca := newTestCA(t)
	tg := quicLimitsGateway(t, ca)
	url := func(listener string) string { return "https://localhost:" + port(tg.Addr(listener)) + "/" }

	t.Run("max_connections counts QUIC connections with TCP ones", func(t *testing.T) {
		var open []*h3Conn
		for i := 0; i < 2; i++ {
			h := newH3Conn(t, ca, "127.0.0.1")
			if err := h.get(url("conns")); err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			open = append(open, h)
		}
		if err := newH3Conn(t, ca, "127.0.0.1").get(url("conns")); !refused(err) {
			t.Fatalf("third QUIC connection: got %v, want CONNECTION_REFUSED", err)
		}
		if tcpAccepted(t, tg.Addr("conns").String()) {
			t.Error("TCP connection accepted while QUIC held max_connections")
		}
		if got := metricValue(t, tg.Gateway, "portcullis_downstream_connections_rejected_total", "conns", "listener_limit"); got < 2 {
			t.Errorf("rejected connections counted: got %v, want at least 2", got)
		}
		if got := metricValue(t, tg.Gateway, "portcullis_downstream_connections", "conns"); got != 2 {
			t.Errorf("open connections gauge: got %v, want 2", got)
		}
		// Closing one gives its place back.
		open[0].tr.Close()
		eventually(t, "a new connection after one closed", func() error {
			return newH3Conn(t, ca, "127.0.0.1").get(url("conns"))
		})
	})

	t.Run("max_connections_per_client counts by client address", func(t *testing.T) {
		first := newH3Conn(t, ca, "127.0.0.1")
		if err := first.get(url("client")); err != nil {
			t.Fatal(err)
		}
		if err := newH3Conn(t, ca, "127.0.0.1").get(url("client")); !refused(err) {
			t.Fatalf("second QUIC connection from 127.0.0.1: got %v, want CONNECTION_REFUSED", err)
		}
		if tcpAccepted(t, tg.Addr("client").String()) {
			t.Error("TCP connection from 127.0.0.1 accepted while its QUIC connection held the client limit")
		}
		if err := newH3Conn(t, ca, "127.0.0.2").get(url("client")); err != nil {
			t.Errorf("first connection from 127.0.0.2: %v", err)
		}
		if got := metricValue(t, tg.Gateway, "portcullis_downstream_connections_rejected_total", "client", "client_limit"); got < 2 {
			t.Errorf("rejected connections counted: got %v, want at least 2", got)
		}
		first.tr.Close()
		eventually(t, "a new connection from 127.0.0.1 after its first closed", func() error {
			return newH3Conn(t, ca, "127.0.0.1").get(url("client"))
		})
	})

	t.Run("max_quic_handshakes bounds handshakes in flight", func(t *testing.T) {
		// The stalling clients' sockets are wrapped, which quic-go warns of.
		t.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true")
		ctx, cancel := context.WithCancel(context.Background())
		stalled := make(chan error, 2)
		for i := 0; i < 2; i++ {
			go func() { stalled <- stallHandshake(ctx, t, ca, tg.Addr("handshakes").String()) }()
		}
		eventually(t, "a connection refused while two handshakes stall", func() error {
			err := newH3Conn(t, ca, "127.0.0.1").get(url("handshakes"))
			if refused(err) {
				return nil
			}
			return fmt.Errorf("got %v, want CONNECTION_REFUSED", err)
		})
		if got := metricValue(t, tg.Gateway, "portcullis_downstream_connections_rejected_total", "handshakes", "handshake_limit"); got < 1 {
			t.Errorf("refused handshakes counted: got %v, want at least 1", got)
		}
		cancel()
		for i := 0; i < 2; i++ {
			<-stalled
		}
		eventually(t, "a connection once the stalled handshakes ended", func() error {
			return newH3Conn(t, ca, "127.0.0.1").get(url("handshakes"))
		})
	})
}

// stallHandshake starts a QUIC handshake and never finishes it: its socket
// hears nothing from the server but Retry packets, so the server's
// handshake stays in flight until ctx ends and the client gives up.
func stallHandshake(ctx context.Context, t *testing.T, ca *testCA, addr string) error {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	defer udp.Close()
	tr := &quic.Transport{Conn: retryOnly{udp}}
	defer tr.Close()
	ua, _ := net.ResolveUDPAddr("udp", addr)
	tc := ca.clientTLS("localhost")
	tc.NextProtos = []string{http3.NextProtoH3}
	c, err := tr.Dial(ctx, ua, tc, &quic.Config{HandshakeIdleTimeout: time.Minute})
	if err == nil {
		c.CloseWithError(0, "")
		t.Error("a stalled handshake completed")
	}
	return err
}

// retryOnly is a client socket that drops every packet from the server but
// a Retry (a QUIC v1 long header of type 3).
type retryOnly struct{ net.PacketConn }

func (c retryOnly) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || (n > 0 && p[0]&0xf0 == 0xf0) {
			return n, addr, err
		}
	}
}

// tcpAccepted reports whether the gateway answers a request on a new TLS
// connection to addr; a limit resets the connection before the handshake.
func tcpAccepted(t *testing.T, addr string) bool {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return false
	}
	defer c.Close()
	return true
}

// metricValue returns the value of the gateway's metric name for the
// listener, and the reason when one is given; 0 when it has no such series.
func metricValue(t *testing.T, g *Gateway, name, listener string, reason ...string) float64 {
	t.Helper()
	fams, err := g.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["listener"] != listener || (len(reason) > 0 && labels["reason"] != reason[0]) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
