package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestIdleTunnelEnds checks that an accepted WebSocket tunnel across which
// no byte moves for the listener's idle_timeout is closed and gives its
// upstream place back, while one in use outlives the timeout.
func TestIdleTunnelEnds(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		io.Copy(c, br) // echo until the gateway closes its end
	})
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0", limits: { idle_timeout: 1s } } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app, timeout: 300ms } ] }
upstreams: [ { name: app, endpoints: [%q], limits: { max_requests: 2 } } ]
`, be.addr()))
	open := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", tg.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		return c, br
	}
	idle, _ := open()
	busy, busyR := open()
	// The busy tunnel echoes a byte every 200ms, for three times the idle
	// timeout: it must stay open throughout.
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		busy.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := busy.Write([]byte("x")); err != nil {
			t.Fatalf("busy tunnel write after %v: %v", time.Since(start), err)
		}
		if _, err := busyR.ReadByte(); err != nil {
			t.Fatalf("busy tunnel read after %v: %v", time.Since(start), err)
		}
		time.Sleep(200 * time.Millisecond) // the pace of a client in use
	}
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the idle tunnel is still open (%v)", err)
	}
	busy.Close()
	waitUntil(t, "both upstream places given back", func() bool { return upstreamActive(t, tg, "app") == 0 && be.open.Load() == 0 })
}
