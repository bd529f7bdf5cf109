package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/gateway/admin"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/routes"
)

// windowConfig is a third-party plugin's config with the shapes a file
// writes: a duration, a nested block, a list of blocks and a secret.
type windowConfig struct {
	Window   time.Duration `yaml:"window"`
	MaxBurst int           `yaml:"max_burst"`
	Clients  struct {
		TrustHeader string   `yaml:"trust_header"`
		Allow       []string `yaml:"allow"`
	} `yaml:"clients"`
	Rules []struct {
		PathPrefix string        `yaml:"path_prefix"`
		Cooldown   time.Duration `yaml:"cooldown"`
	} `yaml:"rules"`
	SigningKey string `yaml:"signing_key" secret:"true"`
}

func windowFactory() plugins.Factory {
	return passFactory("window", func() any { return new(windowConfig) })
}

const configPageYAML = `
admin: { address: "127.0.0.1:0" }
access_log: { format: istio, path: "off" }
trusted_proxies: [10.0.0.0/8]
path_normalization: { merge_slashes: true, escaped_slashes: reject }
request_id: { regenerate_external: true }
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocols: [http1, http2]
    limits: { max_header_bytes: 32KiB, idle_timeout: 2m, requests_per_second: 100 }
virtual_hosts:
  - name: shop
    hosts: [shop.example.com, "*"]
    plugins:
      - rate_limit: { per_second: 50, burst: 100, key: remote_ip }
      - headers: { request: { remove: [x-debug] }, response: { set: { x-served-by: secret-edge-7 } } }
    routes:
      - name: api
        match: { path_prefix: /api/, methods: [GET], headers: [ { name: x-canary, present: true } ] }
        upstream: shop
        timeout: 15s
        retries: { attempts: 2, on: [connect-failure, "503"], backoff: { base: 10ms } }
        plugins:
          - window:
              window: 1m30s
              max_burst: 7
              clients: { trust_header: x-client, allow: [a, b] }
              rules: [ { path_prefix: /api/slow, cooldown: 250ms } ]
              signing_key: S1-signing-key
      - name: hello
        direct_response: { status: 200, body: "hi" }
upstreams:
  - name: shop
    endpoints: ["127.0.0.1:1", { address: "127.0.0.1:2", weight: 3 }]
    balancer: ring_hash
    hash: { header: x-user }
    health: { path: /healthz, interval: 2s, expected_statuses: ["200-299"] }
    outlier: { consecutive_5xx: 3 }
    namespace: shop
    labels: { app: shop }
`

// TestConfigPageSpeaksTheRoutesFile reads /config and loads its
// configuration back as a routes file: the strict loader, which refuses any
// key the file would not take, accepts it, and it shows the same again.
// Plugins are written as the file writes them, {rate_limit: {per_second: …}},
// with durations as "1m30s", and secrets stay hidden.
func TestConfigPageSpeaksTheRoutesFile(t *testing.T) {
	reg, err := plugins.NewRegistry(headers.Factory(), ratelimit.Factory(), windowFactory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(configPageYAML), reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayWith(t, cfg)
	var page struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(getConfigPage(t, "http://"+tg.AdminAddr().String()+"/config")), &page); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, page.Config); err != nil {
		t.Fatal(err)
	}
	shown := compact.String()
	for _, want := range []string{
		`"rate_limit":{"burst":100,"ipv6_prefix":128,"key":"remote_ip","max_keys":100000,"per_second":50}`,
		`"window":"1m30s"`, `"cooldown":"250ms"`, `"trust_header":"x-client"`, `"max_burst":7`,
		`"signing_key":"[redacted]"`, `"x-served-by":"[redacted]"`,
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("/config lacks %s:\n%s", want, shown)
		}
	}
	for _, leak := range []string{"S1-", "secret-edge-7", `"name":"rate_limit"`, "PerSecond", "MaxBurst", "90000000000"} {
		if strings.Contains(shown, leak) {
			t.Errorf("/config shows %s:\n%s", leak, shown)
		}
	}

	// JSON is YAML: the page's configuration loads as a routes file.
	again, err := routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), page.Config, reg)
	if err != nil {
		t.Fatalf("/config's configuration does not load as a routes file: %v\n%s", err, shown)
	}
	defer again.Close()
	b, err := json.Marshal(admin.Redact(again.File))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != shown {
		t.Errorf("loaded back, the configuration shows differently:\ngot  %s\nwant %s", b, shown)
	}
	if rule, _ := again.Table.Match("shop.example.com", "/api/x", http.MethodGet, http.Header{"X-Canary": {"1"}}); rule == nil || rule.Name != "api" {
		t.Errorf("loaded back, GET /api/x does not route to api")
	}
}
