package gateway

import (
	"fmt"
	"net/http"
	"testing"
)

func TestRequestIDPolicy(t *testing.T) {
	be := newBackend(t, nil)
	for _, tt := range []struct {
		name, config string
		kept         bool
	}{
		{"kept by default", ``, true},
		{"regenerated for an outsider", `request_id: { regenerate_external: true }`, false},
		{"kept from a trusted proxy", "request_id: { regenerate_external: true }\ntrusted_proxies: [127.0.0.0/8]", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
%s
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, match: { path_prefix: / }, upstream: app } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, tt.config, be.addr()))
			_, body := get(t, http.DefaultClient, tg.url("web")+"/", "X-Request-Id", "chosen-by-client")
			got := decodeSeen(t, body).Header.Get("X-Request-Id")
			if kept := got == "chosen-by-client"; kept != tt.kept {
				t.Errorf("upstream saw x-request-id %q; kept %v, want %v", got, kept, tt.kept)
			}
			if !tt.kept && len(got) != 36 {
				t.Errorf("regenerated id %q, want a UUID", got)
			}
		})
	}
}
