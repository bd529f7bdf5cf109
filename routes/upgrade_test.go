package routes

import (
	"slices"
	"testing"
)

func TestRouteUpgrades(t *testing.T) {
	cfg, err := Parse("routes.yaml", []byte(`
listeners: [{ name: public, address: "127.0.0.1:0" }]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes:
      - { name: default, match: { path: /d }, upstream: shop }
      - { name: none, match: { path: /n }, upstream: shop, upgrades: [] }
      - { name: named, match: { path: /x }, upstream: shop, upgrades: [WebSocket, Foo/2] }
      - { name: direct, match: { path: /p }, direct_response: { status: 200 } }
upstreams: [{ name: shop, endpoints: ["127.0.0.1:1"] }]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	rules := map[string]*Rule{}
	for _, r := range cfg.Table.fallback.Rules {
		rules[r.Name] = r
	}
	tests := []struct {
		route, protocol string
		want            bool
	}{
		{"default", "websocket", true},
		{"default", "WebSocket", true},
		{"default", "h2c", false},
		{"default", "foo", false},
		{"none", "websocket", false},
		{"named", "websocket", true},
		{"named", "foo/2", true},
		{"named", "foo", false},
		{"named", "h2c", false},
		{"direct", "websocket", false},
	}
	for _, tt := range tests {
		if got := rules[tt.route].AllowsUpgrade(tt.protocol); got != tt.want {
			t.Errorf("route %s allows %q: got %v, want %v", tt.route, tt.protocol, got, tt.want)
		}
	}
	if got := rules["named"].Upgrades; !slices.Equal(got, []string{"websocket", "foo/2"}) {
		t.Errorf("named upgrades: got %q, want lower case", got)
	}
}
