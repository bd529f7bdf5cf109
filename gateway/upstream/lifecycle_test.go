package upstream

import (
	"encoding/json"
	"fmt"
	"github.com/portcullis-gw/portcullis/routes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNoGoroutineLeak starts pools with health checks and DNS names, sends
// traffic, closes them, and waits for the goroutine count to come back.
func TestNoGoroutineLeak(t *testing.T) {
	b := newBackend(t, "b", nil)
	_, port, _ := strings.Cut(b.addr, ":")
	res := &resolver{}
	res.set("b.test", "127.0.0.1")
	s := spec(t, fmt.Sprintf(`endpoints: [%q, "b.test:%s"]
		dns_refresh: 100ms
		health: { path: /healthz, interval: 100ms, timeout: 100ms }
		outlier: { base_ejection_time: 1h }`, b.addr, port))
	before := runtime.NumGoroutine()
	for range 3 {
		p, err := New(s, Options{Resolver: res})
		if err != nil {
			t.Fatal(err)
		}
		p.Start()
		p.Start() // idempotent
		for range 5 {
			if _, _, err := get(t, p, &Attempt{Retry: policy(t, "{ per_try_timeout: 1s }")}); err != nil {
				t.Fatal(err)
			}
		}
		p.eject(p.set.Load().all[0]) // a pending ejection timer
		p.Close()
		p.Close() // twice is safe
		p.Start() // and Start after Close does nothing
	}
	err := eventually(func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("got %d goroutines, want at most %d as before", n, before)
		}
		return nil
	})
	if err != nil {
		buf := make([]byte, 1<<16)
		t.Fatalf("%v\n%s", err, buf[:runtime.Stack(buf, true)])
	}
}

// TestNewErrors checks that a definition New cannot build fails with an
// error that names the upstream, and that nothing is left running.
func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := spec(t, `endpoints: ["127.0.0.1:1"]`)
	tests := []struct {
		name string
		edit func(s *spec_)
		want string
	}{
		{"bad ca file", func(s *spec_) { s.TLS = &tlsSpec{CAFile: notPEM} }, "no certificate found"},
		{"missing ca file", func(s *spec_) { s.TLS = &tlsSpec{CAFile: filepath.Join(dir, "none.pem")} }, "no such file"},
		{"bad endpoint", func(s *spec_) { s.EndpointList = nil; s.Endpoints = []string{"no-port"} }, "is not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *good
			tt.edit(&s)
			p, err := New(&s, Options{})
			if err == nil || p != nil {
				t.Fatalf("got pool %v, error %v, want an error", p, err)
			}
			if !strings.Contains(err.Error(), `upstream "up"`) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want the upstream's name and %q", err, tt.want)
			}
		})
	}
}

// TestEcho serves the builtin echo upstream through a pool.
func TestEcho(t *testing.T) {
	cfg := load(t, "", "  - { name: up, builtin: echo }")
	p := newPool(t, cfg.Upstreams["up"], Options{})
	req, _ := http.NewRequest(http.MethodPost, "http://shop.test/a?b=c", strings.NewReader("hi"))
	a := &Attempt{}
	code, body, err := finishRequest(p, req, a)
	if err != nil || code != http.StatusOK {
		t.Fatalf("got %d, %v, want 200", code, err)
	}
	var reply echoReply
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Method != "POST" || reply.Path != "/a" || reply.Query != "b=c" || reply.Body != "hi" || reply.Host != "shop.test" {
		t.Errorf("got %+v, want the request echoed", reply)
	}
	if a.Endpoint != "echo.builtin:80" || p.Cluster() != "outbound|80||up" {
		t.Errorf("got endpoint %q cluster %q, want echo.builtin:80 and outbound|80||up", a.Endpoint, p.Cluster())
	}
}

// TestCluster names each upstream's cluster as Istio names a Service's,
// outbound|<port>||<service FQDN>, and any other by the upstream's name.
func TestCluster(t *testing.T) {
	tests := []struct {
		name, upstream, want string
	}{
		{"ip", `{ name: up, endpoints: ["10.0.0.1:8080"] }`, "outbound|8080||up"},
		{"namespace names no service", `{ name: up, namespace: shop, endpoints: ["api.shop:9443", "10.0.0.1:1"] }`, "outbound|9443||up"},
		{"service key", `{ name: up, namespace: shop, service: api, endpoints: ["api.shop:9443", "10.0.0.1:1"] }`, "outbound|9443||api.shop.svc.cluster.local"},
		{"service endpoint", `{ name: up, endpoints: ["reviews.bookinfo.svc.cluster.local:9080"] }`, "outbound|9080||reviews.bookinfo.svc.cluster.local"},
		{"short service endpoints", `{ name: up, endpoints: ["Reviews.Bookinfo.SVC:9080", "reviews.bookinfo.svc.cluster.local.:9080"] }`, "outbound|9080||reviews.bookinfo.svc.cluster.local"},
		{"two services", `{ name: up, endpoints: ["reviews.bookinfo.svc:9080", "ratings.bookinfo.svc:9080"] }`, "outbound|9080||up"},
		{"cluster domain", "{ name: up, endpoints: [\"ratings.bookinfo.svc.corp.example:9080\"] }\nworkload: { cluster_domain: corp.example }", "outbound|9080||ratings.bookinfo.svc.corp.example"},
		{"other cluster domain", "{ name: up, endpoints: [\"ratings.bookinfo.svc.cluster.local:9080\"] }\nworkload: { cluster_domain: corp.example }", "outbound|9080||up"},
		{"builtin", `{ name: up, namespace: shop, service: api, builtin: echo }`, "outbound|80||api.shop.svc.cluster.local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(load(t, "", "  - "+tt.upstream).Upstreams["up"], Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got := p.Cluster(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatusPage serves /upstreams from two pools, one with an ejected
// endpoint.
func TestStatusPage(t *testing.T) {
	a := newPool(t, load(t, "", "  - { name: a, endpoints: [\"10.0.0.1:80\", {address: \"10.0.0.2:80\", weight: 2}], outlier: {} }\n  - { name: up, builtin: echo }").Upstreams["a"], Options{})
	z := newPool(t, load(t, "", "  - { name: z, builtin: echo }\n  - { name: up, builtin: echo }").Upstreams["z"], Options{})
	a.eject(a.set.Load().all[1])
	srv := httptest.NewServer(Handler(func() []*Pool { return []*Pool{z, a} }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Upstreams []Status }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("got content type %q, want application/json", ct)
	}
	if len(page.Upstreams) != 2 || page.Upstreams[0].Name != "a" || page.Upstreams[1].Name != "z" {
		t.Fatalf("got %+v, want a then z", page.Upstreams)
	}
	eps := page.Upstreams[0].Endpoints
	if len(eps) != 2 || eps[0].Ejected || !eps[1].Ejected || eps[1].EjectedUntil == nil || eps[1].Weight != 2 || !eps[1].Healthy {
		t.Errorf("got endpoints %+v, want the second ejected, weight 2, health-checked healthy", eps)
	}
	if b := page.Upstreams[0]; b.Balancer != "round_robin" || b.Cluster != "outbound|80||a" {
		t.Errorf("got %+v, want round_robin and outbound|80||a", b)
	}
}

// Short names for the routes types the table above edits.
type (
	spec_   = routes.UpstreamSpec
	tlsSpec = routes.UpstreamTLS
)
