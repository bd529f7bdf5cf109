package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/internal/loopbacktest"
	"github.com/portcullis-gw/portcullis/gateway/upstream"
)

// lockedLog is a log destination that tests read while the gateway writes.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnresolvableUpstreams gives one upstream a name that does not exist
// (NXDOMAIN) and another a name whose lookups fail (SERVFAIL), answered by
// a DNS server on loopback: each failed lookup is counted by upstream and
// reason, /upstreams shows each name's error, and the gateway's log warns.
func TestUnresolvableUpstreams(t *testing.T) {
	dns := loopbacktest.NewDNS(t)
	dns.Fail("broken.invalid")
	cfg := parseT(t, `
admin: { address: "127.0.0.1:0" }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - name: all
    hosts: ["*"]
    routes:
      - { name: gone, match: { path_prefix: /gone }, upstream: gone }
      - { name: broken, match: { path_prefix: /broken }, upstream: broken }
upstreams:
  - { name: gone, endpoints: ["gone.invalid:80"], dns_refresh: 100ms }
  - { name: broken, endpoints: ["broken.invalid:80"], dns_refresh: 100ms }
`)
	logs := &lockedLog{}
	tg := serveWith(t, cfg, accesslog.Options{Format: "json"}, Options{Log: zerolog.New(logs), Resolver: dns.Resolver()})
	if resp, _ := get(t, &http.Client{}, tg.url("web")+"/gone"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a request to the upstream without address: got %d, want 503", resp.StatusCode)
	}
	waitUntil(t, "failed lookups counted", func() bool {
		return resolveErrors(t, tg, "gone", upstream.ResolveNotFound) >= 2 && resolveErrors(t, tg, "broken", upstream.ResolveFailed) >= 2
	})
	if n := resolveErrors(t, tg, "gone", upstream.ResolveFailed) + resolveErrors(t, tg, "broken", upstream.ResolveNotFound); n != 0 {
		t.Errorf("got %v lookups counted under the other reason, want 0", n)
	}

	resp, body := get(t, &http.Client{}, "http://"+tg.AdminAddr().String()+"/upstreams")
	var page struct{ Upstreams []upstream.Status }
	if err := json.Unmarshal([]byte(body), &page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/upstreams: %d %v", resp.StatusCode, err)
	}
	want := map[string]string{"gone": "no such host", "broken": "server misbehaving"}
	for _, u := range page.Upstreams {
		if len(u.Names) != 1 || !strings.Contains(u.Names[0].Error, want[u.Name]) || u.Names[0].Failures < 2 || u.Names[0].Addresses != 0 {
			t.Errorf("%s: got names %+v, want its error %q, failures and no address", u.Name, u.Names, want[u.Name])
		}
	}
	for _, w := range []map[string]any{
		{"level": "warn", "upstream": "gone", "name": "gone.invalid:80", "reason": "not_found"},
		{"level": "warn", "upstream": "broken", "name": "broken.invalid:80", "reason": "error"},
	} {
		if !hasLine(t, logs.String(), w) {
			t.Errorf("log lacks a line with %v:\n%s", w, logs.String())
		}
	}
}

// hasLine reports whether a line of the JSON log has the fields of want.
func hasLine(t *testing.T, log string, want map[string]any) bool {
	t.Helper()
	for line := range strings.Lines(log) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		found := true
		for k, v := range want {
			found = found && m[k] == v
		}
		if found {
			return true
		}
	}
	return false
}

// resolveErrors reads portcullis_upstream_resolve_errors_total for an
// upstream and reason.
func resolveErrors(t *testing.T, tg *testGateway, name, reason string) float64 {
	t.Helper()
	fams, err := tg.Metrics().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "portcullis_upstream_resolve_errors_total" {
			continue
		}
		for i, l := range seriesLabels(f) {
			if l["upstream"] == name && l["reason"] == reason {
				return f.GetMetric()[i].GetCounter().GetValue()
			}
		}
	}
	return 0
}
