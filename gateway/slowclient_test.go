package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// bigBody is larger than what loopback socket buffers and flow-control
// windows take in, so that a client that does not read blocks the writes.
var bigBody = bytes.Repeat([]byte("x"), 16<<20)

// slowGateway serves a backend that answers every request with bigBody, on
// a plain listener "web" (HTTP/1.1 and h2c) and a TLS listener "edge" with
// HTTP/3, with the given limits, through an upstream that takes
// max_requests requests at once and a route with the given timeout.
func slowGateway(t *testing.T, limits, timeout string, maxRequests int) (*testGateway, *testBackend, *http3.Transport) {
	t.Helper()
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(bigBody)))
		w.Write(bigBody)
	})
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: web, address: "127.0.0.1:0", protocols: [http1, http2], limits: { %s } }
  - name: edge
    address: "127.0.0.1:0"
    protocols: [http1, http3]
    tls: { certificates: [ { cert: %q, key: %q } ] }
    limits: { %s }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app, timeout: %s }
upstreams: [ { name: app, endpoints: [%q], limits: { max_requests: %d } } ]
`, limits, crt, key, limits, timeout, be.addr(), maxRequests))
	// A small, fixed receive window: the client takes no more until it
	// reads.
	h3 := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost"), QUICConfig: &quic.Config{
		InitialStreamReceiveWindow: 64 << 10, MaxStreamReceiveWindow: 64 << 10,
	}}
	t.Cleanup(func() { h3.Close() })
	return tg, be, h3
}

// stallH1 sends n requests on HTTP/1.1 connections that then read nothing.
func stallH1(t *testing.T, tg *testGateway, ids []string) {
	for _, id := range ids {
		c, err := net.Dial("tcp", tg.Addr("web").String())
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: x\r\nX-Request-Id: %s\r\n\r\n", id)
	}
}

// stallH2 opens one h2c connection that announces a stream window of zero
// and never raises it, and sends the requests on it as streams.
func stallH2(t *testing.T, tg *testGateway, ids []string) {
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i, id := range ids {
		buf.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "x"}, {":path", "/big"}, {"x-request-id", id}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: buf.Bytes(), EndStream: true, EndHeaders: true})
	}
	// The gateway's frames are read and dropped, SETTINGS acknowledged,
	// so that the connection itself stays healthy.
	go func() {
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				fr.WriteSettingsAck()
			}
		}
	}()
}

// stallH3 sends the requests over HTTP/3 and reads no body.
func stallH3(t *testing.T, tg *testGateway, h3 *http3.Transport, ids []string) {
	for _, id := range ids {
		req, _ := http.NewRequest(http.MethodGet, "https://localhost:"+port(tg.Addr("edge"))+"/big", nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := h3.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
	}
}

// TestClientsThatDoNotRead stalls as many clients as the upstream takes
// requests, on each protocol: the gateway cuts them off at the bound and
// frees the upstream's places, so that other clients are served again, and
// logs each with the bound that ended it.
func TestClientsThatDoNotRead(t *testing.T) {
	const n = 3
	for _, tt := range []struct {
		name, limits, timeout, flag, details string
	}{
		{"write_timeout", "write_timeout: 300ms", "30s", "SI", "stream_idle_timeout"},
		{"route timeout", "write_timeout: 30s", "600ms", "UT", "upstream_response_timeout"},
	} {
		for _, proto := range []string{"HTTP/1.1", "HTTP/2", "HTTP/3"} {
			t.Run(tt.name+"/"+proto, func(t *testing.T) {
				tg, be, h3 := slowGateway(t, tt.limits, tt.timeout, n)
				var ids []string
				for i := 0; i < n; i++ {
					ids = append(ids, fmt.Sprintf("stalled-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), i))
				}
				switch proto {
				case "HTTP/1.1":
					stallH1(t, tg, ids)
				case "HTTP/2":
					stallH2(t, tg, ids)
				default:
					stallH3(t, tg, h3, ids)
				}
				waitFor(t, "the stalled requests to reach the upstream", func() bool { return be.hits.Load() >= n })
				// Once every stalled client is cut off, the upstream's
				// places are free: a request gets through.
				waitFor(t, "the stalled clients' upstream places to be freed", func() bool {
					resp, err := http.Get(tg.url("web") + "/after")
					if err != nil {
						return false
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					return resp.StatusCode == 200
				})
				for _, id := range ids {
					e := tg.logFor(id)
					if e["response_code"] != float64(200) || e["response_flags"] != tt.flag || e["connection_termination_details"] != tt.details {
						t.Errorf("access log of %s: got %v %v %v, want 200 %s %s", id,
							e["response_code"], e["response_flags"], e["connection_termination_details"], tt.flag, tt.details)
					}
					if sent := e["bytes_sent"].(float64); sent >= float64(len(bigBody)) {
						t.Errorf("access log of %s: bytes_sent %v, want fewer than the body's %d", id, sent, len(bigBody))
					}
				}
			})
		}
	}
}

// waitFor polls cond until it holds, failing the test when it has not
// after the time a test waits for what must come. It measures nothing.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	end := deadline()
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHTTP2ClientStopsReadingItsSocket checks an HTTP/2 client that opens
// its flow-control windows wide and then stops reading its socket: the
// server's frame writer blocks, so stream resets cannot be written, and
// only a bound on the connection's writes frees the upstream's places and
// the connection.
func TestHTTP2ClientStopsReadingItsSocket(t *testing.T) {
	tg, _, _ := slowGateway(t, "write_timeout: 300ms, idle_timeout: 1s", "1s", 3)
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, nil)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	fr.WriteWindowUpdate(0, 1<<31-1-65535)
	for i := range 3 {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), EndStream: true, EndHeaders: true,
			BlockFragment: headerBlock(":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/big")})
	}
	waitUntil(t, "the upstream's places and the connection freed", func() bool {
		return upstreamActive(t, tg, "app") == 0 && metricValue(t, tg.Gateway, "portcullis_downstream_connections", "web") == 0
	})
}

// TestBodilessResponsesToAClientThatDoesNotRead checks that write_timeout
// also bounds a response with no body byte (HEAD, 204), whose header only
// the server's final flush writes.
func TestBodilessResponsesToAClientThatDoesNotRead(t *testing.T) {
	big := strings.Repeat("a", 40<<10)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", big)
		if r.URL.Path == "/nobody" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Length", "1")
		w.Write([]byte("x"))
	})
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0", limits: { write_timeout: 500ms } } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app, timeout: 2s } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	for _, req := range []string{"GET /body", "GET /nobody", "HEAD /body"} {
		t.Run(req, func(t *testing.T) {
			c, err := net.Dial("tcp", tg.Addr("web").String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.(*net.TCPConn).SetReadBuffer(4 << 10)
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			hits0 := be.hits.Load()
			go io.WriteString(c, strings.Repeat(req+" HTTP/1.1\r\nHost: x\r\n\r\n", 400))
			waitUntil(t, "the connection closed", func() bool {
				return metricValue(t, tg.Gateway, "portcullis_downstream_connections", "web") == 0 && be.hits.Load() > hits0
			})
		})
	}
}
