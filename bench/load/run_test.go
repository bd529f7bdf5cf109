package load

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/portcullis-gw/portcullis/bench/backend"
)

// targets are real servers on loopback running the bench's backend.
type targets struct {
	plain, tls, h3 string // base URLs
	caFile         string
}

func startTargets(t *testing.T) targets {
	t.Helper()
	h := backend.Handler()
	plain := httptest.NewUnstartedServer(h)
	plain.Config.Protocols = new(http.Protocols)
	plain.Config.Protocols.SetHTTP1(true)
	plain.Config.Protocols.SetUnencryptedHTTP2(true)
	plain.Start()
	t.Cleanup(plain.Close)

	secure := httptest.NewUnstartedServer(h)
	secure.EnableHTTP2 = true
	secure.StartTLS()
	t.Cleanup(secure.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h3 := &http3.Server{Handler: h, TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: secure.TLS.Certificates})}
	go func() { _ = h3.Serve(udp) }()
	t.Cleanup(func() { h3.Close(); udp.Close() })

	return targets{plain: plain.URL, tls: secure.URL, h3: "https://" + udp.LocalAddr().String(), caFile: ca}
}

func TestRun(t *testing.T) {
	tg := startTargets(t)
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "http://" + ln.Addr().String()
	}()
	base := Config{Proto: "h1", Conns: 2, Streams: 1, Duration: 200 * time.Millisecond, Method: "GET",
		Timeout: 5 * time.Second, ServerName: "example.com", CAFile: tg.caFile}
	tests := []struct {
		name     string
		edit     func(c *Config)
		wantBody int64 // body bytes per request
		wantErr  string
		wantIdle int
	}{
		{name: "h1 get", edit: func(c *Config) { c.URL = tg.plain + "/1k" }, wantBody: 1024},
		{name: "h1 over tls, new connection each", edit: func(c *Config) { c.URL, c.NewConn = tg.tls+"/0", true }},
		{name: "h1 post echo", edit: func(c *Config) { c.URL, c.Method, c.BodySize = tg.plain+"/echo", "POST", 64<<10 }, wantBody: 64 << 10},
		{name: "h2 over tls", edit: func(c *Config) { c.URL, c.Proto, c.Streams = tg.tls+"/1k", "h2", 4 }, wantBody: 1024},
		{name: "h2c", edit: func(c *Config) { c.URL, c.Proto, c.Streams = tg.plain+"/1k", "h2c", 4 }, wantBody: 1024},
		{name: "h3", edit: func(c *Config) { c.URL, c.Proto, c.Streams = tg.h3+"/1k", "h3", 4 }, wantBody: 1024},
		{name: "h3 post", edit: func(c *Config) { c.URL, c.Proto, c.Method, c.BodySize = tg.h3+"/echo", "h3", "POST", 4096 }, wantBody: 4096},
		{name: "idle connections held", edit: func(c *Config) { c.URL, c.Idle = tg.plain+"/1k", 20 }, wantBody: 1024, wantIdle: 20},
		{name: "open loop at a fixed rate", edit: func(c *Config) { c.URL, c.Rate = tg.plain+"/1k", 100 }, wantBody: 1024},
		{name: "404 counted by status", edit: func(c *Config) { c.URL = tg.plain + "/nope" }, wantErr: "status_404"},
		{name: "closed port counted as refused", edit: func(c *Config) { c.URL = refused + "/1k" }, wantErr: "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: got %v, want nil", err)
			}
			if tc.wantErr != "" {
				if r.Errors[tc.wantErr] == 0 || r.Requests != 0 {
					t.Errorf("got %d requests and errors %v, want none and some %s", r.Requests, r.Errors, tc.wantErr)
				}
				return
			}
			if r.Requests == 0 || len(r.Errors) != 0 {
				t.Fatalf("got %d requests and errors %v (%v), want some and none", r.Requests, r.Errors, r.ErrorSamples)
			}
			if got, want := r.BodyBytes, uint64(tc.wantBody)*r.Requests; got != want {
				t.Errorf("body bytes: got %d, want %d", got, want)
			}
			if r.Idle != tc.wantIdle {
				t.Errorf("idle: got %d, want %d", r.Idle, tc.wantIdle)
			}
			if cfg.Rate > 0 && float64(r.Requests) > cfg.Rate*cfg.Duration.Seconds()+1 {
				t.Errorf("open loop sent %d requests, want at most rate × duration = %.0f", r.Requests, cfg.Rate*cfg.Duration.Seconds())
			}
			if r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 {
				t.Errorf("latency: got p50 %v µs p99 %v µs, want 0 < p50 ≤ p99", r.Latency.P50, r.Latency.P99)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:1/", Proto: "h1", Conns: 1, Streams: 1, Duration: time.Second,
		Timeout: time.Second, Method: "GET"}
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"unknown proto", func(c *Config) { c.Proto = "h4" }},
		{"h2 needs https", func(c *Config) { c.Proto = "h2" }},
		{"h2c needs http", func(c *Config) { c.Proto, c.URL = "h2c", "https://127.0.0.1:1/" }},
		{"bad scheme", func(c *Config) { c.URL = "ftp://127.0.0.1/" }},
		{"no connections", func(c *Config) { c.Conns = 0 }},
		{"no duration", func(c *Config) { c.Duration = 0 }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"bad method", func(c *Config) { c.Method = "DELETE" }},
		{"new connection on h3", func(c *Config) { c.NewConn, c.Proto, c.URL = true, "h3", "https://127.0.0.1:1/" }},
		{"a body on a GET", func(c *Config) { c.Body = []byte("x") }},
		{"expected status out of range", func(c *Config) { c.Expect = 42 }},
		{"header without a colon", func(c *Config) { c.Header = []string{"Accept"} }},
		{"header name with a space", func(c *Config) { c.Header = []string{"Bad Name: x"} }},
		{"header value smuggling a line", func(c *Config) { c.Header = []string{"X-A: a\r\nX-Injected: b"} }},
		{"header value with a bare LF", func(c *Config) { c.Header = []string{"X-A: a\nb"} }},
		{"header value with NUL", func(c *Config) { c.Header = []string{"X-A: a\x00"} }},
		{"header that frames the request: host", func(c *Config) { c.Header = []string{"Host: evil.example"} }},
		{"header that frames the request: content-length", func(c *Config) { c.Header = []string{"content-length: 5"} }},
		{"header that frames the request: transfer-encoding", func(c *Config) { c.Header = []string{"Transfer-Encoding: chunked"} }},
		{"header that frames the request: connection", func(c *Config) { c.Header = []string{"Connection: close"} }},
		{"seq in the path", func(c *Config) { c.URL = "http://127.0.0.1:1/{seq}" }},
		{"seq on h2c", func(c *Config) { c.Proto, c.URL = "h2c", "http://127.0.0.1:1/?q={seq}" }},
		{"seq in a header on h2c", func(c *Config) { c.Proto, c.Header = "h2c", []string{"X-N: {seq}"} }},
	}
	if _, err := good.validate(); err != nil {
		t.Fatalf("valid config: got %v, want nil", err)
	}
	varied := good
	varied.URL, varied.Method, varied.Body = "http://127.0.0.1:1/0?q={seq}", "POST", []byte(`{"n":{seq}}`)
	varied.Header, varied.Expect = []string{"Content-Type: application/json", "Accept: */*", "X-N: {seq}"}, 403
	if _, err := varied.validate(); err != nil {
		t.Fatalf("valid varied config: got %v, want nil", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if _, err := c.validate(); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}
