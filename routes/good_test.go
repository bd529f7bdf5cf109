package routes

import (
	"net/http"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestGoodFiles loads every testdata/good file and checks its summary; the
// tests below look into the compiled result of each.
func TestGoodFiles(t *testing.T) {
	tests := []struct {
		file, summary string
	}{
		{"minimal.yaml", "minimal.yaml: ok: 1 listener, 1 virtual host, 1 route, 1 upstream, 0 plugins"},
		{"full.yaml", "full.yaml: ok: 3 listeners, 2 virtual hosts, 4 routes, 2 upstreams, 6 plugins"},
		{"upstreams.yaml", "upstreams.yaml: ok: 1 listener, 1 virtual host, 3 routes, 3 upstreams, 0 plugins"},
		{"identity.yaml", "identity.yaml: ok: 2 listeners, 1 virtual host, 1 route, 1 upstream, 0 plugins"},
		{"egress.yaml", "egress.yaml: ok: 2 listeners, 0 virtual hosts, 0 routes, 0 upstreams, 0 plugins, 5 egress rules"},
	}
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Fatalf("got %d good files, want %d: give each new file a case here", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, tr, dir, err := loadFixture(t, filepath.Join("testdata/good", tt.file))
			if err != nil {
				t.Fatalf("got error:\n%v", err)
			}
			if got, want := cfg.Summary(), filepath.Join(dir, tt.summary); got != want {
				t.Errorf("got summary %q, want %q", got, want)
			}
			if err := cfg.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
			tr.checkClosed(t, 1)
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, _, _, err := loadFixture(t, "testdata/good/minimal.yaml")
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	f := cfg.File
	up := cfg.Upstreams["echo"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"admin.address", f.Admin.Address, "127.0.0.1:9901"},
		{"access_log.format", f.AccessLog.Format, "envoy"},
		{"access_log.path", f.AccessLog.Path, "stdout"},
		{"escaped_slashes", f.Paths.EscapedSlashes, "keep"},
		{"protocols without tls", f.Listeners[0].Protocols, []string{"http1"}},
		{"limits", f.Listeners[0].Limits, Limits{
			MaxHeaderBytes:       64 << 10,
			MaxHeaders:           100,
			ReadHeaderTimeout:    Duration(10 * time.Second),
			IdleTimeout:          Duration(60 * time.Second),
			MaxConcurrentStreams: 250,
			WriteTimeout:         Duration(30 * time.Second),
		}},
		{"balancer", up.Balancer, "round_robin"},
		{"protocol", up.Protocol, "http1"},
		{"connect_timeout", up.ConnectTimeout, Duration(5 * time.Second)},
		{"timeout", up.Timeout, Duration(30 * time.Second)},
		{"max_idle_per_endpoint", up.MaxIdlePerHost, 256},
		{"idle_timeout", up.IdleTimeout, Duration(90 * time.Second)},
		{"route name", f.VirtualHosts[0].Routes[0].Name, "default-0"},
		{"trusted proxies", len(cfg.TrustedProxies), 0},
		{"server_header", f.ServerHeader, ServerHeader{Value: "portcullis", Transformation: "overwrite"}},
		{"listener server_header", f.Listeners[0].ServerHeader, ServerHeader{Value: "portcullis", Transformation: "overwrite"}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	rule, host := cfg.Table.Match("anything.example:8080", "/x", http.MethodGet, nil)
	if rule == nil || host == nil {
		t.Fatalf("got no rule for any host, want the default route")
	}
	if rule.Upstream != up || rule.Host != host || rule.Name != "default-0" || rule.Chain.Len() != 0 {
		t.Errorf("got rule %+v, want default-0 to upstream echo with an empty chain", rule)
	}
}

func TestFullFile(t *testing.T) {
	cfg, _, dir, err := loadFixture(t, "testdata/good/full.yaml")
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	f := cfg.File
	shop := cfg.Upstreams["shop-api"]
	checks := []struct {
		name      string
		got, want any
	}{
		{"relative cert", f.Listeners[0].TLS.Certificates[0].Cert, filepath.Join(dir, "tls/edge.crt")},
		{"relative key", f.Listeners[0].TLS.Certificates[0].Key, filepath.Join(dir, "tls/edge.key")},
		{"relative ca_file", shop.TLS.CAFile, filepath.Join(dir, "ca.pem")},
		{"relative access log", f.AccessLog.Path, filepath.Join(dir, "logs/access.log")},
		{"written protocols", f.Listeners[0].Protocols, []string{"http1", "http2", "http3"}},
		{"protocols with tls", f.Listeners[2].Protocols, []string{"http1", "http2"}},
		{"min_version default", f.Listeners[2].TLS.MinVersion, "1.2"},
		{"written limit", f.Listeners[0].Limits.MaxHeaderBytes, Size(32 << 10)},
		{"limit default beside written ones", f.Listeners[0].Limits.MaxConcurrentStreams, 250},
		{"merged connect_timeout", shop.ConnectTimeout, Duration(2 * time.Second)},
		{"merged max_idle", shop.MaxIdlePerHost, 32},
		{"protocol over merge", shop.Protocol, "http2"},
		{"trusted proxies", cfg.TrustedProxies, []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("192.168.1.7/32"),
			netip.MustParsePrefix("2001:db8::/32"),
		}},
		{"redirect code", f.VirtualHosts[0].Routes[1].Redirect.Code, 308},
		{"unnamed route", f.VirtualHosts[0].Routes[2].Name, "shop-2"},
		{"server_header", f.ServerHeader, ServerHeader{Value: "istio-envoy", Transformation: "overwrite"}},
		{"listener server_header inherited", f.Listeners[0].ServerHeader, ServerHeader{Value: "istio-envoy", Transformation: "overwrite"}},
		{"listener server_header merged", f.Listeners[1].ServerHeader, ServerHeader{Value: "istio-envoy", Transformation: "pass_through"}},
		{"listener server_header written", f.Listeners[2].ServerHeader, ServerHeader{Value: "edge", Transformation: "append_if_absent"}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	h := http.Header{}
	rule, _ := cfg.Table.Match("a.shop.example.com", "/api/orders", http.MethodPost, h)
	if rule == nil || rule.Name != "api" {
		t.Fatalf("got rule %v, want api", rule)
	}
	if rule.Upstream != shop || rule.PrefixRewrite != "/" || rule.HostRewrite != "api.internal" || rule.Timeout != 15*time.Second {
		t.Errorf("got rule %+v, want api's upstream, rewrites and timeout", rule)
	}
	if rule, _ := cfg.Table.Match("other.example.org", "/", http.MethodGet, nil); rule == nil || rule.Name != "everything" {
		t.Errorf("got rule %v for another host, want everything", rule)
	}
}

// TestChains checks the chain order by plugins.Rank whatever the file's
// order, a route's entry replacing the virtual host's, and one handler per
// route.
func TestChains(t *testing.T) {
	cfg, _, _, err := loadFixture(t, "testdata/good/full.yaml")
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	rules := map[string]*Rule{}
	for _, host := range []string{"shop.example.com", "x.example.org"} {
		h := cfg.Table.host(host)
		for _, r := range h.Rules {
			rules[r.Name] = r
		}
	}
	tests := []struct {
		route     string
		names     []string
		perSecond int
	}{
		{"api", []string{"jwt", "authz", "rate_limit", "headers", "kitchen"}, 100},
		{"shop-1", []string{"jwt", "rate_limit", "headers"}, 10},
		{"shop-2", []string{"jwt", "rate_limit", "headers"}, 10},
		{"everything", []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			r := rules[tt.route]
			if r == nil {
				t.Fatalf("got no rule %q", tt.route)
			}
			if got := r.Chain.Names; !slices.Equal(got, tt.names) {
				t.Errorf("got chain %v, want %v", got, tt.names)
			}
			for i, name := range r.Chain.Names {
				if name != "rate_limit" {
					continue
				}
				got := r.Chain.Handlers[i].(*handler).cfg.(*rateLimitConfig)
				if got.PerSecond != tt.perSecond || got.Burst != 0 && tt.route == "api" {
					t.Errorf("got rate_limit %+v, want per_second %d (and no burst from the host on api)", got, tt.perSecond)
				}
			}
		})
	}
	jwtOf := func(r *Rule) any { return r.Chain.Handlers[slices.Index(r.Chain.Names, "jwt")] }
	if jwtOf(rules["api"]) == jwtOf(rules["shop-1"]) {
		t.Errorf("got one jwt handler shared by two routes, want one each")
	}
}
