package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
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

// faultBackends are the two endpoints of an upstream that count the
// requests they received and answer them 200: HTTP/1 ones count a request
// read whole, h2c ones any request HEADERS.
type faultBackends struct {
	addrs  [2]string
	served [2]*atomic.Int64
}

func newFaultBackends(t *testing.T, h2 bool) *faultBackends {
	f := &faultBackends{served: [2]*atomic.Int64{new(atomic.Int64), new(atomic.Int64)}}
	for i := range f.addrs {
		n := f.served[i]
		if h2 {
			f.addrs[i] = h2Backend(t, nil, func(w *h2Writer, id uint32) {
				n.Add(1)
				w.headers(id, true, ":status", "200")
			})
			continue
		}
		b := newWholeBackend(t)
		f.addrs[i], f.served[i] = b.addr(), &b.served
	}
	return f
}

// TestRequestFaultsSpareEndpoints sends requests that fail by their own
// fault (a method or trailer name no transport sends, a body whose framing
// breaks, an upgrade an HTTP/2 upstream cannot carry), many times, to an
// upstream of two healthy endpoints with outlier detection and retries.
// Each must get its answer (400 DPE for the client's fault, 500 for a
// request the gateway cannot send) with no upstream flag, reach no endpoint
// whole, eject nothing and be retried never: both endpoints then serve.
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
	dpe := func(details string) [2]string { return [2]string{"DPE", details} }
	cases := []struct {
		name   string
		h2up   bool                   // the upstream speaks h2c
		raw    func(id string) string // HTTP/1 bytes
		fields []string               // or HTTP/2 fields
		body   string                 // and a DATA frame
		status int
		log    [2]string // flags, details; empty when the server refuses alone
	}{
		{"h1 trailer with space", false, h1(chunked+"Trailer: a b\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "", 400, dpe("invalid_trailer_name")},
		{"h1 trailer with quote", false, h1(chunked+"Trailer: x\"y\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "", 400, dpe("invalid_trailer_name")},
		{"h1 trailer non-ASCII", false, h1(chunked+"Trailer: \xc3\xa9\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "", 400, dpe("invalid_trailer_name")},
		{"h1 trailer Host", false, h1(chunked+"Trailer: Host\r\n", "2\r\nhi\r\n0\r\n\r\n"), nil, "", 400, dpe("disallowed_trailer_name")},
		{"h1 method with quote", false, func(id string) string {
			return "G\"T /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: " + id + "\r\n\r\n"
		}, nil, "", 400, [2]string{}},
		{"h1 broken chunked body", false, h1(chunked, "2\r\nhi\r\nzz\r\n"), nil, "", 400, dpe("request_body_invalid")},
		{"h1 upgrade to h2", true, func(id string) string {
			return "GET /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: " + id + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
		}, nil, "", 500, [2]string{"-", "upstream_request_invalid{invalid_upgrade}"}},
		{"h2 method with quote", false, nil, h2(":method", `G"T`), "", 400, dpe("invalid_method")},
		{"h2 method with high byte", false, nil, h2(":method", "GET\x80"), "", 400, dpe("invalid_method")},
		{"h2 method to h2", true, nil, h2(":method", `G"T`), "", 400, dpe("invalid_method")},
		{"h2 trailer with space", false, nil, h2(":method", "POST", "trailer", "a b"), "", 400, dpe("invalid_trailer_name")},
		{"h2 trailer Authorization", false, nil, h2(":method", "POST", "trailer", "authorization"), "", 400, dpe("disallowed_trailer_name")},
		{"h2 trailer to h2", true, nil, h2(":method", "POST", "trailer", "a b"), "", 400, dpe("invalid_trailer_name")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := newFaultBackends(t, tc.h2up)
			proto := "http1"
			if tc.h2up {
				proto = "http2"
			}
			cfg := parseT(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0", protocols: [http1, http2] } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app, retries: { attempts: 3, on: [reset, 5xx, connect-failure], retry_non_idempotent: true } }
upstreams:
  - name: app
    endpoints: [%q, %q]
    protocol: %s
    outlier: { consecutive_5xx: 2, consecutive_connect_failures: 2, base_ejection_time: 30s, max_ejection_percent: 50 }
`, be.addrs[0], be.addrs[1], proto))
			tg := serveForTest(t, cfg, "json", zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
			addr := tg.Addr("web").String()
			for i := 0; i < 8; i++ {
				id := fmt.Sprintf("fault-%d", i)
				var st string
				if tc.raw != nil {
					st = rawRequest(t, addr, tc.raw(id))
				} else {
					st = h2Raw(t, addr, append(tc.fields, "x-request-id", id)...)
				}
				if !strings.Contains(st, fmt.Sprint(tc.status)) {
					t.Fatalf("request %d: got %q, want %d", i, st, tc.status)
				}
				if tc.log[1] == "" {
					continue
				}
				e := tg.logFor(id)
				if e["response_code"] != float64(tc.status) || e["response_flags"] != tc.log[0] || e["response_code_details"] != tc.log[1] {
					t.Fatalf("request %d logged code=%v flags=%v details=%v, want %d %s %s",
						i, e["response_code"], e["response_flags"], e["response_code_details"], tc.status, tc.log[0], tc.log[1])
				}
			}
			if n := be.served[0].Load() + be.served[1].Load(); n != 0 {
				t.Fatalf("the endpoints received %d whole requests, want none", n)
			}
			for _, m := range []string{"portcullis_upstream_ejections_total", "portcullis_upstream_retries_total"} {
				if v := upstreamMetric(t, tg, m, "app"); v != 0 {
					t.Errorf("%s = %v, want 0", m, v)
				}
			}
			for i := 0; i < 20; i++ {
				if st := rawRequest(t, addr, "GET /p HTTP/1.1\r\nHost: shop\r\n\r\n"); st != "HTTP/1.1 200 OK" {
					t.Fatalf("good request %d: %s", i, st)
				}
			}
			if a, b := be.served[0].Load(), be.served[1].Load(); a == 0 || b == 0 {
				t.Errorf("20 good requests went %d/%d to the two healthy endpoints: one was ejected", a, b)
			}
		})
	}
}
