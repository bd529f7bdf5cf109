package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// TestDrain starts a drain while a slow HTTP/1.1 request, an HTTP/2 stream,
// an HTTP/3 stream and a WebSocket are in flight: /readyz turns false at once, new
// connections are still accepted during the delay, and every request in
// flight completes before Drain returns.
func TestDrain(t *testing.T) {
	release := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, "done")
		case "/ws":
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			for {
				line, err := brw.ReadString('\n')
				if err != nil {
					return
				}
				brw.WriteString(strings.ToUpper(line))
				brw.Flush()
			}
		default:
			io.WriteString(w, "fast")
		}
	})
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "127.0.0.1:0" }
listeners:
  - { name: web, address: "127.0.0.1:0", protocols: [http1, http2] }
  - { name: edge, address: "127.0.0.1:0", protocols: [http3], tls: { certificates: [ { cert: %q, key: %q } ] } }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, crt, key, be.addr()))
	h3url := "https://localhost:" + port(tg.Addr("edge")) + "/slow"
	base := tg.url("web")
	webAddr := tg.Addr("web").String()
	admin := "http://" + tg.AdminAddr().String()

	type result struct {
		name string
		body string
		err  error
	}
	results := make(chan result, 3)
	slow := func(name string, c *http.Client, url string) {
		resp, err := c.Get(url)
		if err != nil {
			results <- result{name, "", err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		results <- result{name, string(b), err}
	}
	h1 := &http.Client{Transport: &http.Transport{}}
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	h3t := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
	defer h3t.Close()
	go slow("HTTP/1.1", h1, base+"/slow")
	go slow("HTTP/2", h2c, base+"/slow")
	go slow("HTTP/3", &http.Client{Transport: h3t}, h3url)
	ws, err := net.Dial("tcp", webAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	fmt.Fprintf(ws, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	wsr := bufio.NewReader(ws)
	if resp, err := http.ReadResponse(wsr, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("websocket: %v %v", resp, err)
	}
	waitUntil(t, "the three slow requests and the WebSocket in flight", func() bool { return tg.inflight.Load() == 4 })

	drained := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The delay is long enough for a loaded machine to send a request in
	// it, and short enough for the test to wait it out.
	go func() { drained <- tg.Drain(ctx, 3*time.Second) }()

	waitUntil(t, "/readyz 503 once the drain began", func() bool {
		resp, _ := get(t, http.DefaultClient, admin+"/readyz")
		return resp.StatusCode == 503
	})
	// The delay: a new connection is still served.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, body := get(t, fresh, base+"/fast"); resp.StatusCode != 200 || body != "fast" {
		t.Errorf("new request during the delay: got %d %q, want 200 fast", resp.StatusCode, body)
	}
	// The WebSocket still works after the listeners stopped accepting.
	waitUntil(t, "the listener to stop accepting after the delay", func() bool {
		c, err := net.DialTimeout("tcp", webAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	fmt.Fprintf(ws, "still here\n")
	if line, err := wsr.ReadString('\n'); err != nil || line != "STILL HERE\n" {
		t.Errorf("websocket after drain began: got %q, %v", line, err)
	}
	close(release)
	for i := 0; i < 3; i++ {
		r := <-results
		if r.err != nil || r.body != "done" {
			t.Errorf("%s request in flight: got %q, %v; want done", r.name, r.body, r.err)
		}
	}
	ws.Close() // the tunnel ends; its handler returns
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("drain: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("drain did not finish")
	}
	if c, err := net.DialTimeout("tcp", webAddr, time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after the drain")
	}
}
