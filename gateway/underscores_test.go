package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHeadersWithUnderscores checks each listener policy for header names
// holding '_' on the bytes the backend receives, and that a rejected
// request is logged with Envoy's details and never reaches the backend.
func TestHeadersWithUnderscores(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: default, address: "127.0.0.1:0" }
  - { name: reject, address: "127.0.0.1:0", headers_with_underscores: reject_request }
  - { name: allow, address: "127.0.0.1:0", headers_with_underscores: allow }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	for _, tt := range []struct {
		listener, status string
		forwarded        bool
	}{
		{"default", "200", false},
		{"reject", "400", false},
		{"allow", "200", true},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			id := "underscore-" + tt.listener
			status := rawRequest(t, tg.Addr(tt.listener).String(), "GET /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: "+id+
				"\r\nX_Forwarded_For: 203.0.113.9\r\nX_Custom: 1\r\nX-Kept: k\r\n\r\n")
			if !strings.Contains(status, " "+tt.status+" ") {
				t.Fatalf("status: got %q, want %s", status, tt.status)
			}
			e := tg.logFor(id)
			if tt.status == "400" {
				if e["response_code_details"] != "http1.unexpected_underscore" || e["response_flags"] != "DPE" {
					t.Errorf("logged %v %v, want http1.unexpected_underscore DPE", e["response_code_details"], e["response_flags"])
				}
				select {
				case h := <-be.heads:
					t.Errorf("the backend received %q, want nothing", h)
				default:
				}
				return
			}
			head := be.next(t)
			got := headerLines(head)
			if got["x-kept"] == nil {
				t.Errorf("x-kept upstream: got none in %q", head)
			}
			if fwd := got["x-custom"] != nil; fwd != tt.forwarded {
				t.Errorf("x_custom upstream: forwarded %v, want %v (%q)", fwd, tt.forwarded, head)
			}
			// Even where names with '_' pass, none stands beside a header
			// the gateway writes (TestOwnedHeadersHaveOneSpelling).
			if xff := got["x-forwarded-for"]; len(xff) != 1 {
				t.Errorf("x-forwarded-for upstream, in either spelling: got %q", xff)
			}
		})
	}
}

// TestHeadersWithUnderscoresHTTP2 checks that an HTTP/2 request is refused
// the same way, with HTTP/2's details.
func TestHeadersWithUnderscoresHTTP2(t *testing.T) {
	be := newRawBackend(t, nil)
	tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: web, address: "127.0.0.1:0", protocols: [http1, http2], headers_with_underscores: reject_request }
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, be.addr()))
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols("h2c")}}
	resp, _ := get(t, h2c, tg.url("web")+"/p", "X-Request-Id", "underscore-h2", "X_Custom", "1")
	if resp.StatusCode != http.StatusBadRequest || resp.ProtoMajor != 2 {
		t.Fatalf("got %s over HTTP/%d, want 400 over HTTP/2", resp.Status, resp.ProtoMajor)
	}
	if e := tg.logFor("underscore-h2"); e["response_code_details"] != "http2.unexpected_underscore" {
		t.Errorf("logged details %v, want http2.unexpected_underscore", e["response_code_details"])
	}
	select {
	case h := <-be.heads:
		t.Errorf("the backend received %q, want nothing", h)
	default:
	}
}
