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
)

// upgradeGateway routes /foo to a route that allows the foo upgrade, /none
// to one that allows none, and the rest to a route with the default
// (websocket), each with a route timeout of 300ms.
func upgradeGateway(t *testing.T, endpoint string) *testGateway {
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0", protocols: [http1, http2] }]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: foo, match: { path: /foo }, upstream: app, upgrades: [foo], timeout: 300ms }
      - { name: none, match: { path: /none }, upstream: app, upgrades: [], timeout: 300ms }
      - { name: main, match: { path_prefix: / }, upstream: app, timeout: 300ms }
upstreams:
  - { name: app, endpoints: ["%s"], connect_timeout: 1s }
`, endpoint))
}

// rawRoundTrip sends one raw request and returns the response with its body.
func rawRoundTrip(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, request)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestUpgradeOffersAreFiltered checks what a backend sees of Upgrade,
// Connection and HTTP2-Settings: h2c never, another protocol only where
// the route allows it, and a disallowed one not at all (403).
func TestUpgradeOffersAreFiltered(t *testing.T) {
	be := newBackend(t, nil)
	tg := upgradeGateway(t, be.addr())
	tests := []struct {
		name, target, version, header string
		status                        int
		upgrade                       string // what the backend sees in Upgrade
	}{
		{"h2c offer", "/", "1.1", "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n", 200, ""},
		{"h2c offer without Connection", "/", "1.1", "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n", 200, ""},
		{"HTTP2-Settings alone", "/", "1.1", "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n", 200, ""},
		{"h2c in capitals", "/", "1.1", "Upgrade: H2C\r\nConnection: upgrade\r\n", 200, ""},
		{"h2c before websocket", "/", "1.1", "Upgrade: h2c, websocket\r\nConnection: Upgrade\r\n", 200, "websocket"},
		{"h2c after websocket, two lines", "/", "1.1", "Upgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n", 200, "websocket"},
		{"Upgrade without Connection", "/", "1.1", "Upgrade: foo\r\n", 200, ""},
		{"websocket on HTTP/1.0", "/", "1.0", "Upgrade: websocket\r\nConnection: Upgrade\r\n", 200, ""},
		{"allowed by name", "/foo", "1.1", "Upgrade: FOO\r\nConnection: Upgrade\r\n", 200, "FOO"},
		{"not allowed", "/", "1.1", "Upgrade: foo\r\nConnection: Upgrade\r\n", 403, ""},
		{"websocket where none is allowed", "/none", "1.1", "Upgrade: websocket\r\nConnection: Upgrade\r\n", 403, ""},
		{"two protocols", "/", "1.1", "Upgrade: websocket, foo\r\nConnection: Upgrade\r\n", 403, ""},
		{"two protocols, two lines", "/foo", "1.1", "Upgrade: foo\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", 403, ""},
		{"websocket with a version", "/", "1.1", "Upgrade: websocket/13\r\nConnection: Upgrade\r\n", 403, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("offer-%d", i)
			before := be.hits.Load()
			resp, body := rawRoundTrip(t, tg.Addr("web").String(),
				fmt.Sprintf("GET %s HTTP/%s\r\nHost: x\r\nX-Request-Id: %s\r\n%s\r\n", tt.target, tt.version, id, tt.header))
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			e := tg.logFor(id)
			if tt.status == 403 {
				if be.hits.Load() != before {
					t.Errorf("a refused upgrade reached the backend")
				}
				if e["response_code_details"] != "upgrade_failed" {
					t.Errorf("details: got %v, want upgrade_failed", e["response_code_details"])
				}
				return
			}
			s := decodeSeen(t, body)
			if got := strings.Join(s.Header["Upgrade"], ","); got != tt.upgrade {
				t.Errorf("backend saw Upgrade %q, want %q", got, tt.upgrade)
			}
			if got := s.Header.Get("Http2-Settings"); got != "" {
				t.Errorf("backend saw HTTP2-Settings %q", got)
			}
			if conn := strings.ToLower(strings.Join(s.Header["Connection"], ",")); (tt.upgrade != "") != (conn == "upgrade") {
				t.Errorf("backend saw Connection %q with Upgrade %q", conn, tt.upgrade)
			}
		})
	}
	t.Run("HTTP2-Settings over h2c", func(t *testing.T) {
		h2c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
		resp, body := get(t, h2c, tg.url("web")+"/", "HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA")
		if resp.ProtoMajor != 2 {
			t.Fatalf("got %s, want HTTP/2", resp.Proto)
		}
		if got := decodeSeen(t, body).Header.Get("Http2-Settings"); got != "" {
			t.Errorf("backend saw HTTP2-Settings %q", got)
		}
	})
}

// TestUpgradeKeepsTheTimeoutUntil101 checks that the route timeout bounds
// an upgrade until the upstream's 101, and only then stops.
func TestUpgradeKeepsTheTimeoutUntil101(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		if req.URL.Path != "/ws" {
			untilEOF(br) // hangs until the gateway gives up
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		line, err := br.ReadString('\n') // echo one line, upper-cased
		if err == nil {
			io.WriteString(c, strings.ToUpper(line))
		}
		untilEOF(br)
	})
	tg := upgradeGateway(t, be.addr())
	addr := tg.Addr("web").String()
	for _, tt := range []struct {
		name, header string
		status       int
	}{
		{"websocket", "Upgrade: websocket\r\nConnection: Upgrade\r\n", 504},
		{"an unknown protocol", "Upgrade: x-unknown\r\nConnection: Upgrade\r\n", 403},
		{"an h2c offer", "Upgrade: h2c\r\nConnection: Upgrade\r\n", 504},
		{"Upgrade without Connection", "Upgrade: x-unknown\r\n", 504},
	} {
		t.Run("hanging backend, "+tt.name, func(t *testing.T) {
			resp, _ := rawRoundTrip(t, addr, "GET /hang HTTP/1.1\r\nHost: x\r\n"+tt.header+"\r\n")
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	t.Run("tunnel outlives the timeout", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nX-Request-Id: tunnel-1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("got %v, %v, want 101", resp, err)
		}
		// Past the route timeout (300ms) the tunnel still carries bytes;
		// the wait is what is tested, not a condition to poll for.
		time.Sleep(time.Second)
		io.WriteString(c, "still here\n")
		if line, err := br.ReadString('\n'); line != "STILL HERE\n" {
			t.Errorf("tunnel after the timeout: got %q, %v", line, err)
		}
		c.Close()
		if e := tg.logFor("tunnel-1"); e["response_code"] != float64(101) || e["response_flags"] != "-" {
			t.Errorf("logged: got %v %v, want 101 -", e["response_code"], e["response_flags"])
		}
	})
}

func TestRouteDeadline(t *testing.T) {
	t.Run("fired", func(t *testing.T) {
		d := newRouteDeadline(t.Context(), time.Nanosecond)
		defer d.stop()
		<-d.Done()
		if d.Err() != context.DeadlineExceeded || d.exempt() {
			t.Errorf("got %v, exempt after firing, want DeadlineExceeded and no exemption", d.Err())
		}
	})
	t.Run("exempted", func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		d := newRouteDeadline(parent, time.Hour)
		defer d.stop()
		if at, ok := d.Deadline(); !ok || time.Until(at) < 59*time.Minute {
			t.Errorf("deadline before exemption: got %v, %v, want in an hour", at, ok)
		}
		if !d.exempt() {
			t.Fatal("exempt: got false before the timer fired")
		}
		if _, ok := d.Deadline(); ok {
			t.Error("deadline after exemption: got one, want the parent's (none)")
		}
		cancel() // the client going still ends an exempted exchange
		<-d.Done()
		if d.Err() != context.Canceled {
			t.Errorf("got %v, want Canceled", d.Err())
		}
	})
}
