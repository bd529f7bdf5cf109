package gateway

import (
	"context"
	"net/http"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// typedReject answers every request with a JSON body and its type, as the
// WAF does.
type typedReject struct{}

func (typedReject) HandleRequest(context.Context, *plugins.Request) error {
	return &plugins.Reject{Status: 403, Body: `{"error":"blocked"}`, Details: "typed",
		Header: http.Header{"Content-Type": {"application/json"}}}
}

// TestRejectKeepsItsContentType sends a plugin's reply with the type the
// plugin gives its body, and plain text for one that gives none.
func TestRejectKeepsItsContentType(t *testing.T) {
	typed := plugins.Factory{
		Name:   "typed",
		Config: func() any { return &struct{}{} },
		Build:  func(any) (plugins.Handler, error) { return typedReject{}, nil },
	}
	tg := startGateway(t, `
admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0" }]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: typed, match: { path: /typed }, direct_response: { status: 200 }, plugins: [{ typed: {} }] }
      - { name: plain, match: { path: /plain }, direct_response: { status: 200 }, plugins: [{ deny: {} }] }
`, typed, denyFactory())
	tests := []struct{ path, deny, ctype, body string }{
		{"/typed", "", "application/json", `{"error":"blocked"}`},
		{"/plain", "request", "text/plain; charset=utf-8", "Forbidden"},
	}
	for _, tt := range tests {
		resp, body := get(t, http.DefaultClient, tg.url("web")+tt.path, "X-Deny", tt.deny)
		if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != tt.ctype || body != tt.body {
			t.Errorf("%s: got %d %q %q, want 403 %q %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.ctype, tt.body)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: got X-Content-Type-Options %q, want nosniff", tt.path, got)
		}
	}
}
