package admin

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
)

// start serves s on a loopback port and returns its base URL; the server
// is shut down when the test ends.
func start(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: got %v, want nil after shutdown", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// do does one request and returns status, content type and body.
func do(t *testing.T, method, url string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestRoutes(t *testing.T) {
	m := metrics.New()
	m.Reload(true)
	cfg := &routes.File{Listeners: []routes.Listener{{Name: "public", Address: ":8443",
		TLS: &routes.ListenerTLS{Certificates: []routes.CertKey{{Cert: "tls/edge.crt", Key: "tls/edge.key"}}}}}}
	base := start(t, New(Options{
		Metrics: m.Handler(),
		Ready:   func() bool { return true },
		Config:  func() any { return Redact(cfg) },
		Extra: func(r chi.Router) {
			r.Get("/upstreams", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "shop-api\n") })
		},
	}))
	tests := []struct {
		name, method, path string
		code               int
		ctype              string
		body               string // a substring of the body
	}{
		{"healthz", "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n"},
		{"healthz head", "HEAD", "/healthz", 200, "text/plain; charset=utf-8", ""},
		{"readyz", "GET", "/readyz", 200, "text/plain; charset=utf-8", "ready\n"},
		{"metrics", "GET", "/metrics", 200, "text/plain", `portcullis_config_reloads_total{result="success"} 1`},
		{"metrics at envoy's path", "GET", "/stats/prometheus", 200, "text/plain", `portcullis_config_reloads_total{result="success"} 1`},
		{"config", "GET", "/config", 200, "application/json", `"cert": "tls/edge.crt"`},
		{"extra page", "GET", "/upstreams", 200, "", "shop-api"},
		{"index", "GET", "/", 200, "text/plain; charset=utf-8", "/config\n/debug/pprof/\n/healthz\n/metrics\n/readyz\n/stats/prometheus\n/upstreams\n"},
		{"pprof index", "GET", "/debug/pprof/", 200, "text/html", "goroutine"},
		{"pprof redirect", "GET", "/debug/pprof", 200, "text/html", "goroutine"},
		{"pprof heap", "GET", "/debug/pprof/heap?debug=1", 200, "text/plain", "heap profile:"},
		{"pprof goroutine", "GET", "/debug/pprof/goroutine?debug=1", 200, "text/plain", "goroutine profile:"},
		{"pprof cmdline", "GET", "/debug/pprof/cmdline", 200, "text/plain", "admin.test"},
		{"pprof symbol", "GET", "/debug/pprof/symbol", 200, "text/plain", "num_symbols:"},
		{"pprof unknown profile", "GET", "/debug/pprof/nope", 404, "", "Unknown profile"},
		{"pprof cpu profile", "GET", "/debug/pprof/profile?seconds=1", 200, "application/octet-stream", "\x1f\x8b"}, // gzipped protobuf
		{"unknown path", "GET", "/nope", 404, "", "not found"},
		{"wrong method", "POST", "/healthz", 405, "", ""},
		{"wrong method config", "DELETE", "/config", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := do(t, tt.method, base+tt.path)
			if code != tt.code {
				t.Errorf("status: got %d, want %d (body %q)", code, tt.code, body)
			}
			if !strings.HasPrefix(ctype, tt.ctype) {
				t.Errorf("content type: got %q, want prefix %q", ctype, tt.ctype)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body: got %q, want it to contain %q", body, tt.body)
			}
		})
	}
}

func TestReadinessFlip(t *testing.T) {
	var ready atomic.Bool
	base := start(t, New(Options{Ready: ready.Load}))
	steps := []struct {
		name  string
		ready bool
		code  int
		body  string
	}{
		{"starting", false, 503, "not ready\n"},
		{"loaded", true, 200, "ready\n"},
		{"draining", false, 503, "not ready\n"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ready.Store(st.ready)
			code, _, body := do(t, "GET", base+"/readyz")
			if code != st.code || body != st.body {
				t.Errorf("got %d %q, want %d %q", code, body, st.code, st.body)
			}
			if code, _, _ := do(t, "GET", base+"/healthz"); code != 200 {
				t.Errorf("healthz: got %d, want 200 whatever the readiness", code)
			}
		})
	}
}

func TestOptionalPages(t *testing.T) {
	base := start(t, New(Options{}))
	tests := []struct {
		path string
		code int
	}{
		{"/metrics", 404},
		{"/stats/prometheus", 404},
		{"/config", 404},
		{"/readyz", 200}, // no Ready hook: always ready
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if code, _, _ := do(t, "GET", base+tt.path); code != tt.code {
				t.Errorf("got %d, want %d", code, tt.code)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	tests := []struct {
		name string
		cfg  any
		code int
	}{
		{"routes file", Redact(&routes.File{Admin: routes.Admin{Address: "127.0.0.1:9901"}}), 200},
		{"redacted secret", Redact(map[string]any{"jwt": map[string]any{"hmac_secret": "s3cr3t", "issuer": "me"}}), 200},
		{"unmarshalable", map[string]any{"ch": make(chan int)}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := start(t, New(Options{Config: func() any { return tt.cfg }}))
			code, _, body := do(t, "GET", base+"/config")
			if code != tt.code {
				t.Fatalf("status: got %d, want %d (body %q)", code, tt.code, body)
			}
			if code != 200 {
				return
			}
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Errorf("got invalid JSON %q: %v", body, err)
			}
			if strings.Contains(body, "s3cr3t") {
				t.Errorf("got %q, want the secret redacted", body)
			}
			if !strings.Contains(body, "\n  ") {
				t.Errorf("got %q, want indented JSON", body)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	s := New(Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	if code, _, _ := do(t, "GET", "http://"+ln.Addr().String()+"/healthz"); code != 200 {
		t.Fatalf("healthz before shutdown: got %d, want 200", code)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: got %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("healthz after shutdown: got an answer, want a refused connection")
	}
}
