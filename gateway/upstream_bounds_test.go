package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/upstream"
)

// hostileAnswer is one answer an upstream must not get through the
// gateway, written for HTTP/1 on a raw socket and for HTTP/2 on raw frames.
type hostileAnswer struct {
	name string
	h1   string
	h2   h2Answer
}

func h2Final(fields ...string) h2Answer {
	return func(w *h2Writer, id uint32) { w.headers(id, true, fields...) }
}

func repeatFields(n int, name, value string) []string {
	out := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		out = append(out, name, value)
	}
	return out
}

func hostileAnswers() []hostileAnswer {
	big := strings.Repeat("a", 2<<20)
	var many strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&many, "X-H%d: v\r\n", i)
	}
	var over strings.Builder
	for i := 0; i <= upstream.MaxResponseHeaders; i++ {
		over.WriteString("X-H: v\r\n")
	}
	early := strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", 10000)
	return []hostileAnswer{
		{"2 MB header", "HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nContent-Length: 0\r\n\r\n",
			h2Final(":status", "200", "x-big", big)},
		{"20,000 header fields", "HTTP/1.1 200 OK\r\n" + many.String() + "Content-Length: 0\r\n\r\n",
			h2Final(append([]string{":status", "200"}, repeatFields(20000, "x-h", "v")...)...)},
		{"one field over the count", "HTTP/1.1 200 OK\r\n" + over.String() + "Content-Length: 0\r\n\r\n",
			h2Final(append([]string{":status", "200"}, repeatFields(upstream.MaxResponseHeaders+1, "x-h", "v")...)...)},
		{"10,000 103 responses", early + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			func(w *h2Writer, id uint32) {
				for i := 0; i < 10000; i++ {
					if w.headers(id, false, ":status", "103", "link", "</a.css>; rel=preload") != nil {
						return
					}
				}
				w.headers(id, true, ":status", "200")
			}},
		{"a 103 with too many fields", "HTTP/1.1 103 Early Hints\r\n" + over.String() + "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			func(w *h2Writer, id uint32) {
				w.headers(id, false, append([]string{":status", "103"}, repeatFields(upstream.MaxResponseHeaders+1, "link", "</a>")...)...)
				w.headers(id, true, ":status", "200")
			}},
		{"status 999", "HTTP/1.1 999 Nine\r\nContent-Length: 0\r\n\r\n", h2Final(":status", "999")},
		{"status 600", "HTTP/1.1 600 Six\r\nContent-Length: 0\r\n\r\n", h2Final(":status", "600")},
		{"status 099", "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", h2Final(":status", "099")},
		{"status of four digits", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", h2Final(":status", "2000")},
		{"status not a number", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", h2Final(":status", "2x0")},
		// HTTP/2's :status is read with strconv.Atoi, which takes "+200"
		// for 200: what passes on is a valid 200.
		{"signed status", "HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n", nil},
		{"no status", "HTTP/1.1\r\nContent-Length: 0\r\n\r\n", h2Final("x-a", "b")},
	}
}

// TestHostileUpstreamAnswers has upstreams of every protocol the gateway
// speaks to write answers past the response bounds or with invalid
// statuses: each is answered 502 UPE, and no more than the bounded number
// of 1xx responses reaches the client.
func TestHostileUpstreamAnswers(t *testing.T) {
	ca := newTestCA(t)
	crt, key := ca.issue(t, "backend.internal")
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	backendTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, a := range hostileAnswers() {
		ups := []struct{ proto, spec string }{
			{"http1", fmt.Sprintf(`{ name: app, endpoints: [%q] }`, answerBackend(t, func(c net.Conn) { io.WriteString(c, a.h1) }))},
			{"h2c", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2 }`, h2Backend(t, nil, a.h2))},
			{"http2 over TLS", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2, tls: { ca_file: %q, server_name: backend.internal } }`,
				h2Backend(t, backendTLS, a.h2), ca.caFile)},
		}
		for _, up := range ups {
			if a.h2 == nil && up.proto != "http1" {
				continue
			}
			t.Run(a.name+"/"+up.proto, func(t *testing.T) {
				tg := startGateway(t, `
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ `+up.spec+` ]
`)
				id := "hostile-" + strings.NewReplacer(" ", "-", ",", "").Replace(t.Name())
				raw := rawExchange(t, tg.Addr("web").String(),
					"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: "+id+"\r\n\r\n")
				lines := statusLines(raw)
				if len(lines) == 0 || lines[len(lines)-1] != "HTTP/1.1 502 Bad Gateway" {
					t.Fatalf("final status: got %q, want 502", lines)
				}
				if n := len(lines) - 1; n > upstream.MaxInformational {
					t.Errorf("got %d informational responses relayed, want at most %d", n, upstream.MaxInformational)
				}
				if len(raw) > 64<<10 {
					t.Errorf("client got %d bytes, want the bounded answer only", len(raw))
				}
				e := tg.logFor(id)
				if e["response_flags"] != "UPE" || e["response_code"] != float64(502) ||
					e["response_code_details"] != "upstream_reset_before_response_started{protocol_error}" {
					t.Errorf("access log: got %v %v %v (%v), want 502 UPE upstream_reset_before_response_started{protocol_error}",
						e["response_code"], e["response_flags"], e["response_code_details"], e["upstream_transport_failure_reason"])
				}
			})
		}
	}
}

// TestInformationalRelayed checks that 1xx responses within the bound still
// reach the client, before the final response.
func TestInformationalRelayed(t *testing.T) {
	be := answerBackend(t, func(c net.Conn) {
		io.WriteString(c, strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", upstream.MaxInformational)+
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	tg := plainGateway(t, be, "")
	raw := rawExchange(t, tg.Addr("h1").String(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	lines := statusLines(raw)
	if len(lines) != upstream.MaxInformational+1 || lines[0] != "HTTP/1.1 103 Early Hints" || lines[len(lines)-1] != "HTTP/1.1 200 OK" {
		t.Errorf("status lines: got %q, want %d 103s and a 200", lines, upstream.MaxInformational)
	}
	if !strings.HasSuffix(raw, "\r\n\r\nok") || !strings.Contains(raw, "Link: </a.css>; rel=preload") {
		t.Errorf("response: got %q, want the hints' Link and the body ok", raw)
	}
}
