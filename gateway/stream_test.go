package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// edgeGateway serves every path of every host from the upstream at
// endpoint on a TLS listener "edge" (HTTP/1.1, HTTP/2, HTTP/3) and a plain
// listener "h1", with route timeout timeout and the given listener limits.
// It returns clients for each protocol, keyed by name.
func edgeGateway(t *testing.T, endpoint, timeout, limits string) (*testGateway, map[string]*http.Client) {
	t.Helper()
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - name: edge
    address: "127.0.0.1:0"
    protocols: [http1, http2, http3]
    tls: { certificates: [ { cert: %q, key: %q } ] }
    limits: { %s }
  - { name: h1, address: "127.0.0.1:0", limits: { %s } }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app, timeout: %s } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, crt, key, limits, limits, timeout, endpoint))
	h3 := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
	t.Cleanup(func() { h3.Close() })
	return tg, map[string]*http.Client{
		"HTTP/1.1": {Transport: &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http1")}},
		"HTTP/2":   {Transport: &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http2")}},
		"HTTP/3":   {Transport: h3},
	}
}

func (tg *testGateway) edgeURL() string { return "https://localhost:" + port(tg.Addr("edge")) }

// TestFixedLengthResponsesStream has an upstream send the first byte of a
// ten-byte response and wait until the client has it: the gateway passes
// bytes on as they come instead of holding the response until it is whole.
func TestFixedLengthResponsesStream(t *testing.T) {
	got := make(chan struct{}, 1)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		select {
		case <-got:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte("bcdefghij"))
	})
	tg, clients := edgeGateway(t, be.addr(), "10s", "")
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Get(tg.edgeURL() + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			first := make(chan string, 1)
			go func() {
				b := make([]byte, 1)
				n, _ := resp.Body.Read(b)
				first <- string(b[:n])
			}()
			select {
			case b := <-first:
				if b != "a" {
					t.Fatalf("first byte: got %q, want a", b)
				}
			case <-waitLong():
				t.Fatal("first byte not received while the upstream waits for it; want it passed on at once")
			}
			got <- struct{}{}
			rest, err := io.ReadAll(resp.Body)
			if string(rest) != "bcdefghij" || err != nil {
				t.Errorf("rest: got %q, %v; want bcdefghij", rest, err)
			}
		})
	}
}

// TestStallAfterHeaders has an upstream stall after its header, with part of
// the body or none of it, until the route's timeout: the client sees the
// response end visibly short (HTTP/1 framing left incomplete, an HTTP/2 or
// HTTP/3 stream reset), never as a complete response, and the log says
// 200 UT.
func TestStallAfterHeaders(t *testing.T) {
	for _, tt := range []struct{ name, length, sent string }{
		{"fixed length, part of the body", "10", "ab"},
		{"fixed length, no body", "10", ""},
		{"chunked, part of the body", "", "ab"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.length != "" {
					w.Header().Set("Content-Length", tt.length)
				}
				w.WriteHeader(200)
				w.Write([]byte(tt.sent))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			})
			tg, clients := edgeGateway(t, be.addr(), "300ms", "")
			t.Run("raw HTTP/1.1", func(t *testing.T) {
				raw := rawExchange(t, tg.Addr("h1").String(), "GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: stall-raw\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
				if err != nil {
					t.Fatalf("got %q (%v), want the 200 header the upstream sent", raw, err)
				}
				body, err := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 || err == nil {
					t.Errorf("got %d with body %q read in full; want 200 cut short", resp.StatusCode, body)
				}
				if string(body) != tt.sent {
					t.Errorf("body: got %q, want %q", body, tt.sent)
				}
				e := tg.logFor("stall-raw")
				if e["response_code"] != float64(200) || e["response_flags"] != "UT" || e["connection_termination_details"] != "upstream_response_timeout" {
					t.Errorf("access log: got %v %v %v, want 200 UT upstream_response_timeout",
						e["response_code"], e["response_flags"], e["connection_termination_details"])
				}
			})
			for name, c := range clients {
				if name == "HTTP/3" && tt.sent == "" {
					// The header goes out as the stream is reset, and
					// QUIC's reset drops what was not yet sent; quic-go's
					// client then keeps the connection open, which
					// would hold the gateway's shutdown.
					continue
				}
				t.Run(name, func(t *testing.T) {
					resp, err := c.Get(tg.edgeURL() + "/")
					if err != nil && name != "HTTP/1.1" {
						// A stream reset may overtake the header on
						// HTTP/2 and HTTP/3: cut short all the same.
						return
					}
					if err != nil {
						t.Fatalf("got %v, want the 200 header the upstream sent", err)
					}
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 || err == nil {
						t.Errorf("got %d with body %q read in full; want 200 cut short", resp.StatusCode, body)
					}
				})
			}
		})
	}
}

// waitLong is closed after the time a test waits for what must come.
func waitLong() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		c, _ := net.Pipe()
		c.SetReadDeadline(deadline())
		c.Read(make([]byte, 1))
		close(ch)
	}()
	return ch
}

// TestQuietStreamOutlivesWriteTimeout has an upstream stream pause for
// longer than write_timeout between two parts: a client that reads is never
// cut off for a pause that is the upstream's.
func TestQuietStreamOutlivesWriteTimeout(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		// The pause under test: three times write_timeout.
		time.Sleep(600 * time.Millisecond)
		w.Write([]byte("b"))
	})
	tg, clients := edgeGateway(t, be.addr(), "10s", "write_timeout: 200ms")
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Get(tg.edgeURL() + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if string(body) != "ab" || err != nil {
				t.Errorf("got %q, %v; want ab in full", body, err)
			}
		})
	}
}

// TestHeaderBeforeSlowBody has an upstream send its header and wait, before
// any body byte, until the client has the header: the gateway sends a
// header on its own when the body is slow to come.
func TestHeaderBeforeSlowBody(t *testing.T) {
	got := make(chan struct{}, 1)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		select {
		case <-got:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte("ok"))
	})
	tg, clients := edgeGateway(t, be.addr(), "10s", "")
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			type result struct {
				resp *http.Response
				err  error
			}
			done := make(chan result, 1)
			go func() {
				resp, err := c.Get(tg.edgeURL() + "/")
				done <- result{resp, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-waitLong():
				got <- struct{}{}
				t.Fatal("header not received while the upstream waits for it; want it passed on")
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			defer r.resp.Body.Close()
			got <- struct{}{}
			body, err := io.ReadAll(r.resp.Body)
			if r.resp.StatusCode != http.StatusAccepted || string(body) != "ok" || err != nil {
				t.Errorf("got %d %q, %v; want 202 ok", r.resp.StatusCode, body, err)
			}
		})
	}
}
