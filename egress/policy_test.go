package egress

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// loadPolicy loads a routes file made of a forward_proxy listener and the
// egress block given.
func loadPolicy(t testing.TB, egressYAML string) *Policy {
	t.Helper()
	reg, err := plugins.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(`
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }]
`+egressYAML), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cfg.Close() })
	return Compile(cfg.File.Egress)
}

const policyYAML = `
egress:
  default: deny
  rules:
    - name: no-admin
      action: deny
      to: { hosts: [api.example.com], ports: [80], path_prefixes: [/admin] }
    - name: payments-stripe
      from: { namespaces: [payments] }
      to: { hosts: [api.stripe.com, "*.stripe.com"], ports: [443] }
    - name: api-read
      to: { hosts: [api.example.com], ports: [80], methods: [GET, HEAD] }
    - name: db
      from: { principals: [cluster.local/ns/shop/sa/api] }
      to: { cidrs: [10.20.0.0/16], ports: [5432] }
    - name: office
      from: { source_cidrs: [192.0.2.0/24] }
      to: { hosts: [docs.example.org], ports: [443] }
    - name: canary
      mode: report
      from: { namespaces: [canary] }
      to: { hosts: [ok.example.net], ports: [443] }
    - name: shadow-deny
      action: deny
      mode: report
      to: { hosts: ["*.pay.stripe.com"], ports: [443] }
`

func TestDecide(t *testing.T) {
	pol := loadPolicy(t, policyYAML)
	payments := &plugins.Identity{Principal: "cluster.local/ns/payments/sa/pay", Namespace: "payments"}
	shop := &plugins.Identity{Principal: "cluster.local/ns/shop/sa/api", Namespace: "shop"}
	canary := &plugins.Identity{Principal: "cluster.local/ns/canary/sa/c", Namespace: "canary"}
	office := netip.MustParseAddr("192.0.2.7")
	other := netip.MustParseAddr("198.51.100.1")
	name := func(h string, port uint16) Destination { return Destination{Host: h, Port: port, Tunnel: true} }
	get := func(h, m, path string) Destination { return Destination{Host: h, Port: 80, Method: m, Path: path} }
	ip := func(a string, port uint16) Destination {
		return Destination{Addr: netip.MustParseAddr(a), Port: port, Tunnel: true}
	}
	for _, tt := range []struct {
		name    string
		id      *plugins.Identity
		addr    netip.Addr
		dest    Destination
		outcome string
		rule    string
	}{
		{"namespace allowed", payments, other, name("api.stripe.com", 443), Allow, "payments-stripe"},
		{"wildcard subdomain", payments, other, name("a.b.stripe.com", 443), Allow, "payments-stripe"},
		{"allowed, reported by a deny rule in report mode", payments, other, name("x.pay.stripe.com", 443), Report, "shadow-deny"},
		{"a deny rule in report mode alone denies nothing more", shop, other, name("x.pay.stripe.com", 443), Deny, DefaultRule},
		{"wildcard never covers a look-alike", payments, other, name("evil-stripe.com", 443), Deny, DefaultRule},
		{"wildcard never covers a suffix trick", payments, other, name("stripe.com.evil.net", 443), Deny, DefaultRule},
		{"wrong port", payments, other, name("api.stripe.com", 80), Deny, DefaultRule},
		{"other namespace", shop, other, name("api.stripe.com", 443), Deny, DefaultRule},
		{"no identity", nil, other, name("api.stripe.com", 443), Deny, DefaultRule},
		{"method allowed", nil, other, get("api.example.com", "GET", "/v1/x"), Allow, "api-read"},
		{"method refused", nil, other, get("api.example.com", "POST", "/v1/x"), Deny, DefaultRule},
		{"deny rule first", nil, other, get("api.example.com", "GET", "/admin/users"), Deny, "no-admin"},
		{"method rule never allows a tunnel, path deny rule denies it", nil, other, name("api.example.com", 80), Deny, "no-admin"},
		{"cidr by principal", shop, other, ip("10.20.3.4", 5432), Allow, "db"},
		{"ipv4-mapped literal is the ipv4 address", shop, other, ip("::ffff:10.20.3.4", 5432), Allow, "db"},
		{"cidr outside", shop, other, ip("10.21.0.1", 5432), Deny, DefaultRule},
		{"ip literal never matches a host rule", payments, other, ip("1.2.3.4", 443), Deny, DefaultRule},
		{"source cidr", nil, office, name("docs.example.org", 443), Allow, "office"},
		{"source cidr outside", nil, other, name("docs.example.org", 443), Deny, DefaultRule},
		{"report rule lets its callers pass", canary, other, name("elsewhere.example", 443), Report, "canary"},
		{"report rule allows what it names", canary, other, name("ok.example.net", 443), Allow, "canary"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := pol.Decide(Caller{Identity: tt.id, Addr: tt.addr}, tt.dest)
			if d.Outcome != tt.outcome || d.RuleName() != tt.rule {
				t.Errorf("got %s by %s, want %s by %s", d.Outcome, d.RuleName(), tt.outcome, tt.rule)
			}
		})
	}
}

