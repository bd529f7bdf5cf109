package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestMethodNotAllowed checks that a request whose path a route takes, but
// not with its method, gets 405 with the methods the routes would take in
// Allow, is logged, and reaches no upstream; a path no route takes is still
// 404 NR.
func TestMethodNotAllowed(t *testing.T) {
	be := newBackend(t, nil)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: web, address: "127.0.0.1:0" }
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: read, match: { path_prefix: /api/, methods: [GET, HEAD] }, upstream: app }
      - { name: write, match: { path: /api/items, methods: [POST] }, upstream: app }
      - { name: admin, match: { path_prefix: /admin/, methods: [GET], headers: [ { name: x-admin, exact: yes } ] }, upstream: app }
upstreams:
  - { name: app, endpoints: ["%s"], connect_timeout: 1s }
`, be.addr()))
	tests := []struct {
		method, path, header string
		status               int
		allow, details       string
	}{
		{"DELETE", "/api/items", "", 405, "GET, HEAD, POST", "method_not_allowed"},
		{"PUT", "/api/other", "", 405, "GET, HEAD", "method_not_allowed"},
		{"POST", "/admin/x", "yes", 405, "GET", "method_not_allowed"},
		// A header the route needs is missing: no route takes the request
		// by any method, so it is not found.
		{"POST", "/admin/x", "", 404, "", "route_not_found"},
		{"GET", "/elsewhere", "", 404, "", "route_not_found"},
	}
	for i, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			id := fmt.Sprintf("method-%d", i)
			req, _ := http.NewRequest(tt.method, "http://"+tg.Addr("web").String()+tt.path, strings.NewReader("body"))
			req.Header.Set("X-Request-Id", id)
			if tt.header != "" {
				req.Header.Set("X-Admin", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow)
			}
			if e := tg.logFor(id); e["response_code_details"] != tt.details {
				t.Errorf("details: got %v, want %s", e["response_code_details"], tt.details)
			}
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("the upstream received %d requests, want none", n)
	}
}
