package gateway

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
)

// TestForwardedForAtTheEdge sends forged and hostile X-Forwarded-For and
// x-envoy-external-address headers, from an untrusted peer and from a
// trusted proxy, and checks what reaches the backend on the wire and what
// the access log takes for the client. As Envoy with use_remote_address:
// the client's chain is kept and the peer appended, but only a trusted
// proxy's chain moves the client address; x-envoy-external-address names
// an untrusted peer and cannot be forged.
func TestForwardedForAtTheEdge(t *testing.T) {
	be := newRawBackend(t, nil)
	many := make([]string, 50)
	for i := range many {
		many[i] = fmt.Sprintf("X-Forwarded-For: 198.51.100.%d", i)
	}
	manyChain := strings.ReplaceAll(strings.Join(many, ", "), "X-Forwarded-For: ", "")
	tests := []struct {
		name    string
		trusted bool
		sent    []string
		// wantXFF and wantExternal are the backend's one value of each,
		// "" for none; wantClient is the logged client.
		wantXFF, wantExternal, wantClient string
	}{
		{"no header", false, nil, "127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"forged chain is kept, the client stays the peer", false,
			[]string{"X-Forwarded-For: 203.0.113.7, 10.0.0.1"}, "203.0.113.7, 10.0.0.1, 127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"forged external address is replaced", false,
			[]string{"X-Envoy-External-Address: 203.0.113.7"}, "127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"forged external address in another spelling is dropped", false,
			[]string{"X_Envoy_External_Address: 203.0.113.7", "x-envoy-external-address: 10.0.0.1"}, "127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"garbage is passed on, not believed", false,
			[]string{`X-Forwarded-For: not-an-ip, "><script>, ::ffff:10.0.0.1`}, `not-an-ip, "><script>, ::ffff:10.0.0.1, 127.0.0.1`,
			"127.0.0.1", "127.0.0.1"},
		{"empty header", false, []string{"X-Forwarded-For: "}, "127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"many header lines are one chain", false, many, manyChain + ", 127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"trusted proxy's chain moves the client", true,
			[]string{"X-Forwarded-For: 203.0.113.7"}, "203.0.113.7, 127.0.0.1", "", "203.0.113.7"},
		{"trusted proxy's external address is passed on", true,
			[]string{"X-Forwarded-For: 203.0.113.7", "X-Envoy-External-Address: 203.0.113.7"}, "203.0.113.7, 127.0.0.1",
			"203.0.113.7", "203.0.113.7"},
		{"trusted proxy's many lines", true, many, manyChain + ", 127.0.0.1", "", "198.51.100.49"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := ""
			if tt.trusted {
				extra = "trusted_proxies: [127.0.0.0/8]"
			}
			tg := headerGateway(t, be.addr(), extra, "json")
			id := fmt.Sprint("xff-", i)
			head := "GET /p HTTP/1.1\r\nHost: shop\r\nX-Request-Id: " + id + "\r\n"
			for _, h := range tt.sent {
				head += h + "\r\n"
			}
			if status := rawRequest(t, tg.Addr("web").String(), head+"\r\n"); !strings.Contains(status, " 200 ") {
				t.Fatalf("status: got %q, want 200", status)
			}
			got := headerLines(be.next(t))
			for _, h := range []struct{ name, want string }{
				{"x-forwarded-for", tt.wantXFF},
				{"x-envoy-external-address", tt.wantExternal},
			} {
				if v := got[h.name]; h.want == "" && v != nil || h.want != "" && (len(v) != 1 || v[0] != h.want) {
					t.Errorf("%s upstream: got %q, want %q", h.name, v, h.want)
				}
			}
			e := tg.logFor(id)
			if e["x_forwarded_for"] != tt.wantXFF {
				t.Errorf("logged X-Forwarded-For: got %v, want what was forwarded, %q", e["x_forwarded_for"], tt.wantXFF)
			}
			if host, _, _ := net.SplitHostPort(e["downstream_remote_address"].(string)); host != tt.wantClient {
				t.Errorf("logged client: got %q, want %q", host, tt.wantClient)
			}
		})
	}
}

// TestForgedForwardedForSharesTheBucket checks that a policy keyed on the
// client address sees the peer whatever chain it forges: a rate limit by
// remote_ip refuses the second request although it claims another client,
// with Envoy's local rate limit reply.
func TestForgedForwardedForSharesTheBucket(t *testing.T) {
	tg := pluginGateway(t, newBackend(t, nil).addr(), "{ rate_limit: { per_second: 0.001, burst: 1, key: remote_ip } }",
		ratelimit.Factory())
	if resp, _ := get(t, http.DefaultClient, tg.url("web")+"/", "X-Forwarded-For", "198.51.100.1"); resp.StatusCode != 200 {
		t.Fatalf("first request: got %d, want 200", resp.StatusCode)
	}
	resp, body := get(t, http.DefaultClient, tg.url("web")+"/", "X-Forwarded-For", "198.51.100.2", "X-Request-Id", "rl-2")
	if resp.StatusCode != 429 || body != "local_rate_limited" || resp.ContentLength != int64(len(body)) {
		t.Errorf("second request, another forged client: got %d %q (Content-Length %d), want 429 %q",
			resp.StatusCode, body, resp.ContentLength, "local_rate_limited")
	}
	if e := tg.logFor("rl-2"); e["response_flags"] != "RL" || e["bytes_sent"] != float64(len(body)) {
		t.Errorf("logged flags %v, bytes_sent %v: want RL, %d", e["response_flags"], e["bytes_sent"], len(body))
	}
}

// pluginGateway serves a listener "web" whose one route, with the plugins
// given as YAML flow mappings, goes to the upstream at endpoint; extra
// plugins join the registry.
func pluginGateway(t *testing.T, endpoint, routePlugins string, extra ...plugins.Factory) *testGateway {
	return startGateway(t, fmt.Sprintf(`
admin: { address: "off" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: main, upstream: app, plugins: [ %s ] } ] }
upstreams: [ { name: app, endpoints: [%q] } ]
`, routePlugins, endpoint), extra...)
}