func TestDecideWithoutEgressBlockDenies(t *testing.T) {
	pol := loadPolicy(t, "")
	if d := pol.Decide(Caller{}, Destination{Host: "example.com", Port: 443}); d.Allowed() {
		t.Errorf("got %s, want deny", d.Outcome)
	}
}

func TestChecksSNI(t *testing.T) {
	pol := loadPolicy(t, `
egress:
  rules:
    - { name: strict, to: { hosts: [a.example], ports: [443, 8443] } }
    - { name: any, to: { hosts: [b.example], ports: [443] }, tls: any }
    - { name: ports, to: { hosts: [c.example], ports: [8443] }, tls_ports: [8443] }
`)
	for _, tt := range []struct {
		host string
		port uint16
		want bool
	}{
		{"a.example", 443, true},
		{"a.example", 8443, false},
		{"b.example", 443, false},
		{"c.example", 8443, true},
	} {
		d := Destination{Host: tt.host, Port: tt.port, Tunnel: true}
		dec := pol.Decide(Caller{}, d)
		if got := dec.Via.ChecksSNI(d); got != tt.want {
			t.Errorf("%s:%d: got %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
}

// TestDenyRuleForRequestsCoversTunnels: a tunnel hides the requests it
// carries, so a deny rule that names methods or paths denies a tunnel to
// its hosts and ports, as Istio's DENY drops its HTTP-only fields on TCP;
// otherwise CONNECT api.example.com:80 would carry GET /admin past it.
func TestDenyRuleForRequestsCoversTunnels(t *testing.T) {
	pol := loadPolicy(t, `
egress:
  rules:
    - { name: no-admin, action: deny, to: { hosts: [api.example.com], ports: [80], path_prefixes: [/admin] } }
    - { name: no-delete, action: deny, mode: report, to: { hosts: [b.example.com], ports: [80], methods: [DELETE] } }
    - { name: api, to: { hosts: [api.example.com, b.example.com], ports: [80, 8080] } }
`)
	for _, tt := range []struct {
		name    string
		dest    Destination
		outcome string
		rule    string
	}{
		{"tunnel to a port a path deny rule covers", Destination{Host: "api.example.com", Port: 80, Tunnel: true}, Deny, "no-admin"},
		{"tunnel to a port it does not cover", Destination{Host: "api.example.com", Port: 8080, Tunnel: true}, Allow, "api"},
		{"request outside the denied paths", Destination{Host: "api.example.com", Port: 80, Method: "GET", Path: "/v1"}, Allow, "api"},
		{"request inside them", Destination{Host: "api.example.com", Port: 80, Method: "GET", Path: "/admin/x"}, Deny, "no-admin"},
		{"tunnel under a method deny rule in report mode", Destination{Host: "b.example.com", Port: 80, Tunnel: true}, Report, "no-delete"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := pol.Decide(Caller{}, tt.dest)
			if d.Outcome != tt.outcome || d.RuleName() != tt.rule {
				t.Errorf("got %s by %s, want %s by %s", d.Outcome, d.RuleName(), tt.outcome, tt.rule)
			}
		})
	}
}
