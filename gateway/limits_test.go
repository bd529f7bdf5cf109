package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

func TestListenerLimits(t *testing.T) {
	tg := startGateway(t, `
admin: { address: "off" }
listeners:
  - { name: conns, address: "127.0.0.1:0", limits: { max_connections: 2 } }
  - { name: rate, address: "127.0.0.1:0", limits: { requests_per_second: 0.001, requests_burst: 2 } }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: echo, match: { path_prefix: / }, upstream: echo } ] }
upstreams: [ { name: echo, builtin: echo } ]
`)
	t.Run("connections over max_connections are closed at accept", func(t *testing.T) {
		var open []net.Conn
		defer func() {
			for _, c := range open {
				c.Close()
			}
		}()
		for i := 0; i < 2; i++ {
			c, err := net.Dial("tcp", tg.Addr("conns").String())
			if err != nil {
				t.Fatal(err)
			}
			open = append(open, c)
			// A request answered proves the connection was taken.
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if line, err := readStatusLine(c); err != nil || line != "HTTP/1.1 200 OK" {
				t.Fatalf("connection %d: got %q, %v", i, line, err)
			}
		}
		c, err := net.Dial("tcp", tg.Addr("conns").String())
		if err != nil {
			// The reset can beat the end of the client's connect: the
			// connection was refused all the same.
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); len(b) != 0 {
			t.Errorf("third connection: got %q, %v; want it closed unanswered", b, err)
		}
	})
	t.Run("requests over the listener's rate get 429 RL", func(t *testing.T) {
		var codes []int
		for i := 0; i < 3; i++ {
			resp, _ := get(t, http.DefaultClient, tg.url("rate")+"/", "X-Request-Id", fmt.Sprint("rate-", i))
			codes = append(codes, resp.StatusCode)
			if i == 2 && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
		if fmt.Sprint(codes) != "[200 200 429]" {
			t.Errorf("codes: got %v, want [200 200 429]", codes)
		}
		if e := tg.logFor("rate-2"); e["response_flags"] != "RL" {
			t.Errorf("flags: got %v, want RL", e["response_flags"])
		}
	})
}

func TestProtocolLimits(t *testing.T) {
	tg := startGateway(t, `
admin: { address: "off" }
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocols: [http1, http2]
    limits: { read_header_timeout: 300ms, idle_timeout: 300ms, max_concurrent_streams: 17 }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: echo, match: { path_prefix: / }, upstream: echo } ] }
upstreams: [ { name: echo, builtin: echo } ]
`)
	t.Run("a client that never finishes its headers is cut off", func(t *testing.T) {
		c, err := net.Dial("tcp", tg.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ") // and then nothing
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open after 10s; want it closed after read_header_timeout")
		}
	})
	t.Run("an idle keep-alive connection is closed after idle_timeout", func(t *testing.T) {
		c, err := net.Dial("tcp", tg.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		_, err = c.Read(make([]byte, 1)) // nothing more is sent: the server closes
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection still open after 10s; want it closed after idle_timeout")
		}
	})
	t.Run("HTTP/2 announces max_concurrent_streams", func(t *testing.T) {
		c, err := net.Dial("tcp", tg.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, http2.ClientPreface)
		fr := http2.NewFramer(c, c)
		if err := fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		sf, ok := f.(*http2.SettingsFrame)
		if !ok {
			t.Fatalf("first frame: got %T, want SETTINGS", f)
		}
		if v, ok := sf.Value(http2.SettingMaxConcurrentStreams); !ok || v != 17 {
			t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS: got %d (%v), want 17", v, ok)
		}
	})
}
