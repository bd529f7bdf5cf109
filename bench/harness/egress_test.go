package harness

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// startTestProxy is a forward proxy on loopback that tunnels to the
// targets allow approves and answers 403 to the rest.
func startTestProxy(t *testing.T, allow func(target string) bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || !allow(r.Host) {
			http.Error(w, "refused", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(c, up)
		c.Close()
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestCheckEgress measures only a forward proxy that carries the backend
// and refuses what is not allowed: another port of its address and
// another address at its port.
func TestCheckEgress(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 1024)) }))
	t.Cleanup(backend.Close)
	up := strings.TrimPrefix(backend.URL, "http://")
	for _, tt := range []struct {
		name    string
		allow   func(string) bool
		wantErr string
	}{
		{"only the backend", func(target string) bool { return target == up }, ""},
		{"any port", func(target string) bool { return strings.HasPrefix(target, "127.0.0.1:") }, "which is not allowed: answered"},
		{"any address", func(target string) bool { return strings.HasSuffix(target, up[strings.LastIndex(up, ":"):]) }, "CONNECT 127.0.0.2:"},
	} {
		a := addrs{plain: startTestProxy(t, tt.allow), upstream: up}
		if err := tunnelGet(context.Background(), a); err != nil {
			t.Errorf("%s: GET through a tunnel: %v", tt.name, err)
		}
		err := checkEgress(context.Background(), a)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
