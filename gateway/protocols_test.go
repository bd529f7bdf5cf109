package gateway

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/quic-go/quic-go/http3"
)

// tlsGateway serves the echo upstream on a TLS listener "edge" with HTTP/1.1,
// HTTP/2 and HTTP/3, a plain listener "plain" with h2c, and a redirecting
// listener "redirect". Certificates: one for localhost and 127.0.0.1 (the
// default), one for *.example.com.
func tlsGateway(t *testing.T, ca *testCA) *testGateway {
	crt1, key1 := ca.issue(t, "localhost", "127.0.0.1")
	crt2, key2 := ca.issue(t, "*.example.com")
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - name: edge
    address: "127.0.0.1:0"
    protocols: [http1, http2, http3]
    tls:
      certificates:
        - { cert: %q, key: %q }
        - { cert: %q, key: %q }
  - { name: plain, address: "127.0.0.1:0", protocols: [http1, http2] }
  - { name: redirect, address: "127.0.0.1:0", redirect_https: true }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: echo, match: { path_prefix: / }, upstream: echo }
upstreams:
  - { name: echo, builtin: echo }
`, crt1, key1, crt2, key2))
}

func TestProtocols(t *testing.T) {
	ca := newTestCA(t)
	tg := tlsGateway(t, ca)
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http1")}}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.clientTLS("localhost"), Protocols: protocols("http2")}}
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	h3t := &http3.Transport{TLSClientConfig: ca.clientTLS("localhost")}
	t.Cleanup(func() { h3t.Close() })
	h3 := &http.Client{Transport: h3t}
	edge := "https://localhost:" + port(tg.Addr("edge"))
	tests := []struct {
		name   string
		client *http.Client
		url    string
		proto  int
		altSvc bool
	}{
		{"HTTP/1.1 over TLS", h1, edge, 1, true},
		{"HTTP/2 over TLS", h2, edge, 2, true},
		{"HTTP/3 over QUIC", h3, edge, 3, true},
		{"h2c", h2c, tg.url("plain"), 2, false},
		{"HTTP/1.1 plain", http.DefaultClient, tg.url("plain"), 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.client, tt.url+"/p")
			if resp.StatusCode != 200 || resp.ProtoMajor != tt.proto {
				t.Fatalf("got %d over %s, want 200 over HTTP/%d", resp.StatusCode, resp.Proto, tt.proto)
			}
			if !strings.Contains(body, `"path": "/p"`) {
				t.Errorf("echo body: got %s", body)
			}
			alt := resp.Header.Get("Alt-Svc")
			want := `h3=":` + port(tg.Addr("edge")) + `"; ma=86400`
			if tt.altSvc && alt != want {
				t.Errorf("Alt-Svc: got %q, want %q", alt, want)
			}
			if !tt.altSvc && alt != "" {
				t.Errorf("Alt-Svc on a listener without HTTP/3: got %q", alt)
			}
		})
	}
}

func TestTLSSettings(t *testing.T) {
	ca := newTestCA(t)
	tg := tlsGateway(t, ca)
	addr := tg.Addr("edge").String()
	t.Run("certificate chosen by SNI", func(t *testing.T) {
		for sni, want := range map[string]string{"a.example.com": "*.example.com", "localhost": "localhost", "other.test": "localhost"} {
			c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
			if err != nil {
				t.Fatalf("%s: %v", sni, err)
			}
			got := c.ConnectionState().PeerCertificates[0].Subject.CommonName
			c.Close()
			if got != want {
				t.Errorf("SNI %s: got certificate %q, want %q", sni, got, want)
			}
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: ca.pool, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.1 handshake succeeded, want refusal")
		}
	})
	t.Run("CBC suite refused on TLS 1.2", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: ca.pool, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}})
		if err == nil {
			c.Close()
			t.Fatal("CBC handshake succeeded, want refusal")
		}
	})
	t.Run("session resumption", func(t *testing.T) {
		cfg := ca.clientTLS("localhost")
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		for i, want := range []bool{false, true} {
			c, err := tls.Dial("tcp", addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// TLS 1.3 tickets arrive after the handshake: read once to take them.
			c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
			io.ReadAll(c)
			got := c.ConnectionState().DidResume
			c.Close()
			if got != want {
				t.Errorf("connection %d: resumed %v, want %v", i, got, want)
			}
		}
	})
}

func TestRedirectHTTPS(t *testing.T) {
	ca := newTestCA(t)
	tg := tlsGateway(t, ca)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, c, tg.url("redirect")+"/x?y=1", "Host", "shop.example.com")
	want := "https://shop.example.com:" + port(tg.Addr("edge")) + "/x?y=1"
	if resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("got %d to %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // echo one line back, upper-cased
		brw.WriteString(strings.ToUpper(line))
		brw.Flush()
	})
	tg := plainGateway(t, be.addr(), "")
	c, err := net.Dial("tcp", tg.Addr("web").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\nX-Request-Id: ws-1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status: got %d, want 101", resp.StatusCode)
	}
	fmt.Fprintf(c, "hello over the tunnel\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HELLO OVER THE TUNNEL\n" {
		t.Errorf("tunnel echo: got %q, %v", line, err)
	}
	c.Close()
	if e := tg.logFor("ws-1"); e["response_code"] != float64(101) {
		t.Errorf("logged code of the WebSocket: got %v, want 101", e["response_code"])
	}
}

func TestHTTP2TrailersPassThrough(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Grpc-Status")
		w.Header().Set("Content-Type", "application/grpc")
		w.Write([]byte("payload"))
		w.Header().Set("Grpc-Status", "0")
	})
	tg := plainGateway(t, be.addr(), "")
	c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	resp, err := c.Post(tg.url("web")+"/pkg.Svc/Method", "application/grpc", strings.NewReader("req"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := resp.Trailer.Get("Grpc-Status"); got != "0" {
		t.Errorf("trailer Grpc-Status: got %q, want 0", got)
	}
}

func TestNoRouteIs404NR(t *testing.T) {
	tg := startGateway(t, `
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: only
    hosts: [localhost]
    routes: [ { name: api, match: { path_prefix: /api }, upstream: echo } ]
upstreams: [ { name: echo, builtin: echo } ]
`)
	for _, tt := range []struct{ name, host, path string }{
		{"unknown host", "other.test", "/api"},
		{"known host, no route", "localhost", "/nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "nr-" + strings.ReplaceAll(tt.name, " ", "-")
			resp, _ := get(t, http.DefaultClient, tg.url("web")+tt.path, "Host", tt.host, "X-Request-Id", id)
			if resp.StatusCode != 404 {
				t.Errorf("status: got %d, want 404", resp.StatusCode)
			}
			if e := tg.logFor(id); e["response_flags"] != "NR" {
				t.Errorf("flags: got %v, want NR", e["response_flags"])
			}
		})
	}
}

func protocols(which string) *http.Protocols {
	p := new(http.Protocols)
	switch which {
	case "http1":
		p.SetHTTP1(true)
	case "http2":
		p.SetHTTP2(true)
	case "h2c":
		p.SetUnencryptedHTTP2(true)
	}
	return p
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}
