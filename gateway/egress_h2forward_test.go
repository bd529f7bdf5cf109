package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// proxiedBackend serves plain HTTP on loopback and records each request
// it gets as "METHOD URI host=HOST".
func proxiedBackend(t *testing.T) (addr string, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s host=%s", r.Method, r.RequestURI, r.Host))
		mu.Unlock()
		io.WriteString(w, "from the backend")
	}))
	t.Cleanup(be.Close)
	return strings.TrimPrefix(be.URL, "http://"), func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
}

const h2ForwardRules = `
egress:
  rules:
    - name: no-admin
      action: deny
      to: { hosts: [api.example.com], ports: [80], path_prefixes: [/admin] }
    - name: read
      to: { hosts: [api.example.com], ports: [80, 8080], methods: [GET, HEAD] }
`

// TestEgressHTTP2ProxiedRequests: over HTTP/2 a request other than CONNECT
// names its URL with :scheme, which the HTTP/2 server does not pass on, so
// the proxy cannot tell https from http; it refuses them all with 400 and
// the destination sees nothing, on a plain and on a TLS listener. Streams
// malformed by RFC 9113 are reset before the proxy sees them.
func TestEgressHTTP2ProxiedRequests(t *testing.T) {
	addr, seen := proxiedBackend(t)
	d := newLoopDialer()
	d.route("api.example.com:80", addr)
	d.route("api.example.com:443", addr)
	tg := startProxy(t, h2ForwardRules, d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct{ id, scheme, authority, path string }{
		{"h2-http", "http", "api.example.com", "/v1"},
		{"h2-https", "https", "api.example.com", "/v1"},
		{"h2-https-port", "https", "api.example.com:443", "/v1"},
		{"h2-ip-spelling", "http", "2130706433", "/v1"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			got := h2Raw(t, proxy, ":method", "GET", ":scheme", tt.scheme, ":authority", tt.authority, ":path", tt.path, "x-request-id", tt.id)
			if got != "400" {
				t.Fatalf("got %s, want 400", got)
			}
			if e := tg.logFor(tt.id); e["protocol"] != "HTTP/2" || e["response_code_details"] != "egress_not_absolute_form" {
				t.Errorf("got %v details %v, want HTTP/2 egress_not_absolute_form", e["protocol"], e["response_code_details"])
			}
		})
	}
	for _, fields := range [][]string{
		{":method", "GET", ":scheme", "http", ":authority", "user@api.example.com", ":path", "/v1"},
		{":method", "GET", ":scheme", "HTTP", ":authority", "api.example.com", ":path", "/v1"},
		{":method", "GET", ":scheme", "ftp", ":authority", "api.example.com", ":path", "/v1"},
		{":method", "GET", ":authority", "api.example.com", ":path", "/v1"},
	} {
		if got := h2Raw(t, proxy, fields...); got != "RST:PROTOCOL_ERROR" {
			t.Errorf("%q: got %s, want a reset stream", fields, got)
		}
	}
	if got := seen(); len(got) != 0 {
		t.Errorf("the backend saw %q", got)
	}
}
