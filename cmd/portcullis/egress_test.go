package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/egress"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

func TestEgressCheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(file, []byte(`
admin: { address: off }
listeners: [{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }]
egress:
  rules:
    - name: stripe
      from: { namespaces: [payments] }
      to: { hosts: [api.stripe.com], ports: [443] }
    - name: db
      from: { source_cidrs: [10.0.0.0/8] }
      to: { hosts: [db.internal.example], cidrs: [10.20.0.0/16], ports: [5432] }
    - name: read
      to: { hosts: [docs.example.org], ports: [80], methods: [GET] }
    - name: no-one-net
      action: deny
      to: { cidrs: [1.1.1.0/24], ports: [443] }
    - name: shadow-one
      action: deny
      mode: report
      to: { cidrs: [1.0.0.0/24], ports: [443] }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"allowed by namespace", []string{"--principal", "cluster.local/ns/payments/sa/pay", "--resolve", "93.184.215.14", "API.Stripe.com.:443"}, 0,
			[]string{"destination: api.stripe.com:443", `decision: allow by rule "stripe"`, "must open with a TLS ClientHello for api.stripe.com", "address 93.184.215.14 allowed: public"}},
		{"allowed, but the name resolves inside", []string{"--principal", "cluster.local/ns/payments/sa/pay", "--resolve", "93.184.215.14", "--resolve", "169.254.169.254", "api.stripe.com:443"}, 1,
			[]string{`decision: allow by rule "stripe"`, "address 169.254.169.254 refused: link_local address in 169.254.0.0/16"}},
		{"allowed, but the name resolves into a denied range", []string{"--principal", "cluster.local/ns/payments/sa/pay", "--resolve", "1.1.1.7", "api.stripe.com:443"}, 1,
			[]string{`decision: allow by rule "stripe"`, `address 1.1.1.7 refused: in a range rule "no-one-net" denies`}},
		{"allowed, and reported for a range a deny rule in report mode names", []string{"--principal", "cluster.local/ns/payments/sa/pay", "--resolve", "1.0.0.7", "api.stripe.com:443"}, 0,
			[]string{`address 1.0.0.7 allowed: public, reported: in a range rule "shadow-one" would deny`}},
		{"denied", []string{"--principal", "cluster.local/ns/shop/sa/api", "api.stripe.com:443"}, 1,
			[]string{"decision: deny (no rule allows it)"}},
		{"a range the rule names", []string{"--from", "10.1.2.3", "--resolve", "10.20.0.5", "db.internal.example:5432"}, 0,
			[]string{"address 10.20.0.5 allowed: private allowed by 10.20.0.0/16"}},
		{"loopback outside the range", []string{"--from", "10.1.2.3", "--resolve", "127.0.0.1", "db.internal.example:5432"}, 1,
			[]string{"address 127.0.0.1 refused: loopback"}},
		{"a plain request's method", []string{"--method", "POST", "--path", "/x", "docs.example.org:80"}, 1,
			[]string{"decision: deny"}},
		{"a plain request", []string{"--method", "GET", "--path", "/x", "--resolve", "93.184.215.14", "docs.example.org:80"}, 0,
			[]string{`decision: allow by rule "read"`}},
		{"an odd spelling, read as the address it is", []string{"127.1:443"}, 1, []string{"destination: 127.0.0.1:443", "decision: deny"}},
		{"a spelling readers disagree on", []string{"0177.0.0.1:443"}, 2, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"egress", "check", "--config", file}, tt.args...), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("got exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("got:\n%s\nwant a line with %q", stdout.String(), w)
				}
			}
		})
	}
}

// TestReadmeEgressExample loads the egress example the README shows and
// asks it what the README says of it.
func TestReadmeEgressExample(t *testing.T) {
	reg, _ := registry(waf.New(waf.Options{}), authz.New(nil))
	cfg, err := routes.Parse("README.md", readmeYAML(t, "egress-example"), reg)
	if err != nil {
		t.Fatalf("README egress example: %v", err)
	}
	defer cfg.Close()
	pol := egress.Compile(cfg.File.Egress)
	payments := egress.Caller{Identity: &plugins.Identity{Principal: "cluster.local/ns/payments/sa/pay", Namespace: "payments"}}
	for _, tt := range []struct {
		caller egress.Caller
		dest   egress.Destination
		want   string
	}{
		{payments, egress.Destination{Host: "api.stripe.com", Port: 443, Tunnel: true}, egress.Allow},
		{payments, egress.Destination{Host: "stripe.com", Port: 443, Tunnel: true}, egress.Deny},
		{egress.Caller{}, egress.Destination{Host: "api.example.com", Port: 80, Method: "GET", Path: "/admin/x"}, egress.Deny},
		{egress.Caller{Addr: netip.MustParseAddr("10.1.0.7")}, egress.Destination{Host: "elsewhere.example", Port: 443, Tunnel: true}, egress.Report},
	} {
		if got := pol.Decide(tt.caller, tt.dest); got.Outcome != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.dest, got.Outcome, tt.want)
		}
	}
	if l := cfg.File.Egress.Limits; l.PerCaller.MaxTunnels != 256 || l.PerDestination.MaxTunnels != 1024 {
		t.Errorf("got limits %+v, want the defaults the README writes", l)
	}
}
