package gateway

import (
	"crypto/tls"
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

// TestEgressHTTP2ProxiedRequests sends requests for http URLs over
// cleartext HTTP/2 as a client sends them to a proxy (:scheme http,
// :authority, :path), each in one HEADERS frame: the same rules, parser
// and log as the absolute form over HTTP/1.1.
func TestEgressHTTP2ProxiedRequests(t *testing.T) {
	addr, seen := proxiedBackend(t)
	d := newLoopDialer()
	d.route("api.example.com:80", addr)
	d.route("api.example.com:8080", addr)
	tg := startProxy(t, h2ForwardRules, d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct {
		id, method, authority, path string
		status                      string
		details, rule               string
	}{
		{"h2-get", "GET", "api.example.com", "/v1/./x?q=1", "200", "via_upstream", "read"},
		{"h2-port", "GET", "API.example.com.:8080", "/v1", "200", "via_upstream", "read"},
		{"h2-post", "POST", "api.example.com", "/v1/x", "403", "egress_denied", "default"},
		{"h2-admin", "GET", "api.example.com", "/admin/users", "403", "egress_denied", "no-admin"},
		{"h2-admin-escaped", "GET", "api.example.com", "/%61dmin/users", "403", "egress_denied", "no-admin"},
		{"h2-admin-dots", "GET", "api.example.com", "/v1/../admin", "403", "egress_denied", "no-admin"},
		{"h2-admin-slashes", "GET", "api.example.com", "//admin", "403", "egress_denied", "no-admin"},
		{"h2-other-host", "GET", "other.example.com", "/v1", "403", "egress_denied", "default"},
		{"h2-ip-spelling", "GET", "2130706433", "/v1", "403", "egress_denied", "default"},
		{"h2-octal-spelling", "GET", "0177.0.0.1", "/v1", "400", "egress_invalid_target", ""},
		{"h2-hex-spelling", "GET", "0x7f.1", "/v1", "403", "egress_denied", "default"},
		{"h2-mapped", "GET", "[::ffff:127.0.0.1]", "/v1", "403", "egress_denied", "default"},
		{"h2-zone", "GET", "[fe80::1%25eth0]", "/v1", "400", "egress_invalid_target", ""},
		{"h2-empty-port", "GET", "api.example.com:", "/v1", "400", "egress_invalid_target", ""},
		{"h2-asterisk", "OPTIONS", "api.example.com", "*", "400", "egress_not_absolute_form", ""},
	} {
		t.Run(tt.id, func(t *testing.T) {
			before := len(seen())
			got := h2Raw(t, proxy, ":method", tt.method, ":scheme", "http", ":authority", tt.authority, ":path", tt.path,
				"x-request-id", tt.id)
			if got != tt.status {
				t.Fatalf("got %s, want %s", got, tt.status)
			}
			e := tg.logFor(tt.id)
			if e["protocol"] != "HTTP/2" || e["response_code_details"] != tt.details || tt.rule != "" && egressField(e, "rule") != tt.rule {
				t.Errorf("got %v details %v rule %v, want HTTP/2 %s %s", e["protocol"], e["response_code_details"], egressField(e, "rule"), tt.details, tt.rule)
			}
			if tt.status != "200" && len(seen()) != before {
				t.Errorf("the backend saw %q", seen()[before:])
			}
		})
	}
	if got, want := seen(), []string{"GET /v1/x?q=1 host=api.example.com", "GET /v1 host=api.example.com:8080"}; !slices.Equal(got, want) {
		t.Errorf("the backend saw %q, want %q", got, want)
	}
	// Userinfo in :authority is malformed (RFC 9113, section 8.3.1), and
	// so is a scheme other than http or https: their streams are reset
	// before the proxy sees them.
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
	if got := seen(); len(got) != 2 {
		t.Errorf("the backend saw %q after the refused requests", got)
	}
}

// TestEgressHTTP2ProxiedRequestsOverTLS fetches an http URL asked over
// HTTP/2 on a TLS listener.
func TestEgressHTTP2ProxiedRequestsOverTLS(t *testing.T) {
	ca := newTestCA(t)
	crt, key := ca.issue(t, "proxy.test")
	addr, seen := proxiedBackend(t)
	d := newLoopDialer()
	d.route("api.example.com:80", addr)
	d.route("api.example.com:443", addr)
	cfg := loadProxyConfig(t, fmt.Sprintf(`
listeners:
  - { name: egress, address: "127.0.0.1:0", kind: forward_proxy, protocols: [http1, http2], tls: { certificates: [{ cert: %q, key: %q }] } }
egress:
  rules:
    - { name: read, to: { hosts: [api.example.com], ports: [80, 443], methods: [GET] } }
`, crt, key))
	tg := serveWithDial(t, cfg, d)
	proxy := tg.Addr("egress").String()
	for _, tt := range []struct {
		id, scheme string
		status     string
		details    string
	}{
		{"h2tls-http", "http", "200", "via_upstream"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			c := ca.clientTLS("proxy.test")
			c.NextProtos = []string{"h2"}
			conn, err := tls.Dial("tcp", proxy, c)
			if err != nil {
				t.Fatal(err)
			}
			got := h2RawOn(t, conn, ":method", "GET", ":scheme", tt.scheme, ":authority", "api.example.com", ":path", "/v1", "x-request-id", tt.id)
			if got != tt.status {
				t.Fatalf("got %s, want %s", got, tt.status)
			}
			if e := tg.logFor(tt.id); e["response_code_details"] != tt.details {
				t.Errorf("got details %v, want %s", e["response_code_details"], tt.details)
			}
		})
	}
	if got, want := seen(), []string{"GET /v1 host=api.example.com"}; !slices.Equal(got, want) {
		t.Errorf("the backend saw %q, want %q", got, want)
	}
}
