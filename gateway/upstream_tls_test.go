package gateway

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tlsBackend is an upstream serving TLS with a certificate from ca, speaking
// HTTP/2 when h2 is set. It answers with the protocol it saw.
func tlsBackend(t *testing.T, ca *testCA, h2 bool) string {
	return tlsBackendWith(t, ca, h2, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s tls=%v", r.Proto, r.TLS != nil)
	})
}

// tlsBackendWith is tlsBackend answering with h.
func tlsBackendWith(t *testing.T, ca *testCA, h2 bool, h http.HandlerFunc) string {
	t.Helper()
	crt, key := ca.issue(t, "backend.internal", "127.0.0.1")
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

func TestUpstreamProtocols(t *testing.T) {
	ca := newTestCA(t)
	other := newTestCA(t)
	h2cBackend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s tls=%v", r.Proto, r.TLS != nil)
	}))
	h2cBackend.Config.Protocols = new(http.Protocols)
	h2cBackend.Config.Protocols.SetUnencryptedHTTP2(true)
	h2cBackend.Start()
	t.Cleanup(h2cBackend.Close)

	tests := []struct {
		name     string
		upstream string
		status   int
		body     string
		flag     string
	}{
		{"TLS verified against the CA file", fmt.Sprintf(`{ name: app, endpoints: [%q], tls: { ca_file: %q, server_name: backend.internal } }`,
			tlsBackend(t, ca, false), ca.caFile), 200, "HTTP/1.1 tls=true", "-"},
		{"HTTP/2 over TLS", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2, tls: { ca_file: %q, server_name: backend.internal } }`,
			tlsBackend(t, ca, true), ca.caFile), 200, "HTTP/2.0 tls=true", "-"},
		{"h2c", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2 }`,
			strings.TrimPrefix(h2cBackend.URL, "http://")), 200, "HTTP/2.0 tls=false", "-"},
		{"certificate from another CA is refused", fmt.Sprintf(`{ name: app, endpoints: [%q], tls: { ca_file: %q, server_name: backend.internal } }`,
			tlsBackend(t, ca, false), other.caFile), 502, "", "UF"},
		{"wrong server name is refused", fmt.Sprintf(`{ name: app, endpoints: [%q], tls: { ca_file: %q, server_name: elsewhere.internal } }`,
			tlsBackend(t, ca, false), ca.caFile), 502, "", "UF"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ %s ]
`, tt.upstream))
			id := fmt.Sprint("up-", i)
			resp, body := get(t, http.DefaultClient, tg.url("web")+"/", "X-Request-Id", id)
			if resp.StatusCode != tt.status || tt.body != "" && body != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			e := tg.logFor(id)
			if e["response_flags"] != tt.flag {
				t.Errorf("flags: got %v, want %s", e["response_flags"], tt.flag)
			}
			if tt.flag == "UF" && e["upstream_transport_failure_reason"] == nil {
				t.Error("a TLS failure without upstream_transport_failure_reason")
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	be := newBackend(t, nil)
	for _, tt := range []struct {
		name, trusted, wantXFF, wantClient string
	}{
		{"peer trusted: chain kept and extended", `["127.0.0.0/8"]`, "203.0.113.7, 127.0.0.1", "203.0.113.7"},
		{"peer not trusted: chain replaced", `["10.0.0.0/8"]`, "127.0.0.1", "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
trusted_proxies: %s
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, tt.trusted, be.addr()))
			_, body := get(t, http.DefaultClient, tg.url("web")+"/", "X-Forwarded-For", "203.0.113.7", "X-Request-Id", "xff-1")
			s := decodeSeen(t, body)
			if got := s.Header.Get("X-Forwarded-For"); got != tt.wantXFF {
				t.Errorf("X-Forwarded-For upstream: got %q, want %q", got, tt.wantXFF)
			}
			e := tg.logFor("xff-1")
			if e["x_forwarded_for"] != tt.wantXFF {
				t.Errorf("logged X-Forwarded-For: got %v, want what was forwarded, %q", e["x_forwarded_for"], tt.wantXFF)
			}
			host, _, _ := net.SplitHostPort(e["downstream_remote_address"].(string))
			if host != tt.wantClient {
				t.Errorf("logged client: got %q, want %q", host, tt.wantClient)
			}
		})
	}
}

// TestUpstreamCARotation replaces the CA bundle an upstream names: the
// reload builds a new pool that trusts the new bundle, although the
// definition itself did not change.
func TestUpstreamCARotation(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	be := tlsBackend(t, ca, false)
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pem")
	copyFile := func(from string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(caPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(other.caFile)
	yaml := fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q], tls: { ca_file: %q, server_name: backend.internal } } ]
`, be, caPath)
	tg := startGatewayWith(t, parseT(t, yaml))
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/"); resp.StatusCode != 502 {
		t.Fatalf("with the wrong CA: got %d, want 502", resp.StatusCode)
	}
	copyFile(ca.caFile)
	if err := tg.Reload(parseT(t, strings.Replace(yaml, `"127.0.0.1:0"`, fmt.Sprintf("%q", tg.Addr("web").String()), 1))); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/"); resp.StatusCode != 200 {
		t.Errorf("after the CA bundle was replaced: got %d, want 200", resp.StatusCode)
	}
}
