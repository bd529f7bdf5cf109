package gateway

import (
	"fmt"
	"strings"
	"testing"
)

// TestRewriteStaysInside checks that a prefix_rewrite forwards only paths
// under its rewrite: a prefix that ends inside a segment (/api matching
// /api..) must not let the rest of the segment climb out of /public/ once
// it is rewritten, and such a request reaches nothing.
func TestRewriteStaysInside(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: public, match: { path_prefix: /api }, upstream: app, prefix_rewrite: /public/ }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	tests := []struct{ target, status, forwarded string }{
		{"/api/x", "200", "GET /public/x HTTP/1.1"},
		{"/api./x", "200", "GET /public/x HTTP/1.1"},
		{"/api../admin", "400", ""},
		{"/api%2E%2E/admin", "400", ""},
		{"/api..", "400", ""},
	}
	for i, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			id := fmt.Sprintf("rewrite-%d", i)
			status := rawRequest(t, tg.Addr("web").String(), "GET "+tt.target+" HTTP/1.1\r\nHost: shop\r\nX-Request-Id: "+id+"\r\n\r\n")
			if !strings.Contains(status, " "+tt.status+" ") {
				t.Fatalf("status: got %q, want %s", status, tt.status)
			}
			// The backend records a head before it answers.
			select {
			case head := <-be.heads:
				if line, _, _ := strings.Cut(head, "\r\n"); line != tt.forwarded {
					t.Errorf("upstream request line %q, want %q", line, tt.forwarded)
				}
			default:
				if tt.forwarded != "" {
					t.Errorf("upstream received nothing, want %q", tt.forwarded)
				}
			}
			if tt.status == "400" {
				if e := tg.logFor(id); e["response_code_details"] != "path_rewrite_out_of_prefix" {
					t.Errorf("details: got %v, want path_rewrite_out_of_prefix", e["response_code_details"])
				}
			}
		})
	}
}
