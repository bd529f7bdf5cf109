package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// TestQueryOverHTTP2AndHTTP3 checks that a query carried by HTTP/2 or
// HTTP/3, which frame the target themselves, can put into an upstream's
// HTTP/1 request line nothing that HTTP/1 would refuse: a space or a
// control byte gets 400 and reaches nothing, and bytes a URL holds only
// escaped are escaped.
func TestQueryOverHTTP2AndHTTP3(t *testing.T) {
	ca := newTestCA(t)
	crt, key := ca.issue(t, "localhost", "127.0.0.1")
	be := newRawBackend(t, nil)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: tls, address: "127.0.0.1:0", protocols: [http1, http2, http3], tls: { certificates: [ { cert: %q, key: %q } ] } }
  - { name: h2c, address: "127.0.0.1:0", protocols: [http1, http2] }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, crt, key, be.addr()))
	h3 := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost"),
		Dial: func(ctx context.Context, addr string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, addr, tc, qc)
		}}
	t.Cleanup(func() { h3.Close() })
	send := map[string]func(query string) string{
		"HTTP/2": func(query string) string {
			return h2Raw(t, tg.Addr("h2c").String(), ":method", "GET", ":scheme", "http", ":authority", "shop", ":path", "/p?"+query)
		},
		"HTTP/3": func(query string) string {
			u := &url.URL{Scheme: "https", Host: tg.Addr("tls").String(), Opaque: "/p", RawQuery: query}
			resp, err := h3.RoundTrip(&http.Request{Method: "GET", URL: u, Host: "shop", Header: http.Header{}})
			if err != nil {
				return "ERR:" + err.Error()
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return fmt.Sprint(resp.StatusCode)
		},
	}
	tests := []struct{ query, status, forwarded string }{
		{"a HTTP/1.0 /admin", "400", ""},
		{"a\tb", "400", ""},
		{"a\x7fb", "400", ""},
		{"a#b", "400", ""},
		{"x=\xff\"<>\\{}", "200", "GET /p?x=%FF%22%3C%3E%5C%7B%7D HTTP/1.1"},
		{"x=%zz&y=%41", "200", "GET /p?x=%zz&y=%41 HTTP/1.1"},
	}
	for proto, do := range send {
		for _, tt := range tests {
			t.Run(proto+" "+tt.query, func(t *testing.T) {
				got := do(tt.query)
				// An HTTP/2 or HTTP/3 server may refuse a control byte
				// itself, with a stream error: as good a refusal.
				refused := tt.status == "400" && (strings.HasPrefix(got, "RST:") || strings.HasPrefix(got, "ERR:"))
				if got != tt.status && !refused {
					t.Fatalf("got %s, want %s", got, tt.status)
				}
				// The backend records a head before it answers, and the
				// gateway answers a forwarded request only after that: what
				// it received is in the channel already.
				select {
				case head := <-be.heads:
					line, _, _ := strings.Cut(head, "\r\n")
					if line != tt.forwarded {
						t.Errorf("upstream request line %q, want %q", line, tt.forwarded)
					}
				default:
					if tt.forwarded != "" {
						t.Errorf("upstream received nothing, want %q", tt.forwarded)
					}
				}
			})
		}
	}
}
