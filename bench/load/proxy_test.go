package load

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startConnectProxy is a forward proxy on loopback that opens CONNECT
// tunnels to allowed only, and answers 403 to any other; it counts the
// tunnels it opened.
func startConnectProxy(t *testing.T, allowed ...string) (string, *atomic.Int64) {
	t.Helper()
	var tunnels atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || !slices.Contains(allowed, r.Host) {
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
		tunnels.Add(1)
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(c, up)
		c.Close()
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &tunnels
}

func TestRunThroughProxy(t *testing.T) {
	tg := startTargets(t)
	plain, secure := strings.TrimPrefix(tg.plain, "http://"), strings.TrimPrefix(tg.tls, "https://")
	proxy, tunnels := startConnectProxy(t, plain, secure)
	base := Config{Proto: "h1", Conns: 2, Streams: 1, Duration: 200 * time.Millisecond, Method: "GET",
		Timeout: 5 * time.Second, ServerName: "example.com", CAFile: tg.caFile, Proxy: proxy}

	cfg := base
	cfg.URL = tg.plain + "/64k"
	r, err := Run(context.Background(), cfg)
	if err != nil || r.Requests == 0 || len(r.Errors) != 0 || r.BodyBytes != 64<<10*r.Requests {
		t.Fatalf("through a tunnel: got %v, %+v, want requests of 64 KiB and no error", err, r)
	}
	if n := tunnels.Load(); n != 2 {
		t.Errorf("tunnels: got %d, want one per connection, 2", n)
	}

	before := tunnels.Load()
	cfg = base
	cfg.URL, cfg.NewConn = tg.tls+"/0", true
	r, err = Run(context.Background(), cfg)
	if err != nil || r.Requests == 0 || len(r.Errors) != 0 {
		t.Fatalf("TLS through new tunnels: got %v, %+v, want requests and no error", err, r)
	}
	if n := tunnels.Load() - before; uint64(n) < r.Requests {
		t.Errorf("tunnels: got %d for %d requests, want one per request", n, r.Requests)
	}

	refusing, _ := startConnectProxy(t)
	cfg = base
	cfg.URL, cfg.Proxy = tg.plain+"/1k", refusing
	r, err = Run(context.Background(), cfg)
	if err != nil || r.Requests != 0 || r.Errors["connect_403"] == 0 {
		t.Errorf("refused tunnels: got %v, %d requests and errors %v, want connect_403 only", err, r.Requests, r.Errors)
	}

	cfg = base
	cfg.URL, cfg.Proto = tg.tls+"/1k", "h2"
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Error("a proxy with h2 was accepted")
	}
}
