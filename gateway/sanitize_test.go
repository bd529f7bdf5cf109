package gateway

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// headerGateway serves every path to backend, through the headers plugin
// setting x-api-key and removing x-internal-debug, with extra top-level
// settings (such as
// trusted_proxies) and its access log in format. /api/ is rewritten to /v2/.
// The listener lets header names with '_' through, so that what the gateway
// and the plugin do with them shows.
func headerGateway(t *testing.T, backend, extra, format string) *testGateway {
	cfg := parseT(t, fmt.Sprintf(`
admin: { address: "off" }
%s
listeners: [ { name: web, address: "127.0.0.1:0", headers_with_underscores: allow } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    plugins: [ { headers: { request: { set: { x-api-key: gateway-secret }, remove: [x-internal-debug] } } } ]
    routes:
      - { name: rewrite, match: { path_prefix: /api/ }, upstream: app, prefix_rewrite: /v2/ }
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams: [ { name: app, endpoints: [%q] } ]
`, extra, backend))
	return serveForTest(t, cfg, format, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
}

// textLogFor returns the text access-log line that holds "id".
func (tg *testGateway) textLogFor(id string) string {
	tg.t.Helper()
	end := deadline()
	for time.Now().Before(end) {
		b, _ := os.ReadFile(tg.logPath)
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, `"`+id+`"`) {
				return line
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tg.t.Fatalf("no access-log line for request %s", id)
	return ""
}

// TestConnectionCannotRemoveGatewayHeaders checks that the headers a client
// names in Connection are removed from what it sent, and that the ones the
// gateway and its plugins add reach the backend all the same, with the
// request id the access log records.
func TestConnectionCannotRemoveGatewayHeaders(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := headerGateway(t, be.addr(), "", "json")
	const nominated = "close, x-api-key, x-request-id, x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-client-hop, keep-alive, te"
	for _, tt := range []struct {
		name, id string
	}{
		{"client id", "X-Request-Id: conn-1\r\n"},
		{"generated id", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status := rawRequest(t, tg.Addr("web").String(), "GET /p HTTP/1.1\r\nHost: shop\r\n"+
				"Connection: "+nominated+"\r\n"+tt.id+"X-Client-Hop: one-hop-only\r\n\r\n")
			if !strings.Contains(status, " 200 ") {
				t.Fatalf("status: got %q, want 200", status)
			}
			got := headerLines(be.next(t))
			for name, want := range map[string]string{
				"x-api-key":         "gateway-secret",
				"x-forwarded-for":   "127.0.0.1",
				"x-forwarded-proto": "http",
				"x-forwarded-host":  "shop",
			} {
				if v := got[name]; len(v) != 1 || v[0] != want {
					t.Errorf("%s upstream: got %q, want [%q]", name, v, want)
				}
			}
			if v := got["x-client-hop"]; v != nil {
				t.Errorf("x-client-hop upstream: got %q, want it removed (the client named it in Connection)", v)
			}
			if v := got["connection"]; len(v) > 0 && strings.Contains(strings.Join(v, ","), "x-") {
				t.Errorf("connection upstream: got %q, want none of the client's names", v)
			}
			ids := got["x-request-id"]
			if len(ids) != 1 || ids[0] == "" {
				t.Fatalf("x-request-id upstream: got %q, want one id", ids)
			}
			if ids[0] == "conn-1" || len(ids[0]) != 36 {
				t.Errorf("x-request-id upstream: got %q, want one the gateway generated (the client named its own in Connection)", ids[0])
			}
			tg.logFor(ids[0]) // the access log records the id that was forwarded
		})
	}
}

// TestUntrustedForwardingHeaders checks that X-Real-IP, Forwarded and
// x-envoy-* (in any spelling a backend reads as theirs) reach the backend
// only from a trusted proxy. x-forwarded-client-cert follows its
// listener's forward_client_cert (TestForwardClientCert).
func TestUntrustedForwardingHeaders(t *testing.T) {
	be := newRawBackend(t, nil)
	sent := []string{
		"X-Real-IP: 203.0.113.9",
		"X_Real_IP: 203.0.113.10",
		"Forwarded: for=203.0.113.9;proto=https",
		"X-Envoy-Internal: true",
		"X-Envoy-Original-Path: /admin",
		"x-envoy-retry-on: 5xx",
		"X_Envoy_Expected_Rq_Timeout_Ms: 1",
		"X-Forwarded-Port: 8443",
		"X-Forwarded-Prefix: //evil.example",
		"X_Forwarded_Ssl: on",
		"X-Original-URL: /admin",
		"X-Rewrite-URL: /admin",
	}
	names := []string{"x-real-ip", "forwarded", "x-envoy-internal", "x-envoy-original-path", "x-envoy-retry-on",
		"x-envoy-expected-rq-timeout-ms", "x-forwarded-port", "x-forwarded-prefix",
		"x-forwarded-ssl", "x-original-url", "x-rewrite-url"}
	for _, tt := range []struct {
		name, extra string
		kept        bool
	}{
		{"untrusted peer", "", false},
		{"trusted proxy", "trusted_proxies: [127.0.0.0/8]", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := headerGateway(t, be.addr(), tt.extra, "json")
			status := rawRequest(t, tg.Addr("web").String(),
				"GET /p HTTP/1.1\r\nHost: shop\r\n"+strings.Join(sent, "\r\n")+"\r\n\r\n")
			if !strings.Contains(status, " 200 ") {
				t.Fatalf("status: got %q, want 200", status)
			}
			got := headerLines(be.next(t))
			for _, name := range names {
				if kept := got[name] != nil; kept != tt.kept {
					t.Errorf("%s upstream: got %q; kept %v, want %v", name, got[name], kept, tt.kept)
				}
			}
		})
	}
}

