package gateway

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
)

// TestLocalReplyBodies checks the gateway's own answers against Envoy's:
// the body byte for byte (no newline added), a Content-Length that says
// so, no body at all for a route that is not found, none for HEAD, and the
// access log counting the bytes that were sent.
func TestLocalReplyBodies(t *testing.T) {
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: shop
    hosts: [shop]
    routes:
      - { name: main, match: { path_prefix: / }, upstream: app }
upstreams:
  - name: app
    endpoints: [%q]
    connect_timeout: 1s
    outlier: { consecutive_connect_failures: 1, max_ejection_percent: 100, base_ejection_time: 1h }
`, loopbacktest.RefusedAddr(t)))
	// The first request fails to connect, which ejects the one endpoint.
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/", "Host", "shop"); resp.StatusCode != 503 {
		t.Fatalf("first request: got %d, want 503", resp.StatusCode)
	}
	tests := []struct {
		name, method, host string
		status             int
		body, flag         string
	}{
		{"no route", "GET", "elsewhere", 404, "", "NR"},
		{"no route, HEAD", "HEAD", "elsewhere", 404, "", "NR"},
		{"no healthy upstream", "GET", "shop", 503, "no healthy upstream", "UH"},
		{"no healthy upstream, HEAD", "HEAD", "shop", 503, "", "UH"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tg.url("web")+"/", nil)
			req.Host = tt.host
			id := fmt.Sprint("local-", i)
			req.Header.Set("X-Request-Id", id)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || string(b) != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.body)
			}
			wantLength := len(tt.body)
			if tt.method == "HEAD" && tt.status == 503 {
				wantLength = len("no healthy upstream") // what a GET would get, as Envoy says
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(wantLength) {
				t.Errorf("Content-Length: got %q, want %d", got, wantLength)
			}
			if ct := resp.Header.Get("Content-Type"); (wantLength == 0) != (ct == "") {
				t.Errorf("Content-Type: got %q with a body of %d bytes", ct, wantLength)
			}
			e := tg.logFor(id)
			if e["response_flags"] != tt.flag || e["bytes_sent"] != float64(len(tt.body)) {
				t.Errorf("logged flags %v, bytes_sent %v: want %s, %d", e["response_flags"], e["bytes_sent"], tt.flag, len(tt.body))
			}
		})
	}
}

// TestUpstreamServiceTime checks that a proxied response carries
// x-envoy-upstream-service-time, the milliseconds the upstream took to
// answer, in place of one the upstream sent; that the access log reads that
// header; and that the gateway's own answers carry none.
func TestUpstreamServiceTime(t *testing.T) {
	const delay = 60 * time.Millisecond
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(delay) // the upstream's own latency, which the header measures
		}
		w.Header().Set("X-Envoy-Upstream-Service-Time", "999999")
		w.Write([]byte("ok"))
	})
	tg := plainGateway(t, be.addr(), "")
	for _, tt := range []struct {
		name, path   string
		atLeast, max time.Duration
	}{
		{"fast", "/fast", 0, 10 * time.Second},
		{"slow", "/slow", delay, 10 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "st-" + tt.name
			resp, _ := get(t, http.DefaultClient, tg.url("web")+tt.path, "X-Request-Id", id)
			v := resp.Header.Values("X-Envoy-Upstream-Service-Time")
			if len(v) != 1 {
				t.Fatalf("x-envoy-upstream-service-time: got %q, want one value", v)
			}
			ms, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil || time.Duration(ms)*time.Millisecond < tt.atLeast || time.Duration(ms)*time.Millisecond > tt.max {
				t.Errorf("x-envoy-upstream-service-time: got %q, want milliseconds from %v to %v", v[0], tt.atLeast, tt.max)
			}
			if e := tg.logFor(id); e["upstream_service_time"] != v[0] {
				t.Errorf("logged upstream_service_time: got %#v, want the header's %q", e["upstream_service_time"], v[0])
			}
		})
	}
	resp, _ := get(t, http.DefaultClient, tg.url("web")+"/", "Host", "bad host", "X-Request-Id", "st-local")
	if v := resp.Header.Values("X-Envoy-Upstream-Service-Time"); resp.StatusCode != 400 || v != nil {
		t.Errorf("local reply: got %d with x-envoy-upstream-service-time %q, want 400 and none", resp.StatusCode, v)
	}
}

// TestUpstreamServiceTimeRemovable checks that a route's headers plugin can
// remove x-envoy-upstream-service-time, as Envoy's
// response_headers_to_remove can.
func TestUpstreamServiceTimeRemovable(t *testing.T) {
	tg := pluginGateway(t, newBackend(t, nil).addr(), "{ headers: { response: { remove: [x-envoy-upstream-service-time] } } }")
	resp, _ := get(t, http.DefaultClient, tg.url("web")+"/")
	if v := resp.Header.Values("X-Envoy-Upstream-Service-Time"); resp.StatusCode != 200 || v != nil {
		t.Errorf("got %d with x-envoy-upstream-service-time %q, want 200 and none", resp.StatusCode, v)
	}
}

// TestServiceTimeValues checks the header's text, truncated to
// milliseconds, and that a value under a second costs no allocation.
func TestServiceTimeValues(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Millisecond, "0"}, {999 * time.Microsecond, "0"}, {42 * time.Millisecond, "42"},
		{999*time.Millisecond + 999*time.Microsecond, "999"}, {1500 * time.Millisecond, "1500"},
	} {
		if got := serviceTime(tt.d); len(got) != 1 || got[0] != tt.want || cap(got) != 1 {
			t.Errorf("serviceTime(%v): got %q (capacity %d), want [%q] with no room to append into", tt.d, got, cap(got), tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { serviceTime(250 * time.Millisecond) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
