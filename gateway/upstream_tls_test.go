package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
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

// mtlsBackend is an upstream serving TLS up to version max that requires a
// client certificate, which the gateway does not have.
func mtlsBackend(t *testing.T, ca *testCA, max uint16) string {
	t.Helper()
	crt, key := ca.issue(t, "backend.internal", "127.0.0.1")
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MaxVersion: max}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

// TestUpstreamProtocols sends requests over each upstream protocol, and
// through TLS failures that get Envoy's answer: 503 UF, the local reply
// naming the reset and transport failure reasons, and the transport failure
// reason as Envoy's TLS socket writes BoringSSL's error, spaces made '_' in
// the log.
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
	plain := newBackend(t, nil)
	const (
		verifyFailed  = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end"
		wrongVersion  = "TLS_error:|268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end"
		handshake     = "TLS_error:|268436496:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE:TLS_error_end"
		certRequired  = "TLS_error:|268436572:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED:TLS_error_end"
		tlsTo         = `{ name: app, endpoints: [%q], tls: { ca_file: %q, server_name: %s } }`
		internal      = "backend.internal"
		resetFailure  = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: "
		detailFailure = "upstream_reset_before_response_started{remote_connection_failure|"
	)
	tests := []struct {
		name     string
		upstream string
		status   int
		body     string
		flag     string
		// transport is the transport failure reason, as Envoy's local
		// reply writes it.
		transport string
	}{
		{"TLS verified against the CA file", fmt.Sprintf(tlsTo, tlsBackend(t, ca, false), ca.caFile, internal),
			200, "HTTP/1.1 tls=true", "-", ""},
		{"HTTP/2 over TLS", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2, tls: { ca_file: %q, server_name: backend.internal } }`,
			tlsBackend(t, ca, true), ca.caFile), 200, "HTTP/2.0 tls=true", "-", ""},
		{"h2c", fmt.Sprintf(`{ name: app, endpoints: [%q], protocol: http2 }`,
			strings.TrimPrefix(h2cBackend.URL, "http://")), 200, "HTTP/2.0 tls=false", "-", ""},
		{"certificate from another CA is refused", fmt.Sprintf(tlsTo, tlsBackend(t, ca, false), other.caFile, internal),
			503, resetFailure + verifyFailed, "UF", verifyFailed},
		{"wrong server name is refused", fmt.Sprintf(tlsTo, tlsBackend(t, ca, false), ca.caFile, "elsewhere.internal"),
			503, resetFailure + verifyFailed, "UF", verifyFailed},
		{"plain HTTP behind tls", fmt.Sprintf(tlsTo, plain.addr(), ca.caFile, internal),
			503, resetFailure + wrongVersion, "UF", wrongVersion},
		{"client certificate required, TLS 1.2", fmt.Sprintf(tlsTo, mtlsBackend(t, ca, tls.VersionTLS12), ca.caFile, internal),
			503, resetFailure + handshake, "UF", handshake},
		{"client certificate required, TLS 1.3", fmt.Sprintf(tlsTo, mtlsBackend(t, ca, tls.VersionTLS13), ca.caFile, internal),
			503, resetFailure + certRequired, "UF", certRequired},
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
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			e := tg.logFor(id)
			if e["response_flags"] != tt.flag {
				t.Errorf("flags: got %v, want %s", e["response_flags"], tt.flag)
			}
			if tt.transport == "" {
				return
			}
			logged := strings.ReplaceAll(tt.transport, " ", "_")
			if e["upstream_transport_failure_reason"] != logged {
				t.Errorf("upstream_transport_failure_reason: got %v, want %q", e["upstream_transport_failure_reason"], logged)
			}
			if want := detailFailure + logged + "}"; e["response_code_details"] != want {
				t.Errorf("response_code_details: got %v, want %q", e["response_code_details"], want)
			}
			if e["bytes_sent"] != float64(len(body)) || resp.ContentLength != int64(len(body)) {
				t.Errorf("bytes_sent %v, Content-Length %d: want both %d", e["bytes_sent"], resp.ContentLength, len(body))
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
		{"peer not trusted: chain kept and extended, not believed", `["10.0.0.0/8"]`, "203.0.113.7, 127.0.0.1", "127.0.0.1"},
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
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/"); resp.StatusCode != 503 {
		t.Fatalf("with the wrong CA: got %d, want 503", resp.StatusCode)
	}
	copyFile(ca.caFile)
	if err := tg.Reload(parseT(t, strings.Replace(yaml, `"127.0.0.1:0"`, fmt.Sprintf("%q", tg.Addr("web").String()), 1))); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/"); resp.StatusCode != 200 {
		t.Errorf("after the CA bundle was replaced: got %d, want 200", resp.StatusCode)
	}
}
