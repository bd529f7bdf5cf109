package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMalformedRequests sends each malformed request on a raw socket and
// checks its status and that the upstream saw nothing of it.
func TestMalformedRequests(t *testing.T) {
	be := newBackend(t, nil)
	tg := plainGateway(t, be.addr(), "")
	bigHeader := "X-Big: " + strings.Repeat("a", 70<<10) + "\r\n"
	var many strings.Builder
	for i := 0; i < 101; i++ {
		many.WriteString("X-H: v\r\n")
	}
	tests := []struct {
		name   string
		raw    string
		status string
	}{
		{"bad request line", "GET /\r\n\r\n", "400"},
		{"garbage request line", "\x16\x03\x01\x02\x00\r\n\r\n", "400"},
		{"lower-case method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"two Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
		{"signed Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", "400"},
		{"invalid header name", "GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", "400"},
		{"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", "400"},
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", "400"},
		{"missing Host on HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", "400"},
		{"duplicate Host", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "400"},
		{"invalid Host", "GET / HTTP/1.1\r\nHost: x y\r\n\r\n", "400"},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: evil@x\r\n\r\n", "400"},
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n", "400"},
		{"bare CR", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", "400"},
		{"NUL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "400"},
		{"NUL in path", "GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"encoded NUL in path", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"bad percent escape", "GET /a%zzb HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", "400|501"},
		{"oversized headers", "GET / HTTP/1.1\r\nHost: x\r\n" + bigHeader + "\r\n", "431"},
		{"too many headers", "GET / HTTP/1.1\r\nHost: x\r\n" + many.String() + "\r\n", "431"},
		{"asterisk target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := be.hits.Load()
			// h1 speaks HTTP/1.1 only: with h2c on, a short request
			// waits for the bytes of a possible HTTP/2 preface.
			c, err := net.Dial("tcp", tg.Addr("h1").String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tt.raw))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, _ := io.ReadAll(c)
			line, _, _ := strings.Cut(string(resp), "\r\n")
			ok := false
			for _, s := range strings.Split(tt.status, "|") {
				ok = ok || strings.HasPrefix(line, "HTTP/1.1 "+s) || strings.HasPrefix(line, "HTTP/1.0 "+s)
			}
			if !ok {
				t.Errorf("status line: got %q, want %s", line, tt.status)
			}
			if n := be.hits.Load() - before; n != 0 {
				t.Errorf("upstream saw %d requests, want 0", n)
			}
		})
	}
}

// TestMalformedOverTLS sends the framing attacks Go's own parser lets
// through over HTTP/1.1 on TLS: they are refused there too.
func TestMalformedOverTLS(t *testing.T) {
	ca := newTestCA(t)
	be := newBackend(t, nil)
	crt, key := ca.issue(t, "localhost")
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: edge, address: "127.0.0.1:0", tls: { certificates: [ { cert: %q, key: %q } ] } } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, crt, key, be.addr()))
	for _, tt := range []struct{ name, raw, status string }{
		{"valid request", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200"},
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n", "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", "400"},
		{"Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := be.hits.Load()
			cfg := ca.clientTLS("localhost")
			cfg.NextProtos = []string{"http/1.1"}
			c, err := tls.Dial("tcp", tg.Addr("edge").String(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tt.raw))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, _ := io.ReadAll(c)
			line, _, _ := strings.Cut(string(resp), "\r\n")
			if !strings.HasPrefix(line, "HTTP/1.1 "+tt.status) {
				t.Errorf("status line: got %q, want %s", line, tt.status)
			}
			want := int64(0)
			if tt.status == "200" {
				want = 1
			}
			if n := be.hits.Load() - before; n != want {
				t.Errorf("upstream saw %d requests, want %d", n, want)
			}
		})
	}
}

// TestMalformedRequestsAreLogged checks that requests net/http would refuse
// on its own, before the gateway sees them (a Host it does not take, a bad
// escape in the target), are refused by the framing guard instead, and so
// get their access-log line with flag DPE and what was wrong.
func TestMalformedRequestsAreLogged(t *testing.T) {
	be := newBackend(t, nil)
	tg := plainGateway(t, be.addr(), "")
	tests := []struct{ name, raw, details string }{
		{"space in Host", "GET / HTTP/1.1\r\nHost: sh op\r\n\r\n", "http1.codec_error{host}"},
		{"UTF-8 in Host", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", "http1.codec_error{host}"},
		{"quote in Host", "GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n", "http1.codec_error{host}"},
		{"bad escape", "GET /a%zzb HTTP/1.1\r\nHost: x\r\n\r\n", "http1.codec_error{request_line}"},
		{"escape cut short", "GET /a%4 HTTP/1.1\r\nHost: x\r\n\r\n", "http1.codec_error{request_line}"},
		{"bad escape in absolute form", "GET http://x/%g1 HTTP/1.1\r\nHost: x\r\n\r\n", "http1.codec_error{request_line}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", tg.Addr("h1").String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tt.raw))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, _ := io.ReadAll(c)
			if !strings.HasPrefix(string(resp), "HTTP/1.1 400 ") {
				t.Errorf("response: got %q, want 400", resp)
			}
			from := c.LocalAddr().String()
			waitUntil(t, "a log line for "+from, func() bool {
				for _, e := range readLog(t, tg.logPath) {
					if e["downstream_remote_address"] == from {
						if e["response_code_details"] != tt.details || e["response_flags"] != "DPE" {
							t.Errorf("logged %v %v, want %s DPE", e["response_code_details"], e["response_flags"], tt.details)
						}
						return true
					}
				}
				return false
			})
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("upstream saw %d requests, want 0", n)
	}
}
