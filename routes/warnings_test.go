package routes

import (
	"strings"
	"testing"
)

func TestWarningsAdminAddress(t *testing.T) {
	tests := []struct {
		addr string
		warn bool
	}{
		{"", false}, // the default, 127.0.0.1:9901
		{"127.0.0.1:0", false},
		{"127.9.9.9:9901", false},
		{"localhost:9901", false},
		{"[::1]:9901", false},
		{"[::ffff:127.0.0.1]:9901", false},
		{"off", false},
		{":9901", true},
		{"0.0.0.0:9901", true},
		{"[::]:9901", true},
		{"10.0.0.7:9901", true},
		{"[fd00::1]:9901", true},
		{"192.168.1.1:0", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			src := "admin: { address: \"" + tt.addr + "\" }\nlisteners: [ { name: web, address: \"127.0.0.1:0\" } ]\n"
			cfg, err := Parse("routes.yaml", []byte(src), nil)
			if err != nil {
				t.Fatalf("got %v, want the file to load", err)
			}
			defer cfg.Close()
			ws := cfg.Warnings()
			if got := len(ws) == 1 && strings.Contains(ws[0], "is not a loopback address") &&
				strings.Contains(ws[0], "/debug/pprof"); got != tt.warn || len(ws) > 1 {
				t.Errorf("got warnings %q, want a loopback warning: %v", ws, tt.warn)
			}
		})
	}
}

func TestWarningsEgress(t *testing.T) {
	const plain = `{ name: egress, address: "127.0.0.1:0", kind: forward_proxy }`
	for _, tt := range []struct {
		name, listener, egress, want string
	}{
		{"no rules", plain, "", "refuses every destination"},
		{"empty rules", plain, "egress: { rules: [] }", "refuses every destination"},
		{"identity rules, no client_auth", plain,
			"egress: { rules: [{ name: pay, from: { namespaces: [payments] }, to: { hosts: [a.example], ports: [443] } }] }", `egress rule "pay" names principals`},
		{"address rules", plain,
			"egress: { rules: [{ name: office, from: { source_cidrs: [10.0.0.0/8] }, to: { hosts: [a.example], ports: [443] } }] }", ""},
		{"no forward proxy", `{ name: web, address: "127.0.0.1:0" }`, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "admin: { address: off }\nlisteners: [ " + tt.listener + " ]\n" + tt.egress + "\n"
			cfg, err := Parse("routes.yaml", []byte(src), nil)
			if err != nil {
				t.Fatalf("got %v, want the file to load", err)
			}
			defer cfg.Close()
			ws := cfg.Warnings()
			switch {
			case tt.want == "" && len(ws) > 0:
				t.Errorf("got warnings %q, want none", ws)
			case tt.want != "" && (len(ws) != 1 || !strings.Contains(ws[0], tt.want)):
				t.Errorf("got warnings %q, want one with %q", ws, tt.want)
			}
		})
	}
}
