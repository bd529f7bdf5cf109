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

	"github.com/portcullis-gw/portcullis/plugins"
)

// untilEOF waits for the gateway to close its end of the connection.
func untilEOF(br *bufio.Reader) { io.Copy(io.Discard, br) }

// upstreamActive reads portcullis_upstream_requests_active for an upstream.
func upstreamActive(t *testing.T, tg *testGateway, name string) float64 {
	t.Helper()
	return upstreamMetric(t, tg, "portcullis_upstream_requests_active", name)
}

// upstreamMetric reads one of the portcullis_upstream_* gauges or counters
// for an upstream, summed over its other labels; 0 when it has none.
func upstreamMetric(t *testing.T, tg *testGateway, metric, name string) float64 {
	t.Helper()
	mfs, err := tg.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "upstream" && l.GetValue() == name {
					sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// waitUntil polls cond until it holds or a generous deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// denyFactory is a plugin that rejects a request carrying X-Deny: request
// before it goes upstream, or its response when it says X-Deny: response.
func denyFactory() plugins.Factory {
	return plugins.Factory{
		Name:   "deny",
		Config: func() any { return &struct{}{} },
		Build:  func(any) (plugins.Handler, error) { return denyPlugin{}, nil },
	}
}

type denyPlugin struct{}

func (denyPlugin) HandleRequest(_ context.Context, req *plugins.Request) error {
	if req.Header().Get("X-Deny") == "request" {
		return &plugins.Reject{Status: 403, Details: "denied_by_test"}
	}
	return nil
}

func (denyPlugin) HandleResponse(_ context.Context, req *plugins.Request, _ *plugins.Response) error {
	if req.Header().Get("X-Deny") == "response" {
		return &plugins.Reject{Status: 403, Details: "response_denied_by_test"}
	}
	return nil
}

// appGateway serves a listener "web" with one route, for every path, to an
// upstream "app" at endpoint that takes at most maxRequests at a time;
// route holds the route's further settings, as YAML flow mapping entries.
func appGateway(t *testing.T, endpoint, route string, maxRequests int, extra ...plugins.Factory) *testGateway {
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app, %s }
upstreams:
  - { name: app, endpoints: ["%s"], connect_timeout: 1s, limits: { max_requests: %d } }
`, route, endpoint, maxRequests), extra...)
}

// exitsBackend answers by path: each path is one way out of the proxy.
func exitsBackend(t *testing.T, arrived chan<- string) *rawBackend {
	return newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		arrived <- req.URL.Path
		switch req.URL.Path {
		case "/ok":
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		case "/broken":
			io.WriteString(c, "not HTTP at all\r\n\r\n")
		case "/hang", "/abort":
			untilEOF(br)
		case "/unasked":
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			untilEOF(br)
		case "/ws":
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			untilEOF(br)
		}
	})
}

// TestEveryExitReleasesTheSlot takes each way out of the proxy path and
// checks that the upstream's request slot is given back and its
// connection closed. The upstream allows one request at a time, so a
// slot kept by one exit turns the next into 503 UO.
func TestEveryExitReleasesTheSlot(t *testing.T) {
	arrived := make(chan string, 16)
	be := exitsBackend(t, arrived)
	tg := appGateway(t, be.addr(), "timeout: 300ms, plugins: [{ deny: {} }]", 1, denyFactory())
	ws := "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	tests := []struct {
		name, path, header string
		status             int // 0: the client goes before the answer
		reaches            bool
	}{
		{"success", "/ok", "", 200, true},
		{"local reject", "/ok", "Upgrade: foo\r\nConnection: Upgrade\r\n", 403, false},
		{"plugin reject", "/ok", "X-Deny: request\r\n", 403, false},
		{"response-phase reject", "/ok", "X-Deny: response\r\n", 403, true},
		{"upstream error", "/broken", "", 502, true},
		{"timeout", "/hang", "", 504, true},
		{"client abort", "/abort", "", 0, true},
		{"unasked 101", "/unasked", "", 502, true},
		{"101 then close", "/ws", ws, 101, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", tg.Addr("web").String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n", tt.path, tt.header)
			if tt.reaches {
				select {
				case <-arrived:
				case <-time.After(10 * time.Second):
					t.Fatal("the request never reached the backend")
				}
			}
			if tt.status == 0 {
				c.Close()
			} else {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("response: %v", err)
				}
				if resp.StatusCode != tt.status {
					t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
				}
				c.Close()
			}
			waitUntil(t, "the slot back and the upstream connection closed", func() bool {
				return upstreamActive(t, tg, "app") == 0 && be.open.Load() == 0
			})
		})
	}
	select {
	case p := <-arrived:
		t.Errorf("a refused request reached the backend: %s", p)
	default:
	}
}

// TestUnaskedSwitchIs502 checks that an upstream's 101 is passed on only as
// the answer to the upgrade the gateway forwarded: any other is 502 UPE,
// its connection closed and its slot released, however many come.
func TestUnaskedSwitchIs502(t *testing.T) {
	be := newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		switch req.URL.Path {
		case "/bare": // no Upgrade header: nothing to switch to
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\n\r\n")
		case "/other":
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
		default:
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		}
		untilEOF(br)
	})
	tg := appGateway(t, be.addr(), "upgrades: [websocket, foo]", 2)
	tests := []struct{ name, path, header string }{
		{"101 to a plain request", "/", ""},
		{"101 to an h2c offer, which is not forwarded", "/", "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"},
		{"101 to another protocol", "/", "Upgrade: foo\r\nConnection: Upgrade\r\n"},
		{"101 to h2c for a websocket", "/other", "Upgrade: websocket\r\nConnection: Upgrade\r\n"},
		{"101 without Upgrade", "/bare", "Upgrade: websocket\r\nConnection: Upgrade\r\n"},
		{"101 to an Upgrade without Connection", "/", "Upgrade: websocket\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// More tries than slots: a slot kept would make the last 503.
			for i := range 3 {
				id := fmt.Sprintf("switch-%s-%d", strings.ReplaceAll(tt.name, " ", "-"), i)
				resp, _ := rawRoundTrip(t, tg.Addr("web").String(),
					fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n%s\r\n", tt.path, id, tt.header))
				if resp.StatusCode != 502 {
					t.Fatalf("status: got %d, want 502", resp.StatusCode)
				}
				e := tg.logFor(id)
				if e["response_code"] != float64(502) || e["response_flags"] != "UPE" {
					t.Errorf("logged: got %v %v, want 502 UPE", e["response_code"], e["response_flags"])
				}
			}
			waitUntil(t, "the slots back and the upstream connections closed", func() bool {
				return upstreamActive(t, tg, "app") == 0 && be.open.Load() == 0
			})
		})
	}
}
