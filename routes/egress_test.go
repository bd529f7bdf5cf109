package routes

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestEgressDefaultsAndCanonicalHosts(t *testing.T) {
	cfg, _, _, err := loadFixture(t, filepath.Join("testdata/good", "egress.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	e := cfg.File.Egress
	if got, want := e.Rules[0].To.Hosts, []string{"api.stripe.com", "*.stripe.com"}; !slices.Equal(got, want) {
		t.Errorf("got hosts %q, want %q", got, want)
	}
	if got, want := e.Rules[2].To.Hosts, []string{"xn--bcher-kva.example"}; !slices.Equal(got, want) {
		t.Errorf("got hosts %q, want %q", got, want)
	}
	for _, tt := range []struct {
		name, got, want string
	}{
		{"host rule tls", e.Rules[0].TLS, "sni_must_match"},
		{"cidr rule tls", e.Rules[3].TLS, "any"},
		{"action", e.Rules[0].Action, "allow"},
		{"mode", e.Rules[0].Mode, "enforce"},
		{"report", e.Rules[2].Mode, "report"},
		{"listener kind", cfg.File.Listeners[0].Kind, "forward_proxy"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if got := e.Rules[0].TLSPorts; !slices.Equal(got, []int{443}) {
		t.Errorf("got tls_ports %v, want [443]", got)
	}
	l := e.Limits
	if l.ConnectTimeout != Duration(2*time.Second) || l.IdleTimeout != Duration(5*time.Minute) || l.MaxTunnelLifetime != Duration(time.Hour) {
		t.Errorf("got timeouts %v %v %v, want 2s 5m 1h", l.ConnectTimeout, l.IdleTimeout, l.MaxTunnelLifetime)
	}
	if got, want := l.PerCaller, (TunnelLimits{MaxTunnels: 10, PerSecond: 5, Burst: 10}); got != want {
		t.Errorf("got per_caller %+v, want %+v", got, want)
	}
	if got, want := l.PerDestination, (TunnelLimits{MaxTunnels: 1024}); got != want {
		t.Errorf("got per_destination %+v, want %+v", got, want)
	}
	if !filepath.IsAbs(e.Rules[4].OriginateTLS.CAFile) {
		t.Errorf("got ca_file %q, want it resolved against the file's directory", e.Rules[4].OriginateTLS.CAFile)
	}
	// The watcher reloads the routes file when the CA file changes.
	if files := cfg.Files(); !slices.Contains(files, e.Rules[4].OriginateTLS.CAFile) {
		t.Errorf("Files() %q lacks the ca_file of originate_tls %q", files, e.Rules[4].OriginateTLS.CAFile)
	}
}

func TestCanonicalName(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "" means refused
	}{
		{"Example.COM.", "example.com"},
		{"bücher.de", "xn--bcher-kva.de"},
		{"xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"ＥＸＡＭＰＬＥ.com", "example.com"},
		{"api.example.com", "api.example.com"},
		{"", ""},
		{".", ""},
		{"a..b", ""},
		{"-a.com", ""},
		{"a-.com", ""},
		{"a_b.com", ""},
		{"ex ample.com", ""},
		{"127.1", ""},
		{"2130706433", ""},
		{"0x7f.1", ""},
		{"a.0x7f", ""},
		{"0177.0.0.1", ""},
		{"1.2.3.4", ""},
		{"1.2.3.4.", ""},
		{"[::1]", ""},
		{"::ffff:127.0.0.1", ""},
		{"fe80::1%eth0", ""},
		{"*.x.com", ""},
		{"a.com:443", ""},
		{"user@a.com", ""},
		{"a%2e.com", ""},
		{"a/b.com", ""},
		{"a\\b.com", ""},
		{"xn--a.com", ""},
		{"a\x00.com", ""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := CanonicalName(tt.in)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("got %q, want an error", got)
			case tt.want != "" && (err != nil || got != tt.want):
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.de", "127.1", "0x7f.1", "[::1]", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalName(s)
		if err != nil {
			return
		}
		// The canonical form is its own canonical form, and never an
		// address.
		if again, err := CanonicalName(c); err != nil || again != c {
			t.Fatalf("%q -> %q -> %q, %v", s, c, again, err)
		}
	})
}