// TestOwnedHeadersHaveOneSpelling checks that where a listener lets header
// names with '_' through, a client cannot put a second X-Forwarded-For,
// X-Forwarded-Host, X-Forwarded-Proto or X-Request-Id beside the gateway's
// own for a backend that reads '_' as '-', whether or not it is trusted.
func TestOwnedHeadersHaveOneSpelling(t *testing.T) {
	be := newRawBackend(t, nil)
	for _, extra := range []string{"", "trusted_proxies: [127.0.0.0/8]"} {
		t.Run(extra, func(t *testing.T) {
			tg := headerGateway(t, be.addr(), extra, "json")
			rawRequest(t, tg.Addr("web").String(), "GET /p HTTP/1.1\r\nHost: shop\r\n"+
				"X_Forwarded_For: 6.6.6.6\r\nX_Forwarded_Host: admin.internal\r\nX_Forwarded_Proto: https\r\n"+
				"X_Request_Id: forged\r\nX_Custom: kept\r\n\r\n")
			got := headerLines(be.next(t))
			for _, name := range []string{"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-request-id"} {
				if len(got[name]) != 1 || strings.Contains(got[name][0], "6.6.6.6") || got[name][0] == "forged" {
					t.Errorf("%s upstream: got %q, want the gateway's one value", name, got[name])
				}
			}
			if v := got["x-custom"]; len(v) != 1 {
				t.Errorf("x-custom upstream: got %q, want it passed on", v)
			}
		})
	}
}

// TestOriginalPathIsTheGateways checks that %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
// logs the path the client asked for, not a header it sent, and that the
// gateway sets the header upstream on a prefix rewrite, as Envoy does.
func TestOriginalPathIsTheGateways(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := headerGateway(t, be.addr(), "", "envoy")
	for _, tt := range []struct {
		name, target, wantLogged, wantUpstream string
	}{
		{"no rewrite", "/p?q=1", "/p?q=1", ""},
		{"rewrite", "/api/items?q=1", "/api/items?q=1", "/api/items?q=1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "orig-" + strings.ReplaceAll(tt.name, " ", "-")
			forged := `/forged HTTP/1.1" 200 - 0 0 0 - "1.2.3.4" "ua" "x" "h" "u"`
			rawRequest(t, tg.Addr("web").String(), "GET "+tt.target+" HTTP/1.1\r\nHost: shop\r\nX-Request-Id: "+id+
				"\r\nX-Envoy-Original-Path: "+forged+"\r\n\r\n")
			got := headerLines(be.next(t))
			if v := got["x-envoy-original-path"]; tt.wantUpstream == "" && v != nil ||
				tt.wantUpstream != "" && (len(v) != 1 || v[0] != tt.wantUpstream) {
				t.Errorf("x-envoy-original-path upstream: got %q, want %q", v, tt.wantUpstream)
			}
			line := tg.textLogFor(id)
			if want := `"GET ` + tt.wantLogged + ` HTTP/1.1"`; !strings.Contains(line, want) {
				t.Errorf("envoy line %q: want the request line %s", line, want)
			}
		})
	}
}

// TestHeadersPluginEverySpelling checks, on the bytes the backend receives,
// that a header the headers plugin removes or sets cannot be sent past it
// in a spelling that a backend reads as the same name.
func TestHeadersPluginEverySpelling(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := headerGateway(t, be.addr(), "", "json")
	status := rawRequest(t, tg.Addr("web").String(), "GET /p HTTP/1.1\r\nHost: shop\r\n"+
		"X_Internal_Debug: 1\r\nx-internal_debug: 2\r\nX-INTERNAL-DEBUG: 3\r\n"+
		"X_API_KEY: forged\r\nX-Api_Key: forged\r\n\r\n")
	if !strings.Contains(status, " 200 ") {
		t.Fatalf("status: got %q, want 200", status)
	}
	got := headerLines(be.next(t))
	if v := got["x-internal-debug"]; v != nil {
		t.Errorf("x-internal-debug upstream: got %q, want none", v)
	}
	if v := got["x-api-key"]; len(v) != 1 || v[0] != "gateway-secret" {
		t.Errorf("x-api-key upstream: got %q, want [gateway-secret]", v)
	}
}
