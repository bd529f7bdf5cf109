package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// wholeBackend is a raw backend that answers 200 only to a request it
// read whole, body included, and counts those.
type wholeBackend struct {
	*rawBackend
	served atomic.Int64
}

func newWholeBackend(t *testing.T) *wholeBackend {
	b := &wholeBackend{}
	b.rawBackend = newRawBackend(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		b.served.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	return b
}

// h2Status sends one HEADERS frame (END_STREAM) with the given fields on a
// new h2c connection and returns the response's :status, or "RST:<code>".
func h2Status(t testing.TB, addr string, fields ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for i := 0; i+1 < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			return f.PseudoValue("status")
		case *http2.RSTStreamFrame:
			return "RST:" + f.ErrCode.String()
		}
	}
}

// TestRequestFaultsSpareEndpoints sends requests that fail by their own
// fault (a method or trailer name no transport sends, a body whose framing
// breaks), many times, to an upstream of two healthy endpoints with outlier
// detection. Each must be answered 400 with DPE and no upstream flag, reach
// no endpoint whole, and leave both endpoints in the balancer's choice.
func TestRequestFaultsSpareEndpoints(t *testing.T) {
	h1 := func(head, body string) func(string) string {
		return func(id string) string {
			return "POST /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: " + id + "\r\n" + head + "\r\n" + body
		}
	}
	chunked := "Transfer-Encoding: chunked\r\n"
	h2 := func(fields ...string) []string {
		return append([]string{":scheme", "http", ":authority", "shop", ":path", "/p"}, fields...)
	}
	cases := []struct {
		name    string
		raw     func(id string) string // HTTP/1 bytes
		fields  []string               // or HTTP/2 fields
		details string
	}{
		{"h1 trailer with space", h1(chunked+"Trailer: a b\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "invalid_trailer_name"},
		{"h1 trailer with quote", h1(chunked+"Trailer: x\"y\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "invalid_trailer_name"},
		{"h1 trailer non-ASCII", h1(chunked+"Trailer: \xc3\xa9\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "invalid_trailer_name"},
		{"h1 trailer Host", h1(chunked+"Trailer: Host\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "disallowed_trailer_name"},
		{"h1 method with quote", func(id string) string {
			return "G\"T /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: " + id + "\r\n\r\n"
		}, nil, ""},
		{"h1 broken chunked body", h1(chunked, "2\r\nhi\r\nzz\r\n"), nil, "request_body_invalid"},
		{"h2 method with quote", nil, h2(":method", `G"T`), "invalid_method"},
		{"h2 method with high byte", nil, h2(":method", "GET\x80"), "invalid_method"},
		{"h2 trailer with space", nil, h2(":method", "POST", "trailer", "a b"), "invalid_trailer_name"},
		{"h2 trailer Authorization", nil, h2(":method", "POST", "trailer", "authorization"), "disallowed_trailer_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newWholeBackend(t), newWholeBackend(t)
			cfg := parseT(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0", protocols: [http1, http2] } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams:
  - name: app
    endpoints: [%q, %q]
    outlier: { consecutive_5xx: 2, consecutive_connect_failures: 2, base_ejection_time: 30s, max_ejection_percent: 50 }
`, a.addr(), b.addr()))
			tg := serveForTest(t, cfg, "json", zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
			addr := tg.Addr("web").String()
			for i := 0; i < 8; i++ {
				id := fmt.Sprintf("fault-%d", i)
				var st string
				if tc.raw != nil {
					st = rawRequest(t, addr, tc.raw(id))
				} else {
					st = h2Status(t, addr, append(tc.fields, "x-request-id", id)...)
				}
				if !strings.Contains(st, "400") {
					t.Fatalf("request %d: got %q, want 400", i, st)
				}
				if tc.details == "" { // refused by the HTTP/1 server itself
					continue
				}
				e := tg.logFor(id)
				if e["response_code"] != float64(400) || e["response_flags"] != "DPE" || e["response_code_details"] != tc.details {
					t.Fatalf("request %d logged code=%v flags=%v details=%v, want 400 DPE %s",
						i, e["response_code"], e["response_flags"], e["response_code_details"], tc.details)
				}
			}
			if n := a.served.Load() + b.served.Load(); n != 0 {
				t.Fatalf("the endpoints received %d whole requests, want none", n)
			}
			for i := 0; i < 20; i++ {
				if st := rawRequest(t, addr, "GET /p HTTP/1.1\r\nHost: shop\r\n\r\n"); st != "HTTP/1.1 200 OK" {
					t.Fatalf("good request %d: %s", i, st)
				}
			}
			if a.served.Load() == 0 || b.served.Load() == 0 {
				t.Errorf("20 good requests went %d/%d to the two healthy endpoints: one was ejected", a.served.Load(), b.served.Load())
			}
		})
	}
}
