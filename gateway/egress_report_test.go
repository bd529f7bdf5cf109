package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// TestEgressTunnelBytesReportedWhileOpen shows Istio's periodic report of
// TCP bytes: a tunnel's bytes are counted while it is open, every
// TCPReportEvery, and its close counts only the rest, so that the totals
// are the bytes carried, once.
func TestEgressTunnelBytesReportedWhileOpen(t *testing.T) {
	echo := newEchoServer(t)
	d := newLoopDialer()
	d.route("echo.example.com:7000", echo.addr())
	cfg := loadProxyConfig(t, `
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy }
`+tunnelRules)
	tg := serveWith(t, cfg, accesslog.Options{Format: "json"}, Options{
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), EgressDial: d.dial,
		TCPReportEvery: 20 * time.Millisecond,
	})
	c, br, resp := connectH1(t, tg.Addr("egress").String(), "echo.example.com:7000", "reported-tunnel")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	match := map[string]string{"destination_service": "echo.example.com", "request_protocol": "tcp"}
	counted := func(name string) float64 { return labeled(t, tg.Gateway, name, match) }
	total := 0
	for i, n := range []int{1000, 3000} {
		msg := strings.Repeat("x", n)
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(br, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		total += n
		waitUntil(t, "the open tunnel's bytes in the counters", func() bool {
			return counted("istio_tcp_received_bytes_total") == float64(total) && counted("istio_tcp_sent_bytes_total") == float64(total)
		})
		if got := counted("istio_tcp_connections_closed_total"); got != 0 {
			t.Fatalf("report %d: got %v tunnels closed, want 0: the bytes came before the close", i, got)
		}
	}
	c.Close()
	tg.logFor("reported-tunnel")
	for name, want := range map[string]float64{
		"istio_tcp_connections_opened_total": 1, "istio_tcp_connections_closed_total": 1,
		"istio_tcp_received_bytes_total": float64(total), "istio_tcp_sent_bytes_total": float64(total),
	} {
		if got := counted(name); got != want {
			t.Errorf("after the close, %s: got %v, want %v", name, got, want)
		}
	}
}
